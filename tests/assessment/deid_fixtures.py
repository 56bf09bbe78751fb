"""A small, realistic deid assignment: admissions of a Casablanca hospital (made-up patients).

To build SPEC in a browser: upload COURSE_FILES["admissions_casablanca.csv"] on the course's Files
page, open "Add an assignment" > de-identification, choose the file in "Course CSV file"
(deid-source_file) and press "Load the file" (builder_action=pick); set the roles
(deid-role-0..6): NOM and CIN "Direct identifier", AGE, SEXE and CODE_POSTAL "Quasi-identifier",
DIAGNOSTIC "Sensitive attribute", SERVICE "Other"; k = 3 (deid-k), l = 2 (deid-l),
Information-loss budget = 0.5 (deid-max_loss), Learners submit = "a table (CSV) or code"
(deid-answer_mode=either), Function name = release (deid-entrypoint), paste REFERENCE_RELEASE in
"Reference release (CSV)" (deid-reference_release) and REFERENCE_SOLUTION in "Reference solution
(Python)" (deid-reference_solution)."""

TABLE = """NOM,CIN,AGE,SEXE,CODE_POSTAL,SERVICE,DIAGNOSTIC
Amina Benali,BE123456,34,F,20250,Cardiologie,Hypertension
Youssef Alaoui,BH234567,37,M,20250,Cardiologie,Diabète
Khadija Tazi,BK345678,31,F,20230,Cardiologie,Asthme
Omar Idrissi,BJ456789,45,M,20100,Pneumologie,Asthme
Salma Chraibi,BL567890,48,F,20130,Pneumologie,Hypertension
Mehdi Fassi,BE678901,42,M,20150,Pneumologie,Diabète
Nadia Berrada,BH789012,63,F,20400,Médecine interne,Diabète
Rachid Amrani,BK890123,67,M,20470,Médecine interne,Hypertension
Leila Kettani,BJ901234,61,F,20410,Médecine interne,Insuffisance rénale
"""

REFERENCE_RELEASE = """AGE,SEXE,CODE_POSTAL,DIAGNOSTIC
30-39,*,202**,Hypertension
30-39,*,202**,Diabète
30-39,*,202**,Asthme
40-49,*,201**,Asthme
40-49,*,201**,Hypertension
40-49,*,201**,Diabète
60-69,*,204**,Diabète
60-69,*,204**,Hypertension
60-69,*,204**,Insuffisance rénale
"""

REFERENCE_SOLUTION = """def release(df):
    out = df.drop(columns=["NOM", "CIN", "SERVICE"])
    low = out["AGE"] // 10 * 10
    out["AGE"] = low.astype(str) + "-" + (low + 9).astype(str)
    out["SEXE"] = "*"
    out["CODE_POSTAL"] = out["CODE_POSTAL"].astype(str).str[:3] + "**"
    return out
"""

SPEC = {
    "table": TABLE,
    "direct_identifiers": ["NOM", "CIN"],
    "quasi_identifiers": ["AGE", "SEXE", "CODE_POSTAL"],
    "sensitive": "DIAGNOSTIC",
    "k": 3,
    "l": 2,
    "max_loss": 0.5,
    "answer_mode": "either",
    "entrypoint": "release",
    "reference_release": REFERENCE_RELEASE,
    "reference_solution": REFERENCE_SOLUTION,
}

RIGHT_ANSWER = {"csv": REFERENCE_RELEASE}

# The identifiers dropped, nothing generalized: every class has one row (k = 1).
WRONG_ANSWER = {
    "csv": "\n".join(",".join(line.split(",")[2:5] + [line.split(",")[6]]) for line in TABLE.strip().splitlines())
    + "\n"
}

COURSE_FILES = {"admissions_casablanca.csv": TABLE.encode("utf-8")}

# The same release made by code, run in the sandbox (the bench's code case).
RIGHT_CODE_ANSWER = {"code": REFERENCE_SOLUTION}

"""A realistic SQL assignment for the lead's browser journey, page list and bench: admissions of a
Casablanca hospital (CHU Ibn Rochd), two tables, and a hidden variant with other rows.

To build SPEC in a browser (studio, "Add an assignment" > SQL), with COURSE_FILES uploaded on the
course's Files page:
- prompt (settings form, "Statement"/prompt_markdown): any text, e.g. PROMPT below;
- "Course files for the public dataset" (ds_files): tick admissions.csv and patients.csv;
- "Course files for the hidden dataset" (hd_files): tick admissions_hidden.csv and patients_hidden.csv;
- "Reference query" (reference_query): REFERENCE_QUERY;
- "Tolerance for floats" (tolerance): 0.01;
- "Starter query" (starter_query): STARTER_QUERY;
- leave "The order of the rows matters" and "Column names must match" unticked;
then "Check against the reference" (builder_action=check) shows 3 rows, and Save."""

PROMPT = (
    "Pour chaque service, donnez le nombre d'admissions et la durée moyenne de séjour (en jours, "
    "arrondie à deux décimales)."
)

PATIENTS = (
    "id,sexe,age,ville\n1,F,54,Casablanca\n2,M,67,Mohammedia\n3,F,31,Casablanca\n4,M,45,Berrechid\n5,F,72,Casablanca\n"
)
ADMISSIONS = (
    "id,patient_id,service,date_entree,duree_sejour\n"
    "101,1,Cardiologie,2026-01-04,3\n"
    "102,2,Cardiologie,2026-01-09,6\n"
    "103,3,Maternite,2026-01-11,2\n"
    "104,4,Urgences,2026-01-12,1\n"
    "105,5,Cardiologie,2026-02-01,4\n"
    "106,3,Maternite,2026-02-15,3\n"
)
PATIENTS_HIDDEN = "id,sexe,age,ville\n1,M,38,Casablanca\n2,F,81,Settat\n3,F,26,Casablanca\n"
ADMISSIONS_HIDDEN = (
    "id,patient_id,service,date_entree,duree_sejour\n"
    "201,1,Urgences,2026-03-02,1\n"
    "202,2,Pneumologie,2026-03-05,9\n"
    "203,3,Maternite,2026-03-07,4\n"
    "204,2,Pneumologie,2026-04-01,5\n"
)
REFERENCE_QUERY = (
    "SELECT service, COUNT(*) AS admissions, ROUND(AVG(duree_sejour), 2) AS duree_moyenne\n"
    "FROM admissions\nGROUP BY service"
)
STARTER_QUERY = "SELECT service\nFROM admissions\n"

SPEC = {
    "dataset": {"tables": [{"name": "admissions", "csv": ADMISSIONS}, {"name": "patients", "csv": PATIENTS}]},
    "hidden_dataset": {
        "tables": [{"name": "admissions", "csv": ADMISSIONS_HIDDEN}, {"name": "patients", "csv": PATIENTS_HIDDEN}]
    },
    "reference_query": REFERENCE_QUERY,
    "tolerance": 0.01,
    "starter_query": STARTER_QUERY,
}

# Other column names, other order, AVG unrounded: right (names and order do not matter here).
RIGHT_ANSWER = {
    "query": "select service as s, count(id) as nb, avg(duree_sejour) from admissions group by service order by nb desc"
}
# Counts the long stays only: wrong on both datasets.
WRONG_ANSWER = {
    "query": "SELECT service, COUNT(*), AVG(duree_sejour) FROM admissions WHERE duree_sejour > 2 GROUP BY service"
}
# The public rows written out: right on the public dataset, wrong on the hidden one.
HARD_CODED_ANSWER = {
    "query": "SELECT 'Cardiologie', 3, 4.33 UNION ALL SELECT 'Maternite', 2, 2.5 UNION ALL SELECT 'Urgences', 1, 1.0"
}

COURSE_FILES: dict[str, bytes] = {
    "admissions.csv": ADMISSIONS.encode(),
    "patients.csv": PATIENTS.encode(),
    "admissions_hidden.csv": ADMISSIONS_HIDDEN.encode(),
    "patients_hidden.csv": PATIENTS_HIDDEN.encode(),
}

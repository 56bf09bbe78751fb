"""The data-governance track's synthetic extracts (gov-101, gov-102). Every row is generated from
a fixed seed or written out below; names are invented, identifiers are marked SYN (synthetic),
nothing comes from a real patient. The quality defects are placed on purpose, at fixed rows, so
the lessons can count them."""

import random

FIRST = ["Amina", "Youssef", "Khadija", "Omar", "Salma", "Mehdi", "Nadia", "Rachid", "Leila", "Hamza",
         "Imane", "Karim", "Sanae", "Tarik", "Hind", "Anas", "Meryem", "Driss", "Zineb", "Ayoub"]  # fmt: skip
LAST = ["Bennani-Syn", "Alami-Syn", "Tahiri-Syn", "Idrissi-Syn", "Chraibi-Syn", "Fassi-Syn", "Berrada-Syn",
        "Amrani-Syn", "Kettani-Syn", "Saidi-Syn", "Ouazzani-Syn", "Lahlou-Syn"]  # fmt: skip


def _csv(header, rows) -> bytes:
    """Plain CSV: numbers, codes and words with no comma, quote or leading formula sign."""
    return "".join(",".join(str(v) for v in row) + "\n" for row in [header, *rows]).encode()


# --- gov-101: stays of a regional hospital, with defects ------------------------------------------

SERVICES = ["cardiologie", "pediatrie", "medecine-interne", "chirurgie", "maternite"]
DIAGS = {
    "cardiologie": ["I10", "I50.0", "I21.9", "I48"],
    "pediatrie": ["J18.9", "A09", "J45.9", "E10.9"],
    "medecine-interne": ["E11.9", "N18.3", "I10", "D50.9"],
    "chirurgie": ["K35.8", "K80.2", "S72.0", "K40.9"],
    "maternite": ["O80", "O82", "O24.4", "O13"],
}


def _stays() -> list[list]:
    rng = random.Random(1430)
    rows = []
    for i in range(1, 49):
        service = SERVICES[(i - 1) % 5]
        if service == "pediatrie":
            birth = rng.randint(2012, 2023)
        elif service == "maternite":
            birth = rng.randint(1986, 2004)
        else:
            birth = rng.randint(1940, 1995)
        sex = "F" if service == "maternite" else rng.choice("FM")
        day = rng.randint(1, 20)
        length = rng.randint(1, 9)
        weight = 8 + 2 * (2024 - birth) + rng.randint(0, 4) if service == "pediatrie" else rng.randint(52, 98)
        rows.append([f"S24-{i:04d}", f"SYN-IPP-{rng.randint(10000, 99999)}", f"2024-03-{day:02d}",
                     f"2024-03-{day + length:02d}", sex, birth, service, rng.choice(DIAGS[service]),
                     weight, "domicile"])  # fmt: skip
    # Defects, at fixed rows (0-based): missing principal diagnosis, missing weight,
    # discharge before admission, invalid sex, malformed ICD-10 codes, a weight typed without
    # its decimal point, two patients still in hospital (no discharge yet: not a defect).
    for r in (3, 11, 19, 30, 41):
        rows[r][7] = ""
    for r in (2, 8, 15, 22, 27, 36, 44):
        rows[r][8] = ""
    for r in (6, 33):
        rows[r][3] = "2024-02-" + rows[r][3][-2:]
    rows[25][4] = "X"
    rows[13][7] = "I1O"
    rows[38][7] = "diabete"
    rows[17][8] = 720
    for r in (46, 47):
        rows[r][3] = ""
        rows[r][9] = "present"
    # A stay exported twice (the same line), and one patient with two IPPs is not visible here.
    rows.insert(21, list(rows[20]))
    rows.insert(40, list(rows[39]))
    return rows


STAYS_HEADER = ["sejour_id", "ipp", "date_entree", "date_sortie", "sexe", "annee_naissance", "service",
                "diag_principal", "poids_kg", "mode_sortie"]  # fmt: skip

# gov-101 de-identification exercise: emergency admissions (12 rows), embedded in the assignment.
URGENCES = [
    ["Amina Bennani-Syn", "SYN-CIN-10001", 34, "F", "23000", "Asthme"],
    ["Youssef Alami-Syn", "SYN-CIN-10002", 37, "M", "23020", "Hypertension"],
    ["Khadija Tahiri-Syn", "SYN-CIN-10003", 31, "F", "23040", "Diabete"],
    ["Omar Idrissi-Syn", "SYN-CIN-10004", 45, "M", "23000", "Asthme"],
    ["Salma Chraibi-Syn", "SYN-CIN-10005", 48, "F", "23050", "Diabete"],
    ["Mehdi Fassi-Syn", "SYN-CIN-10006", 42, "M", "23030", "Fracture"],
    ["Nadia Berrada-Syn", "SYN-CIN-10007", 63, "F", "25000", "Hypertension"],
    ["Rachid Amrani-Syn", "SYN-CIN-10008", 67, "M", "25020", "Diabete"],
    ["Leila Kettani-Syn", "SYN-CIN-10009", 61, "F", "25010", "Insuffisance cardiaque"],
    ["Hamza Saidi-Syn", "SYN-CIN-10010", 36, "M", "23010", "Fracture"],
    ["Imane Lahlou-Syn", "SYN-CIN-10011", 44, "F", "23060", "Hypertension"],
    ["Karim Ouazzani-Syn", "SYN-CIN-10012", 69, "M", "25030", "Asthme"],
]
URGENCES_HEADER = ["nom", "cin", "age", "sexe", "code_postal", "diagnostic"]

# gov-101 de-identification assignment: consultations of an urban health centre (15 rows).
CONSULTATIONS = [
    ["Zineb Saidi-Syn", "SYN-CIN-30001", 24, "F", "24000", "Anemie"],
    ["Meryem Alami-Syn", "SYN-CIN-30002", 31, "F", "24010", "Grossesse"],
    ["Sanae Lahlou-Syn", "SYN-CIN-30003", 38, "F", "24020", "Asthme"],
    ["Ayoub Tahiri-Syn", "SYN-CIN-30004", 22, "M", "24000", "Asthme"],
    ["Anas Berrada-Syn", "SYN-CIN-30005", 29, "M", "24030", "Tuberculose"],
    ["Driss Fassi-Syn", "SYN-CIN-30006", 35, "M", "24010", "Asthme"],
    ["Hind Kettani-Syn", "SYN-CIN-30007", 44, "F", "24100", "Diabete"],
    ["Imane Chraibi-Syn", "SYN-CIN-30008", 51, "F", "24110", "Hypertension"],
    ["Nadia Amrani-Syn", "SYN-CIN-30009", 57, "F", "24120", "Diabete"],
    ["Karim Bennani-Syn", "SYN-CIN-30010", 41, "M", "24100", "Hypertension"],
    ["Tarik Ouazzani-Syn", "SYN-CIN-30011", 49, "M", "24130", "Diabete"],
    ["Hamza Idrissi-Syn", "SYN-CIN-30012", 58, "M", "24110", "Tuberculose"],
    ["Salma Fassi-Syn", "SYN-CIN-30013", 63, "F", "24100", "Hypertension"],
    ["Omar Saidi-Syn", "SYN-CIN-30014", 71, "M", "24120", "Diabete"],
    ["Khadija Alami-Syn", "SYN-CIN-30015", 88, "F", "24130", "Hypertension"],
]


# --- gov-102: a laboratory extract, plausibility ranges, a hospital extract to de-identify -------

TESTS = [  # LOINC, name, unit, generator of a plausible value
    ("2345-7", "Glucose", "g/L", lambda r: f"{r.gauss(1.05, 0.25):.2f}"),
    ("2823-3", "Potassium", "mmol/L", lambda r: f"{r.gauss(4.3, 0.45):.1f}"),
    ("2160-0", "Creatinine", "mg/L", lambda r: f"{max(4.0, r.gauss(10, 3)):.1f}"),
    ("718-7", "Hemoglobin", "g/dL", lambda r: f"{r.gauss(12.8, 1.6):.1f}"),
    ("4548-4", "HbA1c", "%", lambda r: f"{max(4.5, r.gauss(7.0, 1.3)):.1f}"),
]
RANGES = [  # loinc, name, unit, plausible min, plausible max (what a lab can physically report)
    ("2345-7", "Glucose", "g/L", "0.2", "6.0"),
    ("2823-3", "Potassium", "mmol/L", "1.5", "9.0"),
    ("2160-0", "Creatinine", "mg/L", "2.0", "150.0"),
    ("718-7", "Hemoglobin", "g/dL", "3.0", "25.0"),
    ("4548-4", "HbA1c", "%", "3.0", "20.0"),
]
SITES = ["LAB-CENTRAL", "LAB-URGENCES", "LAB-MERE-ENFANT"]


def _lab() -> list[list]:
    rng = random.Random(2009)
    patients = [f"SYN-IPP-{rng.randint(200000, 299999)}" for _ in range(30)]
    rows = []
    for i in range(1, 121):
        loinc, name, unit, gen = TESTS[rng.randrange(len(TESTS))]
        rows.append([f"R{i:05d}", rng.choice(patients), f"2024-05-{rng.randint(1, 28):02d}", loinc, name,
                     gen(rng), unit, rng.choice(SITES)])  # fmt: skip
    # Defects at fixed rows: missing values, missing LOINC codes, implausible values, a glucose
    # sent in mg/dL under a g/L unit, exact duplicates (exported twice) and two results sent
    # again under a new result_id.
    for r in (4, 17, 29, 58, 77, 101):
        rows[r][5] = ""
    for r in (12, 63, 90):
        rows[r][3] = ""
    rows[21][3:7] = ["2823-3", "Potassium", "45", "mmol/L"]
    rows[48][3:7] = ["2345-7", "Glucose", "110", "g/L"]
    rows[70][3:7] = ["718-7", "Hemoglobin", "0.0", "g/dL"]
    rows[95][3:7] = ["4548-4", "HbA1c", "71", "%"]
    for r in (33, 66, 99):
        rows.insert(r + 1, list(rows[r]))
    for r, new in ((10, "R00901"), (80, "R00902")):
        rows.append([new, *rows[r][1:]])
    return rows


LAB_HEADER = ["result_id", "ipp", "sample_date", "loinc_code", "test_name", "value", "unit", "site"]

# gov-102 de-identification exercise: discharges sent to a research team (24 rows).
WARDS = ["cardiology", "endocrinology", "nephrology"]
DIAGNOSES = {"cardiology": ["I10", "I50.0", "I48"], "endocrinology": ["E11.9", "E10.9", "E05.0"],
             "nephrology": ["N18.3", "N18.5", "N17.9"]}  # fmt: skip


def _extract() -> list[list]:
    rng = random.Random(902)
    rows = []
    # (age low, postal prefix, ward): clusters a good release can reach, plus a few outliers.
    plan = [(30, "202", 0)] * 4 + [(40, "202", 0)] * 4 + [(50, "201", 1)] * 4 + [(60, "201", 1)] * 4
    plan += [(40, "260", 2)] * 3 + [(60, "260", 2)] * 3 + [(80, "202", 0), (20, "201", 1)]
    for i, (low, prefix, w) in enumerate(plan, 1):
        ward = WARDS[w]
        sex = rng.choice("FM")
        first = FIRST[2 * rng.randrange(len(FIRST) // 2) + (sex == "M")]  # FIRST alternates F, M
        name = f"{first} {LAST[rng.randrange(len(LAST))]}"
        rows.append([name, f"SYN-CIN-{20000 + i}", f"SYN-IPP-{rng.randint(300000, 399999)}",
                     low + rng.randint(0, 9), sex, f"{prefix}{rng.randint(0, 9)}0", ward,
                     rng.choice(DIAGNOSES[ward])])  # fmt: skip
    return rows


EXTRACT_HEADER = ["full_name", "cin", "ipp", "age", "sex", "postal_code", "ward", "diagnosis"]


# gov-102 access audit: one week of the clinical record's access log (synthetic users, units).
USERS = [  # user, role, unit
    ("u.alami", "physician", "cardiology"),
    ("u.tahiri", "nurse", "cardiology"),
    ("u.saidi", "physician", "nephrology"),
    ("u.kettani", "nurse", "nephrology"),
    ("u.fassi", "physician", "endocrinology"),
    ("u.lahlou", "secretary", "endocrinology"),
    ("u.berrada", "billing", "admissions"),
    ("u.amrani", "data-steward", "medical-information"),
]


def _access_log() -> list[list]:
    rng = random.Random(523)
    rows = []
    for i in range(1, 61):
        user, role, unit = USERS[rng.randrange(7)]
        day, hour = rng.randint(13, 17), rng.randint(8, 17)
        patient_unit = "admissions" if role == "billing" else unit
        patient_unit = patient_unit if patient_unit != "admissions" else rng.choice(["cardiology", "nephrology"])
        rows.append([f"E{i:04d}", f"2024-05-{day:02d}T{hour:02d}:{rng.randint(0, 59):02d}", user, role, unit,
                     f"SYN-IPP-{rng.randint(300000, 399999)}", patient_unit, "view", 1, "care"])  # fmt: skip
    for r in rows:
        if r[3] == "billing":
            r[9] = "billing"
    # Findings at fixed rows: a bulk export at night, a record opened outside the user's unit
    # with no reason, an emergency (break-glass) access, the steward's authorised extraction.
    rows[17][1], rows[17][7], rows[17][8], rows[17][9] = "2024-05-15T02:14", "export", 1240, ""
    rows[17][5] = rows[17][6] = "*"
    rows[33][6], rows[33][9] = "endocrinology", ""
    rows[33][2:5] = ["u.tahiri", "nurse", "cardiology"]
    rows[41][6], rows[41][9] = "nephrology", "break-glass"
    rows[41][2:5] = ["u.fassi", "physician", "endocrinology"]
    rows.append(["E0061", "2024-05-16T10:05", "u.amrani", "data-steward", "medical-information", "*",
                 "*", "export", 24, "research-agreement"])  # fmt: skip
    return rows


ACCESS_HEADER = ["event_id", "timestamp", "user", "role", "user_unit", "patient_ipp", "patient_unit", "action",
                 "records", "reason"]  # fmt: skip


def files() -> dict[str, bytes]:
    return {
        "gov-101/files/sejours_chr.csv": _csv(STAYS_HEADER, _stays()),
        "gov-101/files/urgences_extrait.csv": _csv(URGENCES_HEADER, URGENCES),
        "gov-101/files/consultations_csu.csv": _csv(URGENCES_HEADER[:5] + ["motif"], CONSULTATIONS),
        "gov-102/files/lab_extract.csv": _csv(LAB_HEADER, _lab()),
        "gov-102/files/plausibility_ranges.csv": _csv(
            ["loinc_code", "test_name", "unit", "min_plausible", "max_plausible"], RANGES
        ),
        "gov-102/files/discharges_extract.csv": _csv(EXTRACT_HEADER, _extract()),
        "gov-102/files/access_log.csv": _csv(ACCESS_HEADER, _access_log()),
    }

"""The two Arabic capstones' synthetic datasets (ds-103, gov-103). Every row is generated from a
fixed seed; nothing comes from a real patient. Names are invented, identifiers are marked SYN.

ds-103: a regional diabetes registry (Fes-Meknes, invented hospital codes): patients.csv,
hba1c.csv (with seeded quality problems: empty values, a missing decimal point, duplicated
export rows) and data_dictionary.csv.
gov-103: a laboratory extract sent to a hospital (lab_extract.csv, with seeded quality problems),
a research request table to de-identify (research_source.csv) and a FHIR R4 Observation example."""

import json
import random

HOSPITALS = [  # code, province, patients, probability that a measure is < 7 %
    ("CHU_FES", "Fes", 150, 0.42),
    ("HP_FES", "Fes", 80, 0.30),
    ("CHR_MEKNES", "Meknes", 130, 0.36),
    ("HP_TAZA", "Taza", 70, 0.25),
    ("HP_SEFROU", "Sefrou", 50, 0.33),
    ("HP_IFRANE", "Ifrane", 12, 0.40),
]
TREATMENTS = ["oral", "insulin", "oral_insulin", "diet"]

DICTIONARY = [
    ("patients", "patient_id", "text", "", "R0001..R9999", "معرف مستعار للمريض داخل السجل"),
    ("patients", "province", "text", "", "Fes Meknes Taza Sefrou Ifrane", "إقليم أو عمالة الإقامة"),
    (
        "patients",
        "hospital",
        "text",
        "",
        "CHU_FES HP_FES CHR_MEKNES HP_TAZA HP_SEFROU HP_IFRANE",
        "المؤسسة الصحية التي تتابع المريض",
    ),
    ("patients", "sex", "text", "", "F M", "الجنس"),
    ("patients", "birth_year", "integer", "year", "1930..2010", "سنة الازدياد"),
    ("patients", "diabetes_type", "text", "", "T1 T2", "نوع السكري"),
    ("patients", "diagnosis_year", "integer", "year", "1980..2025", "سنة التشخيص"),
    ("patients", "treatment", "text", "", "oral insulin oral_insulin diet", "العلاج الحالي"),
    ("hba1c", "measure_id", "text", "", "M00001..", "معرف القياس كما يصدره المختبر"),
    ("hba1c", "patient_id", "text", "", "R0001..R9999", "المريض المعني بالقياس"),
    ("hba1c", "measure_date", "date", "YYYY-MM-DD", "2024-01-01..2025-12-31", "تاريخ أخذ العينة"),
    ("hba1c", "hba1c", "real", "%", "4.0..20.0", "الهيموغلوبين السكري بالنسبة المئوية"),
]

LAST = ["Bennani", "Alami", "Tahiri", "Saidi", "Ouazzani", "Filali", "Lahlou", "Marzouki", "Sqalli",
        "Naciri", "Ghazi", "Rifi", "Zerouali", "Chami", "Haddaoui", "Kabbaj"]  # fmt: skip
FIRST_F = ["Houda", "Samira", "Imane", "Zineb", "Hajar", "Meryem", "Naima", "Loubna", "Rim", "Asmae"]
FIRST_M = ["Hamza", "Karim", "Anas", "Hicham", "Driss", "Yassine", "Said", "Adil", "Ayoub", "Jamal"]
LOCAL_CODES = {"Glucose": "GLY", "HbA1c": "HBA1C", "Creatinine": "CREA", "Potassium": "K", "Hemoglobin": "HB"}
COMMUNES = ["Sale", "Rabat", "Temara", "Kenitra", "Skhirat"]
WARDS = ["endocrinologie", "nephrologie", "medecine_interne", "urgences"]
TESTS = [  # LOINC, label, unit, mean, sd, decimals
    ("2345-7", "Glucose", "g/L", 1.25, 0.45, 2),
    ("4548-4", "HbA1c", "%", 7.6, 1.5, 1),
    ("2160-0", "Creatinine", "mg/L", 11.0, 4.0, 1),
    ("2823-3", "Potassium", "mmol/L", 4.3, 0.5, 1),
    ("718-7", "Hemoglobin", "g/dL", 13.2, 1.6, 1),
]


def _csv(header, rows) -> bytes:
    """Plain CSV: numbers, codes and words without comma, quote or leading formula sign."""
    lines = [header, *rows]
    for row in lines:
        for v in row:
            s = str(v)
            assert "," not in s and '"' not in s and (not s or s[0] not in "=+-@"), s
    return "".join(",".join(str(v) for v in row) + "\n" for row in lines).encode("utf-8")


def _registry():
    rng = random.Random(103)
    patients, measures = [], []
    pid = 0
    for code, province, n, p_ctrl in HOSPITALS:
        for _ in range(n):
            pid += 1
            t1 = rng.random() < 0.08
            birth = rng.randint(1985, 2008) if t1 else rng.randint(1938, 1990)
            diag = rng.randint(max(birth + 3, 1985), 2025) if t1 else rng.randint(max(birth + 30, 1990), 2025)
            treat = "insulin" if t1 else rng.choices(TREATMENTS, [50, 15, 25, 10])[0]
            pat = f"R{pid:04d}"
            patients.append([pat, province, code, rng.choice("FM"), birth, "T1" if t1 else "T2", diag, treat])
            k = rng.choices([0, 1, 2, 3, 4], [6, 24, 34, 24, 12])[0]
            months = sorted(rng.sample(range(24), k))
            for m in months:
                year, month = 2024 + m // 12, m % 12 + 1
                ctrl = rng.random() < p_ctrl
                value = rng.uniform(5.4, 6.9) if ctrl else rng.uniform(7.0, 12.5)
                measures.append([pat, f"{year}-{month:02d}-{rng.randint(1, 28):02d}", round(value, 1)])
    rows = []
    for i, (pat, date, value) in enumerate(measures, 1):
        r = rng.random()
        shown = "" if r < 0.03 else str(int(round(value * 10))) if r < 0.04 else f"{value:.1f}"
        rows.append([f"M{i:05d}", pat, date, shown])
    for j in sorted(rng.sample(range(len(rows)), 12), reverse=True):
        rows.insert(j + 1, list(rows[j]))  # the same row exported twice
    return patients, rows


def _lab():
    rng = random.Random(2031)
    people = []
    for i in range(1, 91):
        sex = rng.choice("FM")
        first = rng.choice(FIRST_F if sex == "F" else FIRST_M)
        birth = f"{rng.randint(1940, 2004)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        people.append((f"IPP-SYN-{100000 + i * 37}", rng.choice(LAST), first, f"SYN{rng.randint(100000, 999999)}",
                       birth, sex, rng.choice(COMMUNES)))  # fmt: skip
    rows = []
    for n in range(1, 241):
        ipp, last, first, cin, birth, sex, commune = rng.choice(people)
        loinc, label, unit, mean, sd, dec = rng.choice(TESTS)
        value = f"{max(0.1, rng.gauss(mean, sd)):.{dec}f}"
        day, hour = rng.randint(1, 28), rng.randint(7, 11)
        collected = f"2025-10-{day:02d}T{hour:02d}:{rng.randint(0, 59):02d}"
        validated = f"2025-10-{day:02d}T{hour + rng.randint(2, 6):02d}:{rng.randint(0, 59):02d}"
        rows.append([f"LB25{n:05d}", ipp, last, first, cin, birth, sex, commune, rng.choice(WARDS), loinc, label,
                     value, unit, collected, validated])  # fmt: skip
    # Seeded problems, each on rows of its own (the lesson counts them one by one).
    picks = rng.sample(range(240), 26)
    for j in picks[0:5]:
        rows[j][1] = ""  # no IPP
    for j in picks[5:11]:
        rows[j][9] = LOCAL_CODES[rows[j][10]]  # the laboratory's own code, not LOINC
    for j in picks[11:13]:  # a glucose in mmol/L under a LOINC code that means a mass concentration
        rows[j][9:13] = ["2345-7", "Glucose", f"{rng.uniform(4.5, 12.0):.1f}", "mmol/L"]
    for j in picks[13:15]:
        rows[j][11] = "non_conforme"  # a comment where a number belongs
    for j in picks[15:19]:
        rows[j][14] = rows[j][13][:11] + "06:00"  # validated before it was collected
    dup = [list(rows[j]) for j in picks[19:23]]
    for j in picks[23:26]:
        rows[j][5] = "2031-01-01"  # a birth date in the future
    rows.extend(dup)  # the same samples sent again at the end of the file
    return rows


def _research():
    """A research request: 24 patients of three communes, the HbA1c class to study."""
    rng = random.Random(909)
    rows = []
    ages = {"Sale": (30, 69), "Rabat": (40, 79), "Temara": (30, 59)}
    for i in range(1, 25):
        commune = COMMUNES[(i - 1) % 3]
        low, high = ages[commune]
        klass = rng.choices(["normal", "prediabetes", "diabetes"], [3, 2, 3])[0]
        rows.append([f"IPP-SYN-{200000 + i * 41}", rng.choice(LAST), f"SYN{rng.randint(100000, 999999)}",
                     rng.randint(low, high), rng.choice("FM"), commune, klass])  # fmt: skip
    return rows


OBSERVATION = {
    "resourceType": "Observation",
    "id": "obs-hba1c-1",
    "status": "final",
    "category": [
        {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                    "code": "laboratory",
                }
            ]
        }
    ],
    "code": {
        "coding": [
            {"system": "http://loinc.org", "code": "4548-4", "display": "Hemoglobin A1c/Hemoglobin.total in Blood"}
        ]
    },  # fmt: skip
    "subject": {"reference": "Patient/pat-1"},
    "effectiveDateTime": "2025-10-14T08:20:00+01:00",
    "issued": "2025-10-14T12:05:00+01:00",
    "valueQuantity": {"value": 8.4, "unit": "%", "system": "http://unitsofmeasure.org", "code": "%"},
}


def files() -> dict[str, bytes]:
    patients, hba1c = _registry()
    out = {
        "ds-103/files/patients.csv": _csv(
            ["patient_id", "province", "hospital", "sex", "birth_year", "diabetes_type", "diagnosis_year", "treatment"],
            patients,
        ),
        "ds-103/files/hba1c.csv": _csv(["measure_id", "patient_id", "measure_date", "hba1c"], hba1c),
        "ds-103/files/data_dictionary.csv": _csv(
            ["table_name", "column_name", "type", "unit", "allowed", "description"], DICTIONARY
        ),
        "gov-103/files/lab_extract.csv": _csv(
            [
                "sample_id",
                "ipp",
                "last_name",
                "first_name",
                "cin",
                "birth_date",
                "sex",
                "commune",
                "ward",
                "loinc_code",
                "test_name",
                "value",
                "unit",
                "collected_at",
                "validated_at",
            ],
            _lab(),
        ),  # fmt: skip
        "gov-103/files/research_source.csv": _csv(
            ["ipp", "last_name", "cin", "age", "sex", "commune", "hba1c_class"], _research()
        ),
        "gov-103/files/observation_hba1c.json": (json.dumps(OBSERVATION, indent=2) + "\n").encode("utf-8"),
    }
    return out

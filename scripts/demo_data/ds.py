"""The data-science track's synthetic clinical dataset: five wards (36 beds) of a fictitious hospital
("Hôpital provincial Al Amal", invented), six months of stays (January to June 2025) with their
patients, wards, principal diagnoses (ICD-10 / CIM-10 three-character categories), blood pressure
on admission and laboratory results (glucose, HbA1c, creatinine).

ds-101 (French) ships the tables with French column names, plus a deliberately messy laboratory
export (analyses_brutes.csv) for its cleaning module; ds-102 (English) ships the same rows with
English column names. Every row comes from random.Random with a fixed seed: nothing describes a
real patient, and the identifiers (SYN-...) are marked synthetic."""

import random
from datetime import date, timedelta

SEED = 2026
START = date(2025, 1, 1)
DAYS = 181  # admissions from 2025-01-01 to 2025-06-30

# code, French name, English name, beds
WARDS = [
    ("CARD", "cardiologie", "cardiology", 8),
    ("MINT", "medecine-interne", "internal-medicine", 14),
    ("PED", "pediatrie", "paediatrics", 4),
    ("MAT", "maternite", "maternity", 4),
    ("CHIR", "chirurgie", "surgery", 6),
]

# ICD-10 three-character categories: code, French label, English label, chapter
ICD10 = [
    ("E11", "Diabete sucre de type 2", "Type 2 diabetes mellitus", "IV"),
    ("I10", "Hypertension essentielle (primitive)", "Essential (primary) hypertension", "IX"),
    ("I21", "Infarctus aigu du myocarde", "Acute myocardial infarction", "IX"),
    ("I50", "Insuffisance cardiaque", "Heart failure", "IX"),
    ("J18", "Pneumopathie a micro-organisme non precise", "Pneumonia, organism unspecified", "X"),
    ("J45", "Asthme", "Asthma", "X"),
    ("K35", "Appendicite aigue", "Acute appendicitis", "XI"),
    ("N18", "Maladie renale chronique", "Chronic kidney disease", "XIV"),
    ("O80", "Accouchement unique et spontane", "Single spontaneous delivery", "XV"),
    ("S72", "Fracture du femur", "Fracture of femur", "XIX"),
]

PROVINCES = ["Settat", "Berrechid", "El-Jadida", "Khouribga", "Benslimane", "Casablanca"]
COVERAGE = [("AMO-CNSS", 45), ("AMO-TADAMON", 30), ("AMO-CNOPS", 15), ("SANS", 10)]

# ward -> (diagnoses with weights, mean length of stay in days)
CASE_MIX = {
    "CARD": ([("I21", 3), ("I50", 4), ("I10", 3)], 5.5),
    "MINT": ([("E11", 4), ("N18", 2), ("J18", 3), ("I10", 1)], 6.0),
    "PED": ([("J18", 5), ("J45", 3), ("K35", 2)], 3.0),
    "MAT": ([("O80", 1)], 2.0),
    "CHIR": ([("K35", 3), ("S72", 2)], 4.5),
}
CHRONIC = {"E11", "N18", "I50"}


def _pick(rng: random.Random, weighted):
    total = sum(w for _, w in weighted)
    x = rng.uniform(0, total)
    for value, w in weighted:
        x -= w
        if x <= 0:
            return value
    return weighted[-1][0]


def _ward_for(rng: random.Random, age: int, sex: str) -> str:
    if age < 15:
        return "PED"
    if sex == "F" and 18 <= age <= 42 and rng.random() < 0.8:
        return "MAT"
    if age >= 55:
        return _pick(rng, [("CARD", 4), ("MINT", 5), ("CHIR", 2)])
    return _pick(rng, [("CARD", 2), ("MINT", 4), ("CHIR", 4)])


def generate(seed: int = SEED, n_patients: int = 900) -> dict:
    """The hospital's rows: {"patients": [...], "stays": [...], "labs": [...]} as tuples."""
    rng = random.Random(seed)
    patients, stays, labs = [], [], []
    for p in range(1, n_patients + 1):
        sex = "F" if rng.random() < 0.56 else "M"
        band = rng.random()
        age = rng.randint(0, 14) if band < 0.16 else rng.randint(18, 44) if band < 0.52 else rng.randint(45, 92)
        birth = date(2024 - age, 1, 1) + timedelta(days=rng.randrange(365))
        ipp = f"SYN-{p:06d}"
        patients.append((ipp, sex, birth.isoformat(), _pick(rng, [(v, 1) for v in PROVINCES]),
                         _pick(rng, COVERAGE)))  # fmt: skip
        ward = _ward_for(rng, age, sex)
        mix, mean_los = CASE_MIX[ward]
        dx = _pick(rng, mix)
        day = rng.randrange(DAYS)
        visits = 1
        while day < DAYS:
            admitted = START + timedelta(days=day)
            los = 1 + rng.randint(0, 2) if dx == "O80" else max(1, round(rng.expovariate(1 / mean_los)))
            if rng.random() < 0.04:  # same-day stays (ambulatory surgery, transfers)
                los = 0
            discharged = admitted + timedelta(days=los)
            died = rng.random() < (0.07 if dx in {"I21", "I50"} else 0.015 if age > 60 else 0.002)
            status = "deces" if died else "transfert" if rng.random() < 0.05 else "domicile"
            entry = "programme" if dx in {"O80", "S72"} and rng.random() < 0.3 or rng.random() < 0.25 else "urgences"
            if rng.random() < 0.04:
                systolic = diastolic = ""
            else:
                systolic = int(rng.gauss(118 + max(0, age - 30) * 0.5 + (dx in {"I10", "I50"}) * 18, 14))
                diastolic = int(rng.gauss(74 + max(0, age - 30) * 0.15 + (dx == "I10") * 10, 9))
                if age < 15:
                    systolic, diastolic = systolic - 15, diastolic - 10
            stays.append([ipp, ward, admitted, discharged, entry, status, dx, systolic, diastolic])
            stay = stays[-1]
            # laboratory results for this stay
            diabetic = dx == "E11" or (age > 45 and rng.random() < 0.18)
            if rng.random() < 0.93:
                glucose = rng.gauss(1.75 if diabetic else 0.98, 0.45 if diabetic else 0.13)
                labs.append((stay, admitted, "glycemie", f"{max(0.45, glucose):.2f}", "g/L"))
            if ward in {"CARD", "MINT", "CHIR"} and rng.random() < 0.85:
                creat = rng.gauss(
                    38 if dx == "N18" else 9 + (sex == "M") * 2 + (age > 65) * 2, 12 if dx == "N18" else 2
                )
                labs.append((stay, admitted + timedelta(days=rng.randint(0, 1)), "creatinine",
                             f"{max(4.0, creat):.1f}", "mg/L"))  # fmt: skip
            if diabetic and rng.random() < 0.85:
                labs.append((stay, admitted, "hba1c", f"{min(13.5, max(5.6, rng.gauss(8.4, 1.4))):.1f}", "%"))
            if status == "deces":
                break
            # readmission: chronic patients come back, often within 30 days
            if dx in CHRONIC and visits < 4 and rng.random() < 0.5:
                gap = rng.randint(3, 28) if rng.random() < 0.6 else rng.randint(31, 90)
            elif rng.random() < 0.06 and dx != "O80":
                gap = rng.randint(5, 120)
            else:
                break
            day = (discharged - START).days + gap
            visits += 1
            if rng.random() < 0.2:
                ward = _ward_for(rng, age, sex) if ward != "PED" else ward
                mix, mean_los = CASE_MIX[ward]
                if dx not in {d for d, _ in mix}:
                    dx = _pick(rng, mix)
    stays.sort(key=lambda s: (s[2], s[0]))
    for i, s in enumerate(stays, 1):
        s.insert(0, f"S{i:05d}")
    labs.sort(key=lambda r: (r[0][0], r[1], r[2]))
    labs = [(f"L{i:05d}", r[0][0], *r[1:]) for i, r in enumerate(labs, 1)]
    return {"patients": patients, "stays": [tuple(s) for s in stays], "labs": labs}


def _cell(value) -> str:
    """A CSV cell: quoted when it holds a comma or a quote (an ICD-10 label such as "Pneumonia,
    organism unspecified"). No value starts with = + - @."""
    text = str(value)
    return '"' + text.replace('"', '""') + '"' if "," in text or '"' in text else text


def _csv(header, rows) -> bytes:
    """CSV built line by line: numbers, ISO dates, codes and labels."""
    return "".join(",".join(_cell(v) for v in row) + "\n" for row in [header, *rows]).encode()


def _age_on(birth: str, day: date) -> int:
    b = date.fromisoformat(birth)
    return day.year - b.year - ((day.month, day.day) < (b.month, b.day))


def tables_fr(data: dict) -> dict[str, bytes]:
    return {
        "patients.csv": _csv(["ipp", "sexe", "date_naissance", "province", "couverture"], data["patients"]),
        "sejours.csv": _csv(
            [
                "id_sejour",
                "ipp",
                "code_service",
                "date_entree",
                "date_sortie",
                "mode_entree",
                "mode_sortie",
                "diag_principal",
                "tension_systolique",
                "tension_diastolique",
            ],
            data["stays"],
        ),  # fmt: skip
        "analyses.csv": _csv(
            ["id_analyse", "id_sejour", "date_prelevement", "examen", "valeur", "unite"], data["labs"]
        ),
        "services.csv": _csv(["code_service", "service", "lits"], [(c, fr, beds) for c, fr, _en, beds in WARDS]),
        "cim10.csv": _csv(["code", "libelle", "chapitre"], [(c, fr, ch) for c, fr, _en, ch in ICD10]),
    }


_STATUS_EN = {"domicile": "home", "transfert": "transfer", "deces": "death"}
_ENTRY_EN = {"urgences": "emergency", "programme": "elective"}
_TEST_EN = {"glycemie": "glucose", "creatinine": "creatinine", "hba1c": "hba1c"}
_COVERAGE_EN = {"SANS": "NONE"}


def tables_en(data: dict) -> dict[str, bytes]:
    stays = [
        (sid, p, w, a, d, _ENTRY_EN[e], _STATUS_EN[s], dx, sy, di)
        for sid, p, w, a, d, e, s, dx, sy, di in data["stays"]
    ]
    return {
        "patients.csv": _csv(
            ["patient_id", "sex", "birth_date", "province", "coverage"],
            [(i, s, b, pr, _COVERAGE_EN.get(c, c)) for i, s, b, pr, c in data["patients"]],
        ),
        "admissions.csv": _csv(
            [
                "admission_id",
                "patient_id",
                "ward_code",
                "admitted_on",
                "discharged_on",
                "admission_type",
                "discharge_status",
                "primary_dx",
                "systolic",
                "diastolic",
            ],
            stays,
        ),  # fmt: skip
        "lab_results.csv": _csv(
            ["lab_id", "admission_id", "sampled_on", "test", "value", "unit"],
            [(i, s, d, _TEST_EN[t], v, u) for i, s, d, t, v, u in data["labs"]],
        ),
        "wards.csv": _csv(["ward_code", "ward", "beds"], [(c, en, beds) for c, _fr, en, beds in WARDS]),
        "icd10.csv": _csv(["code", "label", "chapter"], [(c, en, ch) for c, _fr, en, ch in ICD10]),
    }


def messy_lab_export(data: dict) -> bytes:
    """A laboratory export of March 2025 as it arrives from a lab information system that two
    sites feed: dates in two formats, units in two systems, labels typed differently, missing and
    impossible values, rows sent twice. The module 3 lesson of ds-101 cleans it."""
    rng = random.Random(SEED + 3)
    patient_of = {s[0]: s[1] for s in data["stays"]}
    rows = []
    for lab_id, sid, day, test, value, _unit in data["labs"]:
        if not (date(2025, 3, 1) <= day <= date(2025, 3, 31)) or test == "hba1c":
            continue
        v = float(value)
        site_b = rng.random() < 0.3  # the second site exports in SI units and day-first dates
        when = day.strftime("%d/%m/%Y") if site_b else day.isoformat()
        if test == "glycemie":
            shown, unit_shown = (f"{v / 0.18:.1f}", "mmol/L") if site_b else (value, "g/L")
            if not site_b and rng.random() < 0.03:
                shown = f"{v * 100:.0f}"  # typed in mg/dL into a g/L field
        else:
            shown, unit_shown = (f"{v * 8.84:.0f}", "umol/L") if site_b else (value, "mg/L")
        label = rng.choice([test, test, test, test.upper(), test.capitalize() + " "])
        r = rng.random()
        if r < 0.04:
            shown = ""
        elif r < 0.06:
            shown = "NA"
        elif r < 0.085:
            shown = "?"  # "result pending" typed by hand
        rows.append([lab_id, patient_of[sid], when, label, shown, unit_shown])
    for i in sorted(rng.sample(range(len(rows)), 9), reverse=True):
        rows.insert(i + 1, list(rows[i]))  # sent twice
    return _csv(["id_analyse", "ipp", "date_prelevement", "examen", "valeur", "unite"], rows)


def hidden_tables_en(seed: int = 912, n_patients: int = 120) -> dict[str, bytes]:
    """Another hospital's rows (same tables and columns, other seed): the SQL exercises' hidden
    dataset (copied into their YAML by the author, not shipped as a file). Three laboratory rows
    are appended so that the hidden tests probe the edges the prompts announce: a creatinine of
    exactly 20.0 mg/L sampled on 30 June (">= 20", "1 to 30 June inclusive"), listed after a
    higher-numbered result of the same day (a query with no tie-break on lab_id returns them in file
    order, not in lab_id order), and a second glucose >= 2.00 g/L for one stay ("each stay counts
    once")."""
    data = generate(seed, n_patients)
    if (seed, n_patients) == (912, 120):
        data["labs"] = [*data["labs"], *HIDDEN_EDGE_LABS]
    return tables_en(data)


HIDDEN_EDGE_LABS = [
    ("L00228", "S00132", date(2025, 6, 30), "creatinine", "21.5", "mg/L"),
    ("L00227", "S00126", date(2025, 6, 30), "creatinine", "20.0", "mg/L"),
    ("L00229", "S00130", date(2025, 6, 24), "glycemie", "2.41", "g/L"),
]


def files() -> dict[str, bytes]:
    data = generate()
    out = {f"ds-101/files/{name}": content for name, content in tables_fr(data).items()}
    out["ds-101/files/analyses_brutes.csv"] = messy_lab_export(data)
    out.update({f"ds-102/files/{name}": content for name, content in tables_en(data).items()})
    return out

"""The data-science track's synthetic clinical datasets. Every row is generated from a fixed
seed; nothing comes from a real patient."""

import random

WARDS_EN = ["cardiology", "paediatrics", "internal-medicine", "emergency", "maternity"]
WARDS_FR = ["cardiologie", "pediatrie", "medecine-interne", "urgences", "maternite"]


def _rows(rng: random.Random, n: int):
    for i in range(1, n + 1):
        ward = rng.randrange(len(WARDS_EN))
        age = rng.randint(0, 15) if ward == 1 else rng.randint(16, 45) if ward == 4 else rng.randint(18, 92)
        systolic = int(rng.gauss(128 + (age - 40) * 0.35, 16))
        diastolic = int(rng.gauss(80 + (age - 40) * 0.1, 10))
        glucose = "" if rng.random() < 0.08 else f"{rng.gauss(1.0 + (age > 60) * 0.15, 0.2):.2f}"
        stay = max(1, int(rng.expovariate(1 / (3 + (ward == 2) * 3))))
        yield i, ward, age, rng.choice("FM"), systolic, diastolic, glucose, stay


def _csv(header, rows) -> bytes:
    """Plain CSV: the values are numbers, codes and words with no comma, quote or formula sign."""
    return "".join(",".join(str(v) for v in row) + "\n" for row in [header, *rows]).encode()


def files() -> dict[str, bytes]:
    rows = list(_rows(random.Random(2026), 200))
    stays = _csv(
        ["patient_id", "age", "sex", "ward", "systolic", "diastolic", "glucose", "length_of_stay"],
        ([f"P{i:04d}", age, sex, WARDS_EN[w], sys_, dia, glu, stay] for i, w, age, sex, sys_, dia, glu, stay in rows),
    )
    patients = _csv(
        ["id_patient", "age", "sexe", "service", "tension_systolique", "tension_diastolique", "glycemie",
         "duree_sejour"],
        ([f"P{i:04d}", age, sex, WARDS_FR[w], sys_, dia, glu, stay] for i, w, age, sex, sys_, dia, glu, stay in rows),
    )  # fmt: skip
    return {"ds-102/files/synthetic_stays.csv": stays, "ds-101/files/patients_synthetiques.csv": patients}

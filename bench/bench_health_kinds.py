"""Submit-to-graded latency (p50, p95) and graded per second of the health-data kinds (sql,
deid, fhir: issue 16) next to the quiz's, in the same run: one worker (concurrency 2) over Redis on
PostgreSQL, the sandbox for SQL and de-identification code. Each kind's example spec and right
answer are its test fixtures (tests/assessment/<kind>_fixtures.py). Prints figures, asserts nothing."""

import importlib
import time

import django

django.setup()

from bench.bench_grading import QUIZ_ANSWER, measure  # noqa: E402
from bench.common import start_worker, stop  # noqa: E402
from courses.models import Course  # noqa: E402
from grading.models import Submission  # noqa: E402
from tests.factories import make_quiz  # noqa: E402
from tests.grading.helpers import make_assignment  # noqa: E402

# (kind, label, answer key in the fixtures, sequential submissions, burst)
CASES = [
    ("sql", "SQL query on the clinical dataset (2 sandbox runs: public and hidden data)", "RIGHT_ANSWER", 20, 40),
    ("deid", "de-identification, released CSV (checked outside the sandbox)", "RIGHT_ANSWER", 20, 40),
    ("deid", "de-identification, Python code (1 sandbox run)", "RIGHT_CODE_ANSWER", 10, 20),
    ("fhir", "FHIR R4 resource (fhir.resources validation + rules)", "RIGHT_ANSWER", 30, 100),
]


def main():
    tag = time.time_ns()
    course = Course.objects.create(code=f"bench-health-{tag}", title="Bench", language="fr", status="published")
    quiz = make_quiz(course=course)
    worker = start_worker(name="bench-health")
    try:
        measure("quiz (reference)", quiz, QUIZ_ANSWER, sequential=30, burst=100)
        for kind, label, key, sequential, burst in CASES:
            fixtures = importlib.import_module(f"tests.assessment.{kind}_fixtures")
            answer = getattr(fixtures, key, None)
            if answer is None:
                print(f"{label}: no {key} in tests/assessment/{kind}_fixtures.py, skipped")
                continue
            assignment = make_assignment(kind, fixtures.SPEC, course=course, title=label[:60])
            measure(label, assignment, answer, sequential=sequential, burst=burst)
            # The figures are of right answers graded right: say what the grader gave.
            scores = Submission.objects.filter(assignment=assignment).values_list("status", "score", "max_score")
            print(f"  graded as: {sorted(set(scores), key=str)}")
    finally:
        stop(worker)


if __name__ == "__main__":
    main()

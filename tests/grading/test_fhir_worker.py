"""A FHIR exercise graded by a real Celery worker: the worker validates the JSON itself (no
sandbox), and stores each failure by element path."""

import pytest

from grading import services
from grading.models import Submission
from tests.assessment.fhir_fixtures import RIGHT_ANSWER, SPEC, WRONG_ANSWER
from tests.grading.helpers import learner_for, make_assignment
from tests.processes import wait_for

pytestmark = pytest.mark.worker


def test_a_real_worker_grades_right_and_wrong_fhir_answers(worker):
    assignment = make_assignment("fhir", SPEC, points=8)
    learner = learner_for(assignment)
    right = services.submission_create(user=learner, assignment=assignment, answer=RIGHT_ANSWER)
    wrong = services.submission_create(user=learner, assignment=assignment, answer=WRONG_ANSWER)
    for sub in (right, wrong):
        wait_for(lambda s=sub: Submission.objects.get(pk=s.pk).status == "graded", timeout=60, message="fhir grading")
    right.refresh_from_db()
    wrong.refresh_from_db()
    assert str(right.score) == "8.00"
    assert str(wrong.score) == "3.00"
    assert wrong.feedback["kind"] == "fhir"
    assert wrong.feedback["failures"][0]["path"] == "Bundle.entry[2].resource.code"
    assert wrong.grades.get().feedback["failures"] == wrong.feedback["failures"]

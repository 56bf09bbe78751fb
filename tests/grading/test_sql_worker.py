"""A SQL assignment graded by a real Celery worker over Redis, its queries run in the sandbox."""

import pytest

from grading import services
from grading.models import Submission
from tests.assessment.sql_fixtures import HARD_CODED_ANSWER, RIGHT_ANSWER, SPEC, WRONG_ANSWER
from tests.factories import UserFactory, enroll
from tests.grading.helpers import make_assignment
from tests.processes import wait_for

pytestmark = pytest.mark.worker


def test_a_real_worker_grades_right_wrong_and_hard_coded_sql_answers(worker):
    assignment = make_assignment("sql", SPEC, points=10, attempts_allowed=None)
    learner = UserFactory()
    enroll(learner, assignment.course)
    subs = {
        name: services.submission_create(user=learner, assignment=assignment, answer=answer)
        for name, answer in (("right", RIGHT_ANSWER), ("wrong", WRONG_ANSWER), ("hard_coded", HARD_CODED_ANSWER))
    }
    for sub in subs.values():
        wait_for(
            lambda sub=sub: Submission.objects.get(pk=sub.pk).status == "graded", timeout=90, message="sql grading"
        )
    scores = {name: str(Submission.objects.get(pk=sub.pk).score) for name, sub in subs.items()}
    assert scores == {"right": "10.00", "wrong": "0.00", "hard_coded": "5.00"}
    feedback = Submission.objects.get(pk=subs["hard_coded"].pk).feedback
    assert feedback["kind"] == "sql" and feedback["hidden"] == {"status": "different"}

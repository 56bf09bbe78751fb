"""A deid assignment graded by a real Celery worker: a right and a wrong release (CSV) and a
code answer run in the sandbox get their scores."""

import pytest

from grading import services
from grading.models import Submission
from tests.assessment.deid_fixtures import REFERENCE_SOLUTION, RIGHT_ANSWER, SPEC, WRONG_ANSWER
from tests.grading.helpers import learner_for, make_assignment
from tests.processes import wait_for

pytestmark = pytest.mark.worker


def test_a_real_worker_grades_right_wrong_and_code_releases(worker):
    assignment = make_assignment("deid", SPEC, points=6, attempts_allowed=None)
    learner = learner_for(assignment)
    subs = [services.submission_create(user=learner, assignment=assignment, answer=answer)
            for answer in (RIGHT_ANSWER, WRONG_ANSWER, {"code": REFERENCE_SOLUTION})]  # fmt: skip
    for sub in subs:
        wait_for(lambda s=sub: Submission.objects.get(pk=s.pk).status == "graded", timeout=90, message="deid grading")
    scores = [str(Submission.objects.get(pk=s.pk).score) for s in subs]
    assert scores == ["6.00", "0.00", "6.00"]
    feedback = Submission.objects.get(pk=subs[1].pk).feedback
    assert feedback["kind"] == "deid" and feedback["k"] == 1 and feedback["k_target"] == 3

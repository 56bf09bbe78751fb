"""Grading through a real Celery worker process over Redis."""

import pytest

from grading import services
from grading.models import GradeRecord, Submission
from tests.factories import UserFactory, enroll, make_quiz
from tests.processes import wait_for

pytestmark = pytest.mark.worker


def test_a_real_worker_grades_a_submitted_quiz(worker):
    quiz = make_quiz(points=4)
    learner = UserFactory()
    enroll(learner, quiz.course)

    submission = services.submission_create(user=learner, assignment=quiz, answer={"q1": ["a"], "q2": ["a", "c"]})

    wait_for(lambda: Submission.objects.get(pk=submission.pk).status == "graded", timeout=30, message="grading")
    submission.refresh_from_db()
    assert str(submission.score) == "4.00"
    assert GradeRecord.objects.filter(submission=submission).count() == 1


def test_a_real_worker_runs_a_regrade_in_the_background(worker):
    from grading.models import RegradeJob

    quiz = make_quiz(points=4)
    learner = UserFactory()
    enroll(learner, quiz.course)
    sub = services.submission_create(user=learner, assignment=quiz, answer={"q1": ["a"], "q2": ["a", "c"]})
    wait_for(lambda: Submission.objects.get(pk=sub.pk).status == "graded", timeout=60, message="grading")
    job = services.regrade_start(user=UserFactory(is_staff=True), assignment=quiz)
    wait_for(lambda: RegradeJob.objects.get(pk=job.pk).status == "done", timeout=60, message="regrade")
    assert list(GradeRecord.objects.filter(submission=sub).values_list("source", flat=True)) == ["auto", "regrade"]


def test_a_real_worker_grades_code_in_the_sandbox(worker):
    from tests.grading.helpers import CODE_SPEC, make_assignment

    assignment = make_assignment("code", CODE_SPEC, points=3)
    learner = UserFactory()
    enroll(learner, assignment.course)
    sub = services.submission_create(
        user=learner, assignment=assignment, answer={"code": "def solve(a, b):\n    return a + b\n"}
    )
    wait_for(lambda: Submission.objects.get(pk=sub.pk).status == "graded", timeout=90, message="code grading")
    assert str(Submission.objects.get(pk=sub.pk).score) == "3.00"

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

"""Builders for integration tests: learners of a university, graded quiz attempts."""

from courses.models import Enrollment
from grading import services as grading
from kernel.events import deferred_run
from tests.factories import UserFactory

RIGHT = {"q1": ["a"], "q2": ["a", "c"]}
WRONG = {"q1": ["b"], "q2": ["b"]}


def learner(org, ext, **kw):
    return UserFactory(organization=org, external_id=ext, email=f"{ext}.{org.slug}@example.ma", **kw)


def graded(user, quiz, answer=RIGHT):
    """Submit and grade one attempt through the grading services (as a worker would), then run
    the batch of its deferred side effects (course completion...), as the worker does soon after."""
    Enrollment.objects.get_or_create(user=user, course=quiz.course)
    sub = grading.submission_create(user=user, assignment=quiz, answer=answer)
    grading.submission_grade(submission_id=sub.pk)
    deferred_run()
    sub.refresh_from_db()
    return sub

"""With a real worker: a graded quiz notifies the learner (page and e-mail), completing the course
issues the certificate through the `certificates.issue` task, and the task names are pinned."""

import pytest

from certificates.models import Certificate
from certificates.selectors import verification_status
from courses.models import Enrollment
from grading import services as grading_services
from learning.models import Notification
from tests.factories import UserFactory, enroll, make_quiz
from tests.processes import wait_for

pytestmark = pytest.mark.worker


def test_completing_a_course_issues_a_certificate_and_notifies_through_the_worker(worker):
    user = UserFactory()
    quiz = make_quiz(points=10)
    enroll(user, quiz.course)

    grading_services.submission_create(user=user, assignment=quiz, answer={"q1": ["a"], "q2": ["a", "c"]})

    cert = wait_for(lambda: Certificate.objects.filter(user=user, course=quiz.course).first(), timeout=90,
                    message="the certificate")  # fmt: skip
    assert Enrollment.objects.get(user=user, course=quiz.course).completed_at is not None
    assert verification_status(certificate=cert) == "valid"
    kinds = wait_for(
        lambda: (
            set(Notification.objects.filter(user=user, emailed_at__isnull=False).values_list("kind", flat=True))
            >= {"graded", "certificate"}
            and set(Notification.objects.filter(user=user).values_list("kind", flat=True))
        ),
        timeout=90,
        message="the e-mailed notifications",
    )
    assert kinds == {"graded", "certificate"}


def test_task_names_are_pinned():
    from celery import current_app

    import certificates.tasks  # noqa: F401
    import learning.tasks  # noqa: F401

    names = set(current_app.tasks)
    assert {"certificates.issue", "certificates.sweep_missing", "learning.notification_email",
            "learning.notification_emails", "learning.deadline_reminders"} <= names  # fmt: skip
    from django.conf import settings

    routes = settings.CELERY_TASK_ROUTES
    assert routes["certificates.*"] == {"queue": "events"} and routes["learning.*"] == {"queue": "events"}

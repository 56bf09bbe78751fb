from decimal import Decimal

import pytest
from django.urls import reverse

from analytics import gradebook
from analytics.models import GradeOverride
from analytics.permissions import LearnerScope
from analytics.services import OverrideRefused, grade_override
from certificates.models import Certificate
from courses.models import Enrollment
from grading.models import GradeRecord, Submission
from kernel.errors import PermissionDenied
from kernel.models import OutboxEvent
from learning.models import Notification
from tests.processes import wait_for
from tests.twofactor import login_with_2fa

from .helpers import OrganizationFactory, UserFactory, course_with_instructor, learner, make_assignment, submit

pytestmark = pytest.mark.django_db


def test_override_is_audited_kept_in_history_and_sent_to_the_university(client):
    course, teacher = course_with_instructor()
    a = make_assignment(course, points=100)
    uni = OrganizationFactory()
    u = learner(course, org=uni)
    sub = submit(u, a, status="needs_review")
    login_with_2fa(client, teacher)
    url = reverse("analytics:override", args=[course.code, u.pk, a.pk])
    response = client.post(url, {"score": "88.5", "reason": "Regraded after appeal"})
    assert response.status_code == 302

    override = GradeOverride.objects.get()
    assert (override.score, override.reason, override.actor, override.submission) == (
        Decimal("88.50"), "Regraded after appeal", teacher, sub,
    )  # fmt: skip
    record = GradeRecord.objects.get(submission=sub)
    assert record.source == "override" and record.graded_by == teacher and record.reason == "Regraded after appeal"
    sub.refresh_from_db()
    assert sub.score == Decimal("88.50") and sub.status == Submission.Status.GRADED
    event = OutboxEvent.objects.get(event_type="submission.graded")
    assert event.organization == uni and event.user == u
    assert event.payload["source"] == "override" and event.payload["score"] == "88.50"
    (row,) = gradebook.gradebook_page(
        course=course, scope=LearnerScope(all_learners=True), filters=gradebook.Filters(), page_number=1
    ).rows
    assert row.cells[0].score == Decimal("88.50") and row.cells[0].is_override
    page = client.get(url).content.decode()
    assert "Regraded after appeal" in page


def test_override_without_any_submission_is_allowed():
    course, teacher = course_with_instructor()
    a = make_assignment(course, points=20)
    u = learner(course)
    override = grade_override(actor=teacher, course=course, learner=u, assignment=a, score=15, reason="Oral exam")
    assert override.submission is None
    assert OutboxEvent.objects.get().payload["submission_id"] is None
    (row,) = gradebook.gradebook_page(
        course=course, scope=LearnerScope(all_learners=True), filters=gradebook.Filters(), page_number=1
    ).rows
    assert row.cells[0].score == 15


def test_a_newer_attempt_wins_over_an_older_override():
    course, teacher = course_with_instructor()
    a = make_assignment(course)
    u = learner(course)
    grade_override(actor=teacher, course=course, learner=u, assignment=a, score=10, reason="No show")
    submit(u, a, score=70)
    (row,) = gradebook.gradebook_page(
        course=course, scope=LearnerScope(all_learners=True), filters=gradebook.Filters(), page_number=1
    ).rows
    assert row.cells[0].score == 70 and not row.cells[0].is_override


@pytest.mark.parametrize(
    ("score", "reason", "field"), [("150", "too much", "score"), ("-1", "negative", "score"), ("50", "  ", "reason")]
)
def test_bad_override_gets_a_form_error_and_writes_nothing(client, score, reason, field):
    course, teacher = course_with_instructor()
    a = make_assignment(course, points=100)
    u = learner(course)
    submit(u, a, score=40)
    login_with_2fa(client, teacher)
    response = client.post(
        reverse("analytics:override", args=[course.code, u.pk, a.pk]), {"score": score, "reason": reason}
    )
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert not GradeOverride.objects.exists() and not OutboxEvent.objects.exists()
    assert not GradeRecord.objects.exists()


def test_service_refuses_others_and_unenrolled_learners():
    course, teacher = course_with_instructor()
    a = make_assignment(course)
    u = learner(course)
    with pytest.raises(PermissionDenied):
        grade_override(actor=UserFactory(), course=course, learner=u, assignment=a, score=1, reason="x")
    with pytest.raises(OverrideRefused):
        grade_override(actor=teacher, course=course, learner=UserFactory(), assignment=a, score=1, reason="x")
    other_course, _t = course_with_instructor()
    with pytest.raises(OverrideRefused):
        grade_override(
            actor=teacher, course=course, learner=u, assignment=make_assignment(other_course), score=1, reason="x"
        )
    assert not GradeOverride.objects.exists()


@pytest.mark.worker
def test_an_override_that_completes_a_course_notifies_the_learner_and_issues_the_certificate_at_once(worker):
    """An override is a grade: the learner is told, as for any grade, in the override's own
    transaction, and the certificate is sent to the worker on commit (no beat sweep runs here)."""
    course, teacher = course_with_instructor()
    a = make_assignment(course, kind="essay", points=10)
    u = learner(course)
    sub = submit(u, a, status="needs_review")

    grade_override(actor=teacher, course=course, learner=u, assignment=a, score=9, reason="Reviewed on paper")

    assert Enrollment.objects.get(user=u, course=course).completed_at is not None
    assert Notification.objects.filter(user=u, kind="graded", url__endswith=f"/{sub.pk}/").exists()
    assert OutboxEvent.objects.filter(event_type="course.completed", user=u).count() == 1
    cert = wait_for(lambda: Certificate.objects.filter(user=u, course=course).first(), timeout=90,
                    message="the certificate")  # fmt: skip
    assert wait_for(lambda: Notification.objects.filter(user=u, kind="certificate").exists(), timeout=30,
                    message="the certificate notification")  # fmt: skip
    assert cert.course == course

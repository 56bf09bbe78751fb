"""Reads of submissions, scoped to who is asking.

Pages that show a submission to someone call the `*_for_reader` selectors: they record the read
in the learner's audit trail when the reader is not the learner (accounts.services.audit_reads),
whatever the page or its headers. `submission_get`, `review_get` and `review_queue` stay pure,
for the writes that only need the permission check (retry, regrade, the review's own save)."""

from datetime import timedelta

from django.utils import timezone

from accounts.models import AuditEntry
from accounts.privilege import acts_privileged, is_platform_staff
from accounts.services import audit_reads
from courses import selectors as course_selectors
from courses.models import Assignment

from .models import RegradeJob, SandboxHealth, Submission


def submission_get(*, user, pk: int) -> Submission | None:
    """A learner sees their own submissions; the course's instructors and staff see all of it."""
    sub = Submission.objects.select_related("assignment__course", "version", "user").filter(pk=pk).first()
    if sub is None or not user.is_authenticated:
        return None
    if sub.user_id == user.pk or course_selectors.is_course_staff(user=user, course=sub.assignment.course):
        return sub
    return None


def submission_get_for_reader(*, user, pk: int) -> Submission | None:
    """`submission_get`, and the read audited when `user` is not the submission's learner."""
    sub = submission_get(user=user, pk=pk)
    if sub is not None:
        audit_reads(actor=user, action=AuditEntry.Action.SUBMISSION_VIEW, subjects=[sub.user_id], obj=sub)
    return sub


def submission_list_for_learner(*, user, assignment) -> list[Submission]:
    return list(Submission.objects.filter(user=user, assignment=assignment).order_by("-attempt"))


def review_queue(*, user) -> list[Submission]:
    """Essays waiting for review in the courses this user teaches (every course for staff).
    One query whatever the length of the queue."""
    if not user.is_authenticated or not acts_privileged(user):
        return []
    qs = Submission.objects.filter(status=Submission.Status.NEEDS_REVIEW, assignment__kind=Assignment.Kind.ESSAY)
    if not is_platform_staff(user):
        qs = qs.filter(assignment__course__instructors=user)
    return list(qs.select_related("assignment__course", "user").order_by("submitted_at"))


def review_queue_for_reader(*, user) -> list[Submission]:
    """`review_queue`, each learner listed recorded as seen in a list by `user`."""
    queue = review_queue(user=user)
    audit_reads(actor=user, action=AuditEntry.Action.LIST_VIEW, subjects=[s.user_id for s in queue])
    return queue


def review_get(*, user, pk: int) -> Submission | None:
    """An essay to review: course staff only."""
    sub = submission_get(user=user, pk=pk)
    if sub is None or sub.assignment.kind != Assignment.Kind.ESSAY:
        return None
    if not course_selectors.is_course_staff(user=user, course=sub.assignment.course):
        return None
    return sub


def review_get_for_reader(*, user, pk: int) -> Submission | None:
    """`review_get`, the read of the essay audited."""
    sub = review_get(user=user, pk=pk)
    if sub is not None:
        audit_reads(actor=user, action=AuditEntry.Action.SUBMISSION_VIEW, subjects=[sub.user_id], obj=sub)
    return sub


def regrade_job_get(*, user, pk: int) -> RegradeJob | None:
    job = RegradeJob.objects.select_related("assignment__course").filter(pk=pk).first()
    if job is None or not course_selectors.is_course_staff(user=user, course=job.assignment.course):
        return None
    return job


SANDBOX_REPORT_MAX_AGE = timedelta(days=7)


def sandbox_status() -> str | None:
    """None when every code worker that reported recently passed its sandbox self-test; else why
    not (naming the workers whose sandbox is broken; they do not take code submissions)."""
    recent = list(SandboxHealth.objects.filter(checked_at__gte=timezone.now() - SANDBOX_REPORT_MAX_AGE))
    if not recent:
        return "no code-grading worker has reported a sandbox self-test: code submissions wait queued"
    broken = [h for h in recent if not h.is_ok]
    if not broken:
        return None
    ok = len(recent) - len(broken)
    head = f"{len(broken)} of {len(recent)} code workers have a broken sandbox" + (
        "; code submissions wait queued" if not ok else ""
    )
    return head + ": " + "; ".join(f"{h.hostname}: {h.detail}" for h in broken)

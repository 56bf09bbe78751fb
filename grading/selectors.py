"""Reads of submissions, scoped to who is asking."""

from datetime import timedelta

from django.utils import timezone

from accounts.privilege import acts_privileged, is_platform_staff
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


def review_get(*, user, pk: int) -> Submission | None:
    sub = submission_get(user=user, pk=pk)
    if sub is None or sub.assignment.kind != Assignment.Kind.ESSAY:
        return None
    if not course_selectors.is_course_staff(user=user, course=sub.assignment.course):
        return None
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

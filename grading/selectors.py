"""Reads of submissions, scoped to who is asking."""

from courses import selectors as course_selectors

from .models import Submission


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

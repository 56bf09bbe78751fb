"""Who may see and change what in the gradebook and analytics: the one place these rules live.

- Course staff (the course's instructors, platform staff) see every learner of their course, may
  override grades, and see the non-public part of its assignments (answer keys).
- A university admin (`administered_organization_ids`) sees only their own organization's
  learners, in every published or archived course, read-only: results and item statistics,
  never answer keys.
- A draft course's pages are for its authors (its instructors) and staff only: anyone else is
  told it does not exist (`course_visible`).
- Everyone else (anonymous, learners, instructors of other courses, other universities' admins)
  is refused."""

from dataclasses import dataclass

from accounts.privilege import acts_privileged, is_platform_staff
from accounts.selectors import admin_memberships
from courses.models import Course, PublicationStatus
from courses.permissions import can_view_outline
from courses.selectors import is_course_staff


def administered_organization_ids(user) -> list[int]:
    """The organizations (universities) `user` administers: accounts' university-admin role."""
    if not user.is_authenticated:
        return []
    return list(admin_memberships(user=user).values_list("organization_id", flat=True))


@dataclass(frozen=True)
class LearnerScope:
    """Which learners of a course the acting user may see: all of them, or those of some
    organizations. `can_override` says whether they may change grades."""

    all_learners: bool
    organization_ids: tuple[int, ...] = ()
    can_override: bool = False
    can_see_answer_keys: bool = False

    def filter_enrollments(self, queryset):
        if self.all_learners:
            return queryset
        return queryset.filter(user__organization_id__in=self.organization_ids)


def course_scope(*, user, course: Course) -> LearnerScope | None:
    """The acting user's view of this course's learners, or None when they may not see it."""
    if not user.is_authenticated:
        return None
    if is_course_staff(user=user, course=course):
        return LearnerScope(all_learners=True, can_override=True, can_see_answer_keys=True)
    if course.status == PublicationStatus.DRAFT:
        return None
    org_ids = administered_organization_ids(user)
    if org_ids:
        return LearnerScope(all_learners=False, organization_ids=tuple(org_ids))
    return None


def course_visible(*, user, course: Course) -> bool:
    """Whether the acting user may know this course exists here: drafts are their authors' and
    staff's only (courses.permissions)."""
    return can_view_outline(user=user, course=course)


def can_see_path(*, user, path) -> LearnerScope | None:
    """Path analytics: staff, instructors of a course of the path (all learners), or a
    university admin (their learners)."""
    if not user.is_authenticated:
        return None
    if is_platform_staff(user) or (acts_privileged(user) and path.courses.filter(instructors=user).exists()):
        return LearnerScope(all_learners=True)
    org_ids = administered_organization_ids(user)
    if org_ids:
        return LearnerScope(all_learners=False, organization_ids=tuple(org_ids))
    return None

"""Reads for accounts pages, scoped to the acting user, each with a fixed number of queries."""

from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db.models import Count, Exists, OuterRef, Prefetch, Q
from django.utils import timezone

from .models import AuditEntry, DataExport, DeletionRequest, Organization, OrganizationMembership, UserSession
from .privilege import acts_privileged

User = get_user_model()


def organizations_administered(*, user) -> list[Organization]:
    if not user.is_authenticated or not acts_privileged(user):
        return []
    return list(
        Organization.objects.filter(
            memberships__user=user, memberships__role=OrganizationMembership.Role.ADMIN
        ).distinct()
    )


def admin_memberships(*, user):
    """The user's university-admin memberships (a queryset): the one definition of that role. None
    while the session has not passed two-factor (accounts.privilege)."""
    if not acts_privileged(user):
        return OrganizationMembership.objects.none()
    return OrganizationMembership.objects.filter(user_id=user.pk, role=OrganizationMembership.Role.ADMIN)


def privileged_condition():
    """True for accounts holding any role beyond learner: staff, superusers, instructors of any
    course, holders of any organization role, of any group or permission. A university's sync
    never changes such an account, nor links it (integrations.services.sync and .links)."""
    return (
        Q(is_staff=True)
        | Q(is_superuser=True)
        | Exists(OrganizationMembership.objects.filter(user_id=OuterRef("pk")))
        | Exists(User.objects.filter(pk=OuterRef("pk"), taught_courses__isnull=False))
        | Exists(User.groups.through.objects.filter(user_id=OuterRef("pk")))
        | Exists(User.user_permissions.through.objects.filter(user_id=OuterRef("pk")))
    )


def is_privileged(*, user) -> bool:
    return User.objects.filter(pk=user.pk).filter(privileged_condition()).exists()


def is_university_admin(*, user) -> bool:
    return user.is_authenticated and admin_memberships(user=user).exists()


def organization_learner_progress(*, user, organizations: list[Organization]) -> list:
    """The learners of the organizations this user administers, each with their enrollments and,
    per enrollment, lessons done out of the course's lessons. Four queries whatever the size."""
    from courses.models import Enrollment, Lesson, LessonProgress

    if not organizations:
        return []
    learners = list(
        User.objects.filter(organization__in=organizations, erased_at__isnull=True)
        .select_related("organization")
        .prefetch_related(
            Prefetch("enrollments", queryset=Enrollment.objects.select_related("course").order_by("course__code"))
        )
        .order_by("organization__name", "full_name", "email")
    )
    course_ids = {e.course_id for u in learners for e in u.enrollments.all()}
    totals = dict(
        Lesson.objects.filter(module__course_id__in=course_ids)
        .values_list("module__course_id")
        .annotate(n=Count("id"))
        .values_list("module__course_id", "n")
    )
    done = {
        (row["user_id"], row["lesson__module__course_id"]): row["n"]
        for row in LessonProgress.objects.filter(
            user__in=[u.pk for u in learners], completed_at__isnull=False, lesson__module__course_id__in=course_ids
        )
        .values("user_id", "lesson__module__course_id")
        .annotate(n=Count("id"))
    }
    for learner in learners:
        for enrollment in learner.enrollments.all():
            enrollment.lessons_total = totals.get(enrollment.course_id, 0)
            enrollment.lessons_done = done.get((learner.pk, enrollment.course_id), 0)
    return learners


def session_list(*, user, current_key: str | None) -> list[UserSession]:
    """The user's live sessions (expired ones are left out), the current one flagged."""
    live = Session.objects.filter(expire_date__gt=timezone.now()).values("session_key")
    rows = list(UserSession.objects.filter(user=user, session_key__in=live).order_by("-created_at"))
    for row in rows:
        row.is_current = row.session_key == current_key
    return rows


def audit_list_for_subject(*, user, limit: int = 200) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(subject_user=user).order_by("-created_at", "-id")[:limit])


def privacy_overview(*, user) -> dict:
    return {
        "exports": list(DataExport.objects.filter(user=user).order_by("-requested_at")[:5]),
        "deletion": DeletionRequest.objects.filter(user=user, status=DeletionRequest.Status.PENDING).first(),
        "consents": list(user.consents.order_by("-notice_version")),
    }


def export_get(*, user, pk: int) -> DataExport | None:
    return DataExport.objects.filter(user=user, pk=pk).first()

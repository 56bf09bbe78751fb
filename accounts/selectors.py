"""Reads for accounts pages, scoped to the acting user, each with a fixed number of queries."""

from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from .models import AuditEntry, Consent, Organization, OrganizationMembership, UserSession
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


def session_list(*, user, current_key: str | None) -> list[UserSession]:
    """The user's live sessions (expired ones are left out), the current one flagged."""
    live = Session.objects.filter(expire_date__gt=timezone.now()).values("session_key")
    rows = list(UserSession.objects.filter(user=user, session_key__in=live).order_by("-created_at"))
    for row in rows:
        row.is_current = row.session_key == current_key
    return rows


def audit_list_for_subject(*, user, limit: int = 200) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(subject_user=user).order_by("-created_at", "-id")[:limit])


def consent_list(*, user) -> list[Consent]:
    """The versions of the privacy notice the user accepted, the newest first."""
    return list(Consent.objects.filter(user=user).order_by("-notice_version"))

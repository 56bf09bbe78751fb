"""Accounts' part of a learner's export and erasure: the profile, consents, changes of address
and audit trail. The privacy app collects these hooks (AccountsConfig.privacy_export and
.privacy_erase); it never reads or writes these tables itself."""

import uuid

from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import AuditEntry, Consent, EmailChange, OrganizationMembership
from .services import sessions_end_all


def export(*, user) -> dict[str, list[dict]]:
    """The user's profile, consents, changes of address and who read their data."""
    profile = {
        "email": user.email,
        "full_name": user.full_name,
        "preferred_language": user.preferred_language,
        "organization": user.organization.name if user.organization_id else "",
        "external_id": user.external_id or "",
        "date_joined": user.date_joined,
        "last_login": user.last_login,
        "email_verified_at": user.email_verified_at,
    }
    return {
        "profile": [profile],
        "consents": [
            {"notice_version": c.notice_version, "language": c.language, "accepted_at": c.accepted_at}
            for c in Consent.objects.filter(user=user).order_by("id")
        ],
        "email_changes": [
            {
                "old_email": c.old_email,
                "new_email": c.new_email,
                "status": c.status,
                "asked_by": c.requested_by,
                "asked_at": c.created_at,
                "decided_at": c.decided_at,
            }
            for c in EmailChange.objects.filter(user=user).order_by("id")
        ],  # fmt: skip
        "audit": [
            {
                "who": a.actor_label,
                "action": a.action,
                "object_type": a.object_type,
                "object_id": a.object_id,
                "at": a.created_at,
            }
            for a in AuditEntry.objects.filter(subject_user=user).order_by("id")
        ],  # fmt: skip
    }


def erase(*, user, now, reason: str) -> None:
    """End the user's sessions and devices, drop their consents, changes of address and roles, and
    wipe every personal field of the row (which stays, so that aggregates still count it). The
    privacy app runs this hook last: the others may still read the user's fields (the university
    is told the learner's external id)."""
    sessions_end_all(user=user)
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    Consent.objects.filter(user=user).delete()
    EmailChange.objects.filter(user=user).delete()
    OrganizationMembership.objects.filter(user=user).delete()
    user.email = f"erased-{user.pk}-{uuid.uuid4().hex[:8]}@erased.invalid"
    user.full_name = ""
    user.preferred_language = ""
    user.external_id = None
    user.roster_email = ""
    user.is_active = False
    user.is_staff = False
    user.is_superuser = False
    user.email_verified_at = None
    user.erased_at = now
    user.set_unusable_password()
    user.save()

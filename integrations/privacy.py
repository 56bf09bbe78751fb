"""Integrations' part of an erasure, collected by the privacy app (IntegrationsConfig.privacy_erase):
the learner's university is told (`learner.erased`, through the outbox, in the erasure's
transaction). It runs before accounts wipes the learner's fields, which the event names. Their
LTI identities (the LMS's ids for them) and grade links go: a later launch from the LMS would make
a new account, never reopen the erased one; undelivered scores are dropped with the links."""

from kernel.events import event_record

from .models import LtiGradeLink, LtiIdentity


def erase(*, user, now, reason: str) -> None:
    event_record(
        event_type="learner.erased",
        user=user,
        organization=user.organization,
        payload={
            "learner": {"id": user.pk, "external_id": user.external_id},
            "organization": user.organization.slug if user.organization_id else None,
            "erased_at": now.isoformat(),
            "reason": reason,
        },
    )
    LtiIdentity.objects.filter(user=user).delete()
    LtiGradeLink.objects.filter(user=user).delete()

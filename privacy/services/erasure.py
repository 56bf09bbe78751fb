"""Erasure: asked for by the learner (after a grace period, cancellable) or by retention. Each app
wipes its own part through its hook (privacy.hooks); privacy drops the exports and closes the
request."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.services import send_email

from ..hooks import erase_collect
from ..models import DeletionRequest
from .exports import exports_drop

User = get_user_model()


def deletion_request(*, user) -> DeletionRequest:
    """Schedule the erasure of the account after the grace period. Asked twice: one request."""
    effective = timezone.now() + timedelta(days=settings.KAFAAT_DELETION_GRACE_DAYS)
    try:
        with transaction.atomic():
            request = DeletionRequest.objects.create(user=user, effective_at=effective)
            send_email(user=user, template="deletion_scheduled", folder="privacy/email",
                       context={"effective_at": effective})  # fmt: skip
    except IntegrityError:
        request = DeletionRequest.objects.get(user=user, status=DeletionRequest.Status.PENDING)
    return request


@transaction.atomic
def deletion_cancel(*, user) -> bool:
    """Cancel a scheduled erasure during its grace period."""
    return bool(
        DeletionRequest.objects.filter(user=user, status=DeletionRequest.Status.PENDING).update(
            status=DeletionRequest.Status.CANCELLED
        )
    )


def account_erase(*, user_id: int, reason: str = "request") -> bool:
    """Anonymize an account for good, in one transaction: every app wipes its part (its hook: the
    university is told, `learner.erased`; the free text and code of submissions are wiped, scores,
    enrollments and progress kept so aggregates still count it; certificates revoked and their
    names wiped; sessions and devices ended; personal fields of the user wiped), then its exports
    are dropped and its request closed. Runs once: an account already erased is left alone."""
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=user_id).first()
        if user is None or user.erased_at is not None:
            return False
        now = timezone.now()
        exports_drop(user=user)
        erase_collect(user=user, now=now, reason=reason)
        DeletionRequest.objects.filter(user=user, status=DeletionRequest.Status.PENDING).update(
            status=DeletionRequest.Status.DONE, done_at=now
        )
    return True

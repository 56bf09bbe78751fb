"""Retention, enforced by the beat task: due erasures, expired exports, long-inactive accounts."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from ..models import DeletionRequest
from .erasure import account_erase
from .exports import exports_expire

User = get_user_model()


def deletions_run_due() -> int:
    """Erase the accounts whose grace period is over."""
    due = DeletionRequest.objects.filter(status=DeletionRequest.Status.PENDING, effective_at__lte=timezone.now())
    return sum(account_erase(user_id=uid) for uid in list(due.values_list("user_id", flat=True)))


def inactive_accounts_erase() -> int:
    """Erase learner accounts unused for KAFAAT_INACTIVE_ACCOUNT_DAYS (never staff, instructors
    or university admins: their accounts are closed by hand)."""
    cutoff = timezone.now() - timedelta(days=settings.KAFAAT_INACTIVE_ACCOUNT_DAYS)
    ids = (
        User.objects.filter(erased_at__isnull=True, is_staff=False, taught_courses__isnull=True,
                            memberships__isnull=True)
        .filter(Q(last_login__lt=cutoff) | Q(last_login__isnull=True, date_joined__lt=cutoff))
        .values_list("pk", flat=True)
        .distinct()
    )  # fmt: skip
    return sum(account_erase(user_id=uid, reason="retention") for uid in list(ids))


def retention_enforce() -> dict:
    """The beat task's work: due erasures, expired exports, long-inactive accounts."""
    return {
        "erased": deletions_run_due(),
        "exports_expired": exports_expire(),
        "inactive_erased": inactive_accounts_erase(),
    }

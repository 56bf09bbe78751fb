"""Invitations of learners created by a sync: inactive accounts with an unusable password, who
activate through the accounts app's invitation link (accounts.services.invitation_send). For a
stand-in (a row whose address already has an account) the "invitation" is the link offer, or the
notice, sent to that address's owner (links.py). The same beat run sends the confirmations and
notices of the changes of address a sync queued (accounts.services.email_changes_notify_pending).

The invitation row is written in the sync's transaction; the e-mails leave from the `events`
queue, which beat asks every 30 seconds to send what is due (a sync of 10,000 new learners is one
batch of rows, not 10,000 tasks).

An invitation is marked sent only once the mail server accepted its message, in its own commit
right after that message: a worker killed midway (soft time limit, crash) loses nothing and sends
nothing twice that was accepted. A worker claims a batch (select_for_update(skip_locked) then
`claimed_until`), so two workers never take the same row. A refused message is retried with
exponential backoff and fails after INVITE_MAX_ATTEMPTS tries; failed ones stay listed (admin,
API status) and can be resent. A mail server that is down delays invitations, never loses them."""

import logging
import smtplib
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from accounts.services import email_changes_notify_pending, invitation_send

from ..models import LearnerInvite
from .links import link_offer_send

log = logging.getLogger(__name__)
BATCH = 200
# A refusal that concerns this one message (its address); anything else (connection refused,
# 4xx for the whole session, timeout) means the server is not taking mail now.
_PER_MESSAGE = (smtplib.SMTPRecipientsRefused,)


def _due(now) -> QuerySet:
    return LearnerInvite.objects.filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
        sent_at__isnull=True,
        failed_at__isnull=True,
    )


def _claim(*, limit: int) -> list[int]:
    now = timezone.now()
    with transaction.atomic():
        ids = list(_due(now).select_for_update(skip_locked=True).order_by("id").values_list("id", flat=True)[:limit])
        LearnerInvite.objects.filter(pk__in=ids).update(
            claimed_until=now + timedelta(seconds=settings.INVITE_CLAIM_SECONDS)
        )
    return ids


def invite_backoff(*, attempts: int) -> timedelta:
    """The wait after the `attempts`-th refusal: BASE, 2 BASE, 4 BASE... capped at MAX."""
    seconds = settings.INVITE_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, settings.INVITE_RETRY_MAX_SECONDS))


def _record_refusal(invite: LearnerInvite, error: Exception) -> timedelta:
    attempts = invite.attempts + 1
    now = timezone.now()
    wait = invite_backoff(attempts=attempts)
    fields = {
        "attempts": attempts,
        "claimed_until": None,
        "last_error": f"{type(error).__name__}: {error}"[:1000],
        "next_attempt_at": now + wait,
    }
    if attempts >= settings.INVITE_MAX_ATTEMPTS:
        fields["failed_at"] = now
    LearnerInvite.objects.filter(pk=invite.pk).update(**fields)
    log.warning("invitation %s refused (attempt %s): %s", invite.pk, attempts, fields["last_error"])
    return wait


def _send_one(invite: LearnerInvite) -> bool:
    """Send the invitation's e-mail now (raises what the mail server says). False: nothing to send."""
    user = invite.user
    if user.is_active and user.has_usable_password():
        return False  # activated some other way meanwhile (e.g. a password reset)
    if user.erased_at is not None:
        return False
    if user.is_stand_in:
        link_offer_send(stand_in=user, immediate=True)
    else:
        invitation_send(user=user, immediate=True)
    return True


def invites_send(*, limit: int = BATCH) -> int:
    """E-mail the activation link to learners whose invitation is due, each marked sent in its own
    commit once the mail server accepted it. Call it outside any transaction. Returns how many
    were accepted."""
    ids = _claim(limit=limit)
    unfinished = set(ids)
    sent = 0
    try:
        for invite in LearnerInvite.objects.filter(pk__in=ids).select_related("user").order_by("id"):
            try:
                delivered = _send_one(invite)
            except SoftTimeLimitExceeded:
                raise  # the task's time is up: the finally below hands the rest back
            except Exception as error:  # noqa: BLE001 - one bad message must not block the others
                wait = _record_refusal(invite, error)
                unfinished.discard(invite.pk)
                # smtplib's errors are OSErrors, like a refused connection; anything else (a
                # template, an address) concerns this message only.
                if isinstance(error, OSError) and not isinstance(error, _PER_MESSAGE):
                    # The server takes no mail now: the rest of the batch waits as long, untried.
                    LearnerInvite.objects.filter(pk__in=unfinished).update(
                        claimed_until=None, next_attempt_at=timezone.now() + wait
                    )
                    unfinished.clear()
                    break
                continue
            LearnerInvite.objects.filter(pk=invite.pk).update(
                sent_at=timezone.now(), claimed_until=None, attempts=F("attempts") + int(delivered), last_error=""
            )
            unfinished.discard(invite.pk)
            sent += int(delivered)
    finally:
        if unfinished:  # stopped midway (soft time limit, crash): the next run takes them at once
            LearnerInvite.objects.filter(pk__in=unfinished, sent_at__isnull=True).update(claimed_until=None)
    return sent


def invites_send_pending(*, max_batches: int = 25) -> int:
    """Send due invitations batch by batch, then the queued changes of address. Returns how many
    invitations the mail server accepted."""
    total = 0
    for _batch in range(max_batches):
        sent = invites_send()
        total += sent
        if sent < BATCH:
            break  # all due ones taken, or the server stopped taking mail: the next beat run goes on
    email_changes_notify_pending()
    return total


def invites_resend(*, organization_ids: list[int], invite_ids: list[int] | None = None) -> int:
    """Make these organizations' unsent invitations (all, or `invite_ids`) due now with a fresh
    count of attempts; the next beat run sends them. Returns how many."""
    # A row inside a worker's live claim is being sent right now: releasing it would send it twice.
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=timezone.now())
    qs = LearnerInvite.objects.filter(free, organization_id__in=organization_ids, sent_at__isnull=True)
    if invite_ids is not None:
        qs = qs.filter(pk__in=invite_ids)
    return qs.update(failed_at=None, next_attempt_at=None, attempts=0, claimed_until=None, last_error="")


def invites_unsent_counts(*, organization_id: int) -> dict[str, int]:
    """How many of a university's invitations wait (pending) and how many gave up (failed)."""
    qs = LearnerInvite.objects.filter(organization_id=organization_id, sent_at__isnull=True)
    return {"pending": qs.filter(failed_at__isnull=True).count(), "failed": qs.filter(failed_at__isnull=False).count()}

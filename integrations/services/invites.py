"""Invitations of learners created by a sync: inactive accounts with an unusable password, who
activate through the accounts app's invitation link (accounts.services.invitation_send). For a
stand-in (a row whose address already has an account) the "invitation" is the link offer, or the
notice, sent to that address's owner (links.py). The same beat run sends the confirmations and
notices of the changes of address a sync queued (accounts.services.email_changes_notify_pending).

The invitation row is written in the sync's transaction; the e-mails leave from the `events`
queue, which beat asks every 30 seconds to send what is pending (a sync of 10,000 new learners
is one batch of rows, not 10,000 tasks). A broker or mail server that is down delays an
invitation but never loses it."""

from django.db import transaction
from django.utils import timezone

from accounts.services import email_changes_notify_pending, invitation_send

from ..models import LearnerInvite
from .links import link_offer_send

BATCH = 200


def invites_send(*, limit: int = BATCH) -> int:
    """E-mail the activation link to learners whose invitation has not gone out (the mail goes
    after the commit that marks them sent). Returns how many."""
    with transaction.atomic():
        invites = list(
            LearnerInvite.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(sent_at__isnull=True)
            .select_related("user")
            .order_by("id")[:limit]
        )
        sent = 0
        for invite in invites:
            user = invite.user
            if user.is_active and user.has_usable_password():
                continue  # activated some other way meanwhile (e.g. a password reset)
            if user.erased_at is not None:
                continue
            if user.is_stand_in:
                link_offer_send(stand_in=user)
            else:
                invitation_send(user=user)
            sent += 1
        LearnerInvite.objects.filter(pk__in=[i.pk for i in invites]).update(sent_at=timezone.now())
    return sent


def invites_send_pending(*, max_batches: int = 25) -> int:
    """Send pending invitations batch by batch (one transaction each), then the queued changes
    of address. Returns how many invitations."""
    total = 0
    for _batch in range(max_batches):
        sent = invites_send()
        total += sent
        if sent < BATCH:
            break
    email_changes_notify_pending()
    return total

"""Invitations of learners created by a sync: a one-time activation link by e-mail.

The invitation row is written in the sync's transaction; the e-mail leaves from the `events`
queue, which beat asks every 30 seconds to send what is pending (a sync of 10,000 new learners
is one batch of rows, not 10,000 tasks). A broker or mail server that is down delays an
invitation but never loses it."""

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import gettext as _

from config.errors import ApplicationError

from ..models import LearnerInvite

log = logging.getLogger(__name__)
User = get_user_model()
BATCH = 200


class ActivationRefused(ApplicationError):
    pass


def activation_url(user) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return settings.SITE_URL.rstrip("/") + reverse("integrations:activate", args=[uid, token])


def invites_send(*, limit: int = BATCH) -> int:
    """E-mail the activation link to learners whose invitation has not gone out. Returns how many."""
    sent = 0
    with transaction.atomic():
        invites = list(
            LearnerInvite.objects.select_for_update(skip_locked=True)
            .filter(sent_at__isnull=True)
            .select_related("user", "organization")
            .order_by("id")[:limit]
        )
        for invite in invites:
            user = invite.user
            send_mail(
                subject=_("Activate your Kafaat account"),
                message=_(
                    "Hello %(name)s,\n\n%(org)s has enrolled you on Kafaat. Choose your password to "
                    "activate your account:\n\n%(url)s\n\nThis link works once."
                )
                % {"name": user.get_short_name(), "org": invite.organization.name, "url": activation_url(user)},
                from_email=None,
                recipient_list=[user.email],
            )
            sent += 1
        LearnerInvite.objects.filter(pk__in=[i.pk for i in invites]).update(sent_at=timezone.now())
    return sent


def user_from_activation_link(*, uidb64: str, token: str):
    """The invited, not yet active user this link belongs to, or None."""
    try:
        pk = int(urlsafe_base64_decode(uidb64).decode())
    except (ValueError, TypeError, UnicodeDecodeError):
        return None
    user = User.objects.filter(pk=pk, is_active=False, learner_invite__activated_at__isnull=True).first()
    if user is None or not default_token_generator.check_token(user, token):
        return None
    return user


@transaction.atomic
def learner_activate(*, user, password: str) -> None:
    """Set the invited learner's password and activate the account; the link dies with it."""
    user.set_password(password)
    user.is_active = True
    user.save(update_fields=["password", "is_active", "updated_at"])
    LearnerInvite.objects.filter(user=user).update(activated_at=timezone.now())


def invites_send_pending(*, max_batches: int = 25) -> int:
    """Send pending invitations batch by batch (one transaction each). Returns how many."""
    total = 0
    for _batch in range(max_batches):
        sent = invites_send()
        total += sent
        if sent < BATCH:
            break
    return total

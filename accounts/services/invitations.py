"""Invitations: accounts created without a password (a university's sync, staff) activate
from an e-mailed link."""

from django.contrib.auth import get_user_model
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kernel.errors import ApplicationError
from kernel.sites import absolute_url

from .consent import consent_record
from .links import link_token_check, link_token_make
from .mail import send_email

User = get_user_model()


def invitation_send(*, user, immediate: bool = False) -> None:
    """E-mail an activation link to a user created without a password (university sync, staff):
    following it, they choose a password and accept the privacy notice. Safe to call again: the
    newest link works, and every link stops working once the account is activated."""
    if user.is_active and user.has_usable_password():
        raise ApplicationError(_("This account is already active."))
    if user.is_stand_in:
        # A stand-in waits for the owner of its address to link their own account: never usable.
        raise ApplicationError(_("This account cannot be activated."))
    token = link_token_make(user=user, purpose="invite")
    url = absolute_url(reverse("accounts:activate", args=[token]))
    send_email(user=user, template="invite", context={"url": url}, immediate=immediate)


@transaction.atomic
def invitation_accept(*, token: str, password: str, language: str):
    """Activate an invited account: set its password, verify its address, record consent."""
    user = link_token_check(token=token, purpose="invite")
    user.set_password(password)
    user.is_active = True
    user.email_verified_at = timezone.now()
    user.preferred_language = user.preferred_language or language
    user.save()
    consent_record(user=user, language=language)
    return user


def invitation_resend_for_token(*, token: str) -> bool:
    """Send a fresh invitation for an expired link (its signature is still ours). False when the
    token is forged or the account is already active."""
    try:
        data = signing.loads(token, salt="accounts.link.invite")
    except signing.BadSignature:
        return False
    user = User.objects.filter(pk=data.get("u"), erased_at__isnull=True).first()
    if user is None or (user.is_active and user.has_usable_password()) or user.is_stand_in:
        return False
    invitation_send(user=user)
    return True

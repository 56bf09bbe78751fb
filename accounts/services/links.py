"""Signed e-mail links: what a link proves, and the four ways it can fail."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from kernel.errors import ApplicationError

User = get_user_model()


class LinkInvalid(ApplicationError):
    """A link that was not made by us, or was altered."""


class LinkExpired(ApplicationError):
    """A genuine link past its lifetime."""


class LinkUsed(ApplicationError):
    """A genuine link whose job is already done (the password or e-mail changed since)."""


class LinkWrongAccount(ApplicationError):
    """A genuine link, opened by someone logged in to another account than the one it is for."""


# A link carries the user's id, its purpose and a fingerprint of the state it is meant to change
# (the password hash for an invitation, the address and verification time for a verification).
# Once that state changes the link is spent; `signing` tells a forged link from an expired one.


def _fingerprint(user, purpose: str) -> str:
    if purpose == "invite":
        state = f"{user.password}|{user.is_active}"
    else:
        state = f"{user.email}|{user.email_verified_at}"
    return salted_hmac(f"accounts.link.{purpose}", state, algorithm="sha256").hexdigest()[:20]


def link_token_make(*, user, purpose: str) -> str:
    return signing.dumps({"u": user.pk, "f": _fingerprint(user, purpose)}, salt=f"accounts.link.{purpose}")


def link_token_check(*, token: str, purpose: str):
    """The user a link was made for, or LinkInvalid / LinkExpired / LinkUsed."""
    salt = f"accounts.link.{purpose}"
    try:
        data = signing.loads(token, salt=salt, max_age=settings.KAFAAT_EMAIL_LINK_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise LinkExpired(_("This link has expired.")) from exc
    except signing.BadSignature as exc:
        raise LinkInvalid(_("This link is not valid: it may have been altered or copied incompletely.")) from exc
    user = User.objects.filter(pk=data.get("u"), erased_at__isnull=True).first()
    if user is None:
        raise LinkInvalid(_("This link is not valid: it may have been altered or copied incompletely."))
    if data.get("f") != _fingerprint(user, purpose):
        raise LinkUsed(_("This link has already been used."))
    return user

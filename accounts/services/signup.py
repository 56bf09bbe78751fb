"""Creating users, self sign-up and the proof that a person owns their address."""

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from kernel.sites import absolute_url

from .consent import consent_record
from .links import link_token_check, link_token_make
from .mail import send_email

User = get_user_model()


@transaction.atomic
def user_create(*, email: str, password: str | None, full_name: str = "", **extra) -> "User":
    """Create a user with a hashed password (None: an unusable one, activated later)."""
    return User.objects.create_user(email=email, password=password, full_name=full_name, **extra)


def _account_with_address(email: str):
    return User.objects.filter(email__iexact=email.strip()).first()


def user_signup(*, email: str, password: str, full_name: str, language: str) -> "User | None":
    """Self sign-up. Whether the address already has an account must not show, to the person
    signing up or in the time it takes: a new address gets an inactive account (usable from the
    e-mailed confirmation link), with consent to the privacy notice in force recorded; an address
    with an account changes nothing, and its owner is e-mailed that someone tried. The password is
    hashed either way. Returns the new user, or None."""
    email = email.strip().lower()
    existing = _account_with_address(email)
    if existing is None:
        try:
            with transaction.atomic():
                user = user_create(
                    email=email, password=password, full_name=full_name, preferred_language=language, is_active=False
                )
                consent_record(user=user, language=language)
                email_verification_send(user=user)
            return user
        except IntegrityError:  # a concurrent sign-up took the address between our read and insert
            existing = _account_with_address(email)
            if existing is None:
                raise
    make_password(password)  # the work a new account costs, so that the answer's time tells nothing
    with transaction.atomic():
        signup_attempt_notify(user=existing)
    return None


def signup_attempt_notify(*, user) -> None:
    """Tell the owner of an address that someone tried to sign up with it, with what helps them:
    logging in or resetting the password, or the link their account still waits for."""
    context = {
        "login_url": absolute_url(reverse("accounts:login")),
        "reset_url": absolute_url(reverse("accounts:password-reset")),
        "kind": "account",
        "url": "",
    }
    if not user.is_active and user.has_usable_password() and user.email_verified_at is None:
        context["kind"] = "unconfirmed"
        token = link_token_make(user=user, purpose="verify")
        context["url"] = absolute_url(reverse("accounts:verify", args=[token]))
    elif not user.is_active and not user.has_usable_password() and not user.is_stand_in:
        context["kind"] = "invited"
        token = link_token_make(user=user, purpose="invite")
        context["url"] = absolute_url(reverse("accounts:activate", args=[token]))
    send_email(user=user, template="signup_exists", context=context)


def email_verification_send(*, user) -> None:
    """E-mail a link that proves the user owns their address."""
    token = link_token_make(user=user, purpose="verify")
    send_email(user=user, template="verify", context={"url": absolute_url(reverse("accounts:verify", args=[token]))})


@transaction.atomic
def email_verify(*, token: str):
    """Mark the address of the link's user as verified. A self sign-up (a password, never logged
    in) becomes usable from this link: it is activated."""
    user = link_token_check(token=token, purpose="verify")
    user.email_verified_at = timezone.now()
    if not user.is_active and user.has_usable_password() and user.last_login is None and not user.is_stand_in:
        user.is_active = True
    user.save(update_fields=["email_verified_at", "is_active", "updated_at"])
    return user

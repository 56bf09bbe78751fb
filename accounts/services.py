"""Accounts: who people are, how they prove it (passwords, e-mail links, TOTP), which roles they
hold, and the rights they have over their data (consent, export, erasure, audit). Every write to
users, sessions, consents, exports and erasures lives here, each owning its transaction."""

import io
import json
import logging
import uuid
import zipfile
from datetime import timedelta
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model, user_login_failed
from django.contrib.auth.hashers import make_password
from django.contrib.sessions.models import Session
from django.core import signing
from django.core.mail import send_mail
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from config.csvsafe import safe_dict_writer
from config.errors import ApplicationError
from config.sites import absolute_url

from . import privilege
from .models import (
    AuditEntry,
    Consent,
    DataExport,
    DeletionRequest,
    EmailChange,
    OrganizationMembership,
    UserSession,
)

User = get_user_model()
log = logging.getLogger(__name__)


class LinkInvalid(ApplicationError):
    """A link that was not made by us, or was altered."""


class LinkExpired(ApplicationError):
    """A genuine link past its lifetime."""


class LinkUsed(ApplicationError):
    """A genuine link whose job is already done (the password or e-mail changed since)."""


class LinkWrongAccount(ApplicationError):
    """A genuine link, opened by someone logged in to another account than the one it is for."""


# --- Signed e-mail links --------------------------------------------------------------------
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


def send_email(*, user, template: str, context: dict, to: str | None = None) -> None:
    """Render and send one e-mail in the user's language, after the surrounding commit, to the
    user's address (or `to`). Templates are `accounts/email/<template>{,_subject}.txt`."""
    language = user.get_language()
    recipient = to or user.email

    def send():
        with translation.override(language):
            ctx = {"user": user, "site_url": settings.SITE_URL, **context}
            subject = "".join(render_to_string(f"accounts/email/{template}_subject.txt", ctx).splitlines())
            body = render_to_string(f"accounts/email/{template}.txt", ctx)
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [recipient])

    transaction.on_commit(send)


_send = send_email


# --- Users, sign-up, verification, invitation -----------------------------------------------


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
    _send(user=user, template="verify", context={"url": absolute_url(reverse("accounts:verify", args=[token]))})


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


def invitation_send(*, user) -> None:
    """E-mail an activation link to a user created without a password (university sync, staff):
    following it, they choose a password and accept the privacy notice. Safe to call again: the
    newest link works, and every link stops working once the account is activated."""
    if user.is_active and user.has_usable_password():
        raise ApplicationError(_("This account is already active."))
    if user.is_stand_in:
        # A stand-in waits for the owner of its address to link their own account: never usable.
        raise ApplicationError(_("This account cannot be activated."))
    token = link_token_make(user=user, purpose="invite")
    _send(user=user, template="invite", context={"url": absolute_url(reverse("accounts:activate", args=[token]))})


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


# --- Changes of address ---------------------------------------------------------------------
# The address is how an account logs in and resets its password: whoever controls it controls the
# account. So on an activated account a new address only takes effect once its owner, logged in,
# confirms it from a link sent to that address, and the old address is told at once (with a link
# to cancel). A never-activated invitee has nothing to protect yet: its address is corrected at
# once, the invitation goes to the new address (activating is the confirmation) and the old one is
# told. Every path (the admin, a university's sync or OneRoster import) goes through these rules.


def _change_fingerprint(change: EmailChange, purpose: str) -> str:
    state = f"{change.pk}|{change.status}|{change.new_email}|{change.user.email}"
    return salted_hmac(f"accounts.link.{purpose}", state, algorithm="sha256").hexdigest()[:20]


def email_change_token(*, change: EmailChange, purpose: str = "email_change") -> str:
    """A link token for a change: `email_change` (confirm, sent to the new address) or
    `email_change_cancel` (sent to the old one). Both stop working once the change is decided."""
    return signing.dumps({"c": change.pk, "f": _change_fingerprint(change, purpose)}, salt=f"accounts.link.{purpose}")


def email_change_check(*, token: str, purpose: str = "email_change", for_update: bool = False) -> EmailChange:
    """The pending change a link was made for, or LinkInvalid / LinkExpired / LinkUsed. With
    `for_update` (inside a transaction that already locked the account's row: every change of
    address locks the user first, then its changes) the change's row is locked too, so what it
    says cannot change before the caller decides it."""
    try:
        data = signing.loads(token, salt=f"accounts.link.{purpose}", max_age=settings.KAFAAT_EMAIL_LINK_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise LinkExpired(_("This link has expired.")) from exc
    except signing.BadSignature as exc:
        raise LinkInvalid(_("This link is not valid: it may have been altered or copied incompletely.")) from exc
    changes = EmailChange.objects.select_related("user")
    if for_update:
        changes = changes.select_for_update(of=("self",))
    change = changes.filter(pk=data.get("c"), user__erased_at__isnull=True).first()
    if change is None:
        raise LinkInvalid(_("This link is not valid: it may have been altered or copied incompletely."))
    if data.get("f") != _change_fingerprint(change, purpose) or change.status != EmailChange.Status.PENDING:
        raise LinkUsed(_("This link has already been used."))
    return change


def _address_taken(email: str, *, exclude_pk=None) -> bool:
    return User.objects.filter(email__iexact=email).exclude(pk=exclude_pk).exists()


def email_change_notify(*, change: EmailChange) -> None:
    """Send what a change calls for, after the commit: to a pending one, the confirmation link to
    the new address and the notice (with a cancel link) to the old one; to a corrected invitee's,
    the notice to the old address only (the invitation itself goes out as invitations do)."""
    user = change.user
    context = {"change": change, "requested_by": change.requested_by}
    if change.status == EmailChange.Status.PENDING:
        confirm = absolute_url(reverse("accounts:email-change-confirm", args=[email_change_token(change=change)]))
        cancel_token = email_change_token(change=change, purpose="email_change_cancel")
        cancel = absolute_url(reverse("accounts:email-change-cancel", args=[cancel_token]))
        send_email(user=user, template="email_change_confirm", context={**context, "url": confirm},
                   to=change.new_email)  # fmt: skip
        send_email(user=user, template="email_change_notice", context={**context, "url": cancel},
                   to=change.old_email)  # fmt: skip
    elif change.status == EmailChange.Status.CORRECTED:
        send_email(user=user, template="invite_moved", context=context, to=change.old_email)


@transaction.atomic
def email_change_request(*, user, new_email: str, requested_by: str) -> EmailChange:
    """Ask to change the user's address (staff in the admin). An activated account keeps its
    address until the owner confirms the new one; a never-activated invitee's is corrected now and
    invited again. Either way the old address is told. A pending change is replaced."""
    new_email = User.objects.normalize_email(new_email.strip()).lower()
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.erased_at is not None or user.is_stand_in:
        raise ApplicationError(_("The address of this account cannot be changed."), field="email")
    if new_email == user.email.lower():
        raise ApplicationError(_("This is already the account's address."), field="email")
    now = timezone.now()
    EmailChange.objects.filter(user=user, status=EmailChange.Status.PENDING).update(
        status=EmailChange.Status.CANCELLED, decided_at=now
    )
    if user.has_usable_password():
        change = EmailChange.objects.create(
            user=user, old_email=user.email, new_email=new_email, requested_by=requested_by, notified_at=now
        )
        email_change_notify(change=change)
        return change
    if _address_taken(new_email, exclude_pk=user.pk):
        raise ApplicationError(_("This address is already used by another account."), field="email")
    change = EmailChange.objects.create(
        user=user, old_email=user.email, new_email=new_email, requested_by=requested_by, notified_at=now,
        status=EmailChange.Status.CORRECTED, decided_at=now,
    )  # fmt: skip
    user.email = new_email
    user.email_verified_at = None
    user.set_unusable_password()  # a new one: every invitation sent to the old address stops working
    user.save(update_fields=["email", "email_verified_at", "password", "updated_at"])
    email_change_notify(change=change)
    if not user.is_active:
        invitation_send(user=user)
    return change


def email_change_confirm(*, token: str, user) -> EmailChange:
    """The owner, logged in, confirms the new address: it becomes the one to log in with."""
    with transaction.atomic():
        # The account first, then the change (the order of every change of address): a cancel
        # or a newer request running meanwhile is seen, not overwritten.
        account = User.objects.select_for_update().get(pk=user.pk)
        change = email_change_check(token=token, for_update=True)
        if change.user_id != user.pk:
            raise LinkWrongAccount(
                _("This link is for another account. Log in to the account whose address is changing.")
            )
        if _address_taken(change.new_email, exclude_pk=account.pk):
            raise ApplicationError(_("This address is already used by another account."))
        now = timezone.now()
        account.email = change.new_email
        account.email_verified_at = now
        try:
            with transaction.atomic():
                account.save(update_fields=["email", "email_verified_at", "updated_at"])
        except IntegrityError:  # taken by a concurrent sign-up
            raise ApplicationError(_("This address is already used by another account.")) from None
        change.status = EmailChange.Status.CONFIRMED
        change.decided_at = now
        change.save(update_fields=["status", "decided_at"])
    return change


@transaction.atomic
def email_change_cancel(*, token: str) -> EmailChange:
    """Cancel a pending change from the link sent to the old address. Raises LinkUsed when the
    owner confirmed it (or a newer request replaced it) first."""
    change = email_change_check(token=token, purpose="email_change_cancel")
    User.objects.select_for_update().filter(pk=change.user_id).first()  # as email_change_confirm
    change = email_change_check(token=token, purpose="email_change_cancel", for_update=True)
    change.status = EmailChange.Status.CANCELLED
    change.decided_at = timezone.now()
    change.save(update_fields=["status", "decided_at"])
    return change


def email_changes_notify_pending(*, limit: int = 200) -> int:
    """Send the confirmations and notices of changes queued without them (a university's sync
    queues them in bulk), one transaction per batch. Returns how many changes were sent."""
    total = 0
    while True:
        with transaction.atomic():
            changes = list(
                EmailChange.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(notified_at__isnull=True)
                .select_related("user")
                .order_by("id")[:limit]
            )
            for change in changes:
                if change.user.erased_at is None:
                    email_change_notify(change=change)  # a change replaced meanwhile sends nothing
            EmailChange.objects.filter(pk__in=[c.pk for c in changes]).update(notified_at=timezone.now())
        total += len(changes)
        if len(changes) < limit:
            return total


# --- Roles ----------------------------------------------------------------------------------


def user_requires_2fa(*, user) -> bool:
    """Staff, superusers, instructors of any course and university admins must use two-factor
    (the rule lives in accounts.privilege)."""
    return privilege.user_requires_2fa(user)


@transaction.atomic
def membership_grant(*, user, organization, role: str = OrganizationMembership.Role.ADMIN):
    membership, _created = OrganizationMembership.objects.get_or_create(user=user, organization=organization, role=role)
    return membership


# --- Sessions -------------------------------------------------------------------------------


def session_record(*, request, user) -> None:
    """Remember a new login's session key, so its owner can list and end it."""
    session = request.session
    if session.session_key is None:
        session.save()
    meta = getattr(request, "META", {})
    UserSession.objects.update_or_create(
        session_key=session.session_key,
        defaults={
            "user": user,
            "ip_address": meta.get("REMOTE_ADDR") or None,
            "user_agent": (meta.get("HTTP_USER_AGENT") or "")[:300],
        },
    )


@transaction.atomic
def session_end(*, user, session_key: str) -> bool:
    """End one of the user's sessions (never someone else's)."""
    if not isinstance(session_key, str) or not session_key.isalnum() or len(session_key) > 40:
        return False  # not a session key (and a NUL byte would make PostgreSQL refuse the query)
    row = UserSession.objects.filter(user=user, session_key=session_key).first()
    if row is None:
        return False
    Session.objects.filter(session_key=session_key).delete()
    row.delete()
    return True


@transaction.atomic
def sessions_end_all(*, user, keep_request=None) -> int:
    """End every session of the user; with `keep_request`, all but that request's own, which is
    recorded again under its (possibly new) key. Called on password change and reset."""
    keep = keep_request.session.session_key if keep_request is not None else None
    keys = list(UserSession.objects.filter(user=user).exclude(session_key=keep).values_list("session_key", flat=True))
    Session.objects.filter(session_key__in=keys).delete()
    UserSession.objects.filter(session_key__in=keys).delete()
    if keep_request is not None:
        session_record(request=keep_request, user=user)
    return len(keys)


# --- Two-factor -----------------------------------------------------------------------------


def totp_device_start(*, user):
    """The user's TOTP device being set up (unconfirmed), created on first call."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    return device


def _throttle_failure(*, request, user) -> None:
    # A wrong code counts toward the same lock-out as a wrong password (django-axes listens).
    user_login_failed.send(sender=__name__, credentials={"username": user.email}, request=request)


def totp_device_confirm(*, request, user, token: str) -> list[str]:
    """Confirm the device with a first code, log the session in as verified, and issue ten new
    recovery codes (returned once, stored by django-otp's static device). A wrong code counts
    toward the login throttle."""
    import django_otp

    device = totp_device_start(user=user)
    if not device.verify_token((token or "").strip().replace(" ", "")):
        _throttle_failure(request=request, user=user)
        raise ApplicationError(_("This code is not right. Check your device's clock and try again."), field="token")
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        type(device).objects.filter(user=user).exclude(pk=device.pk).delete()
        codes = recovery_codes_regenerate(user=user)
    django_otp.login(request, device)
    return codes


@transaction.atomic
def recovery_codes_regenerate(*, user) -> list[str]:
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

    device, _created = StaticDevice.objects.get_or_create(user=user, name="recovery", defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(10)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


def otp_verify(*, request, user, token: str) -> bool:
    """Check a TOTP or recovery code for this session; a wrong one counts toward the throttle."""
    import django_otp
    from django_otp import match_token

    device = match_token(user, (token or "").strip().replace(" ", ""))
    if device is None:
        _throttle_failure(request=request, user=user)
        return False
    django_otp.login(request, device)
    return True


def user_has_totp(*, user) -> bool:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def throttle_unlock(*, email: str) -> int:
    """Staff: lift a login lock-out now. Returns the number of attempt records removed."""
    from axes.utils import reset

    return reset(username=email.strip().lower())


# --- Consent --------------------------------------------------------------------------------


def consent_record(*, user, language: str) -> Consent:
    """Record that the user accepted the privacy notice in force."""
    version = settings.KAFAAT_PRIVACY_NOTICE_VERSION
    consent, _created = Consent.objects.get_or_create(
        user=user, notice_version=version, defaults={"language": language[:8]}
    )
    return consent


def consent_needed(*, user) -> bool:
    """True when the user consented to an older notice than the one in force. Users with no
    consent at all (created by staff or by a university sync) consent at activation."""
    latest = Consent.objects.filter(user=user).order_by("-notice_version").values_list("notice_version", flat=True)
    latest = latest.first()
    return latest is not None and latest < settings.KAFAAT_PRIVACY_NOTICE_VERSION


# --- Audit ----------------------------------------------------------------------------------


def audit_reads(*, actor, action: str, subjects, obj=None) -> None:
    """Record that `actor` read the data of each of `subjects` (users or user ids): the one
    writer of AuditEntry, which every page showing another person's data calls, whatever the
    page, the role or the request's headers. The actor's own data is not recorded. One insert
    whatever the number of subjects; a read already recorded for the same actor, action, subject
    and object in the current KAFAAT_AUDIT_DEDUPE_SECONDS slot is not recorded again (a unique
    constraint decides, so concurrent polls cannot both write)."""
    if actor is None or not actor.is_authenticated:
        return
    ids = sorted({getattr(s, "pk", s) for s in subjects if s is not None} - {actor.pk, None})
    if not ids:
        return
    seconds = settings.KAFAAT_AUDIT_DEDUPE_SECONDS
    row = {
        "actor_id": actor.pk,
        "actor_label": actor.get_full_name() or actor.email,
        "action": action,
        "object_type": obj._meta.label_lower if obj is not None else "",
        "object_id": str(obj.pk) if obj is not None else "",
        "created_at": timezone.now(),
    }
    row["dedupe_slot"] = int(row["created_at"].timestamp()) // seconds if seconds > 0 else None
    if connection.vendor == "postgresql":
        # A gradebook export audits thousands of learners: one statement over an array is about
        # three times faster than bulk_create's model instances (measured: 20,000 rows).
        columns = ", ".join(connection.ops.quote_name(c) for c in [*row, "subject_user_id"])
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {connection.ops.quote_name(AuditEntry._meta.db_table)} ({columns}) "  # noqa: S608
                f"SELECT {', '.join(['%s'] * len(row))}, u FROM unnest(%s::bigint[]) AS u ON CONFLICT DO NOTHING",
                [*row.values(), ids],
            )
        return
    AuditEntry.objects.bulk_create([AuditEntry(subject_user_id=uid, **row) for uid in ids], ignore_conflicts=True)


def audit_record(*, actor, action: str, subject_user, obj=None) -> None:
    """Record that `actor` looked at `subject_user`'s data (nothing when they are the same)."""
    audit_reads(actor=actor, action=action, subjects=[subject_user], obj=obj)


def audit_record_many(*, actor, action: str, subject_users) -> None:
    """One audit entry per subject user, in one query."""
    audit_reads(actor=actor, action=action, subjects=subject_users)


# --- Export ---------------------------------------------------------------------------------


def export_request(*, user) -> DataExport:
    """Ask for a data export. While one is being prepared, asking again returns it instead of
    starting another (a partial unique constraint backs this under concurrency)."""
    from .tasks import export_build_task

    try:
        with transaction.atomic():
            export = DataExport.objects.create(user=user)
            export_build_task.delay_on_commit(export.pk)
    except IntegrityError:
        export = DataExport.objects.get(user=user, status=DataExport.Status.PENDING)
    return export


def _export_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _rows_to_csv(rows: list[dict]) -> str:
    """Rows as CSV; a text cell that starts like a formula is quoted (config.csvsafe)."""
    out = io.StringIO()
    if rows:
        writer = safe_dict_writer(out, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {k: json.dumps(v, cls=DjangoJSONEncoder) if isinstance(v, dict | list) else v for k, v in row.items()}
            )
    return out.getvalue()


def export_sections(*, user) -> dict[str, list[dict]]:
    """Everything the platform holds about the user, as named lists of rows."""
    from courses.models import Enrollment, LessonProgress
    from grading.models import Submission

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
    sections = {
        "profile": [profile],
        "enrollments": [
            {
                "course": e.course.code,
                "title": e.course.title,
                "status": e.status,
                "source": e.source,
                "enrolled_at": e.created_at,
                "completed_at": e.completed_at,
            }
            for e in Enrollment.objects.filter(user=user).select_related("course").order_by("id")
        ],  # fmt: skip
        "lesson_progress": [
            {"lesson": p.lesson.title, "viewed_at": p.viewed_at, "completed_at": p.completed_at}
            for p in LessonProgress.objects.filter(user=user).select_related("lesson").order_by("id")
        ],
        "submissions": [
            {
                "id": s.pk,
                "course": s.assignment.course.code,
                "assignment": s.assignment.title,
                "attempt": s.attempt,
                "status": s.status,
                "answer": s.answer,
                "score": s.score,
                "max_score": s.max_score,
                "feedback": s.feedback,
                "submitted_at": s.submitted_at,
                "graded_at": s.graded_at,
            }
            for s in Submission.objects.filter(user=user).select_related("assignment__course").order_by("id")
        ],  # fmt: skip
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
    if apps.is_installed("certificates"):
        sections["certificates"] = _export_generic(app_label="certificates", user=user)
    return sections


def _export_generic(*, app_label: str, user) -> list[dict]:
    """Rows of every model of an app that points at the user through a `user` foreign key."""
    from django.forms.models import model_to_dict

    rows = []
    for model in apps.get_app_config(app_label).get_models():
        field = next((f for f in model._meta.fields if f.name in {"user", "learner"} and f.is_relation), None)
        if field is None:
            continue
        for obj in model.objects.filter(**{field.name: user}).order_by("pk"):
            rows.append({"type": model._meta.model_name, **{k: v for k, v in model_to_dict(obj).items()}})
    return rows


def export_build(*, export_id: int) -> DataExport | None:
    """Build the zip of an export still pending (JSON and CSV per section) and mark it ready.
    A redelivered task finds it no longer pending and does nothing."""
    with transaction.atomic():
        export = DataExport.objects.select_for_update().select_related("user").filter(pk=export_id).first()
        if export is None or export.status != DataExport.Status.PENDING:
            return export
        sections = export_sections(user=export.user)
        path = _export_dir() / f"{uuid.uuid4().hex}.zip"
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("README.txt", _("Everything Kafaat holds about you, as JSON and CSV.") + "\n")
            for name, rows in sections.items():
                zf.writestr(f"{name}.json", json.dumps(rows, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2))
                zf.writestr(f"{name}.csv", _rows_to_csv(rows))
        now = timezone.now()
        export.status = DataExport.Status.READY
        export.file_path = path.name
        export.ready_at = now
        export.expires_at = now + timedelta(hours=settings.KAFAAT_EXPORT_TTL_HOURS)
        export.save(update_fields=["status", "file_path", "ready_at", "expires_at"])
    _send(user=export.user, template="export_ready", context={"url": absolute_url(reverse("accounts:privacy"))})
    return export


def export_file(*, export: DataExport) -> Path | None:
    if export.status != DataExport.Status.READY or export.expires_at <= timezone.now() or not export.file_path:
        return None
    path = _export_dir() / Path(export.file_path).name
    return path if path.exists() else None


@transaction.atomic
def exports_expire() -> int:
    """Delete export files past their time and mark them expired."""
    due = list(
        DataExport.objects.select_for_update(skip_locked=True).filter(
            status=DataExport.Status.READY, expires_at__lte=timezone.now()
        )
    )
    for export in due:
        (_export_dir() / Path(export.file_path).name).unlink(missing_ok=True)
        export.status = DataExport.Status.EXPIRED
        export.file_path = ""
        export.save(update_fields=["status", "file_path"])
    return len(due)


# --- Deletion (erasure) ---------------------------------------------------------------------


def deletion_request(*, user) -> DeletionRequest:
    """Schedule the erasure of the account after the grace period. Asked twice: one request."""
    effective = timezone.now() + timedelta(days=settings.KAFAAT_DELETION_GRACE_DAYS)
    try:
        with transaction.atomic():
            request = DeletionRequest.objects.create(user=user, effective_at=effective)
            _send(user=user, template="deletion_scheduled", context={"effective_at": effective})
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
    """Anonymize an account for good: wipe personal fields and the free text and code of its
    submissions, keep scores, enrollments and progress (so aggregates still count it), end its
    sessions and devices, drop its exports, and tell its university (`learner.erased`). Runs
    once: an account already erased is left alone."""
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from grading.models import GradeRecord, Submission
    from integrations.services import event_record

    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=user_id).first()
        if user is None or user.erased_at is not None:
            return False
        now = timezone.now()
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
        Submission.objects.filter(user=user).update(answer={}, feedback={}, staff_log="")
        GradeRecord.objects.filter(submission__user=user).update(feedback={}, reason="")
        # Enrollments and lesson progress stay: they carry no personal field.
        if apps.is_installed("certificates"):
            _certificates_erase(user=user, now=now)
        sessions_end_all(user=user)
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        for export in DataExport.objects.filter(user=user).exclude(file_path=""):
            (_export_dir() / Path(export.file_path).name).unlink(missing_ok=True)
        DataExport.objects.filter(user=user).delete()
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
        DeletionRequest.objects.filter(user=user, status=DeletionRequest.Status.PENDING).update(
            status=DeletionRequest.Status.DONE, done_at=now
        )
    return True


def _certificates_erase(*, user, now) -> None:
    """A certificate names its holder, in its page and inside its signed credential: revoke it (so
    /verify/ still answers, as revoked) and wipe the name and the credential."""
    from certificates.models import Certificate

    Certificate.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=now, revoked_reason="The holder erased their account (right to erasure)."
    )
    Certificate.objects.filter(user=user).update(learner_name="", credential={})


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

"""Changes of address.

The address is how an account logs in and resets its password: whoever controls it controls the
account. So on an activated account a new address only takes effect once its owner, logged in,
confirms it from a link sent to that address, and the old address is told at once (with a link
to cancel). A never-activated invitee has nothing to protect yet: its address is corrected at
once, the invitation goes to the new address (activating is the confirmation) and the old one is
told. Every path (the admin, a university's sync or OneRoster import) goes through these rules.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from kernel.errors import ApplicationError
from kernel.sites import absolute_url

from ..models import EmailChange
from .invitations import invitation_send
from .links import LinkExpired, LinkInvalid, LinkUsed, LinkWrongAccount
from .mail import send_email

User = get_user_model()


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

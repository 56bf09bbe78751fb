"""Linking an existing account to a university's roster, only by its owner's confirmation.

A sync row whose address already has an account creates a *stand-in* learner (see sync.py): it
holds the row's external id and enrollments, and looks, to the university, like any invited
learner who has not accepted yet. When the invitations go out (invites.py), the owner of the
address gets, in their language:
- a link offer when their account may be linked: a plain learner (no staff, teaching, admin or
  any other role), not another organization's member, without an external id. The link is signed,
  expires (KAFAAT_EMAIL_LINK_MAX_AGE), works once, and needs its owner logged in to confirm (POST).
  Confirming moves the stand-in's enrollments to the account, gives it the university's
  organization and external id, and removes the stand-in. The account's own address, name and
  password never change: later syncs manage its enrollments, never the account.
- otherwise a notice that nothing was changed and that no link can be made (the owner of a staff
  or instructor account should know that a university's system sent their address).
The university's answer and reads are the same in every case."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from accounts.selectors import is_privileged
from accounts.services import LinkExpired, LinkInvalid, LinkUsed, LinkWrongAccount, invitation_send, send_email
from accounts.services.learners import stand_in_replace, stand_in_to_invitee
from courses.enrollments import enrollments_move
from courses.models import Enrollment
from kernel.errors import ApplicationError
from kernel.events import announce
from kernel.sites import absolute_url

from ..models import AuditEntry

User = get_user_model()
SALT = "integrations.link"


class LinkRefused(ApplicationError):
    """The account may not (or no longer) be linked to this university."""


def link_eligible(*, account, organization) -> bool:
    """May this account be linked to this university's roster? Never a privileged account, one
    of another organization, or one that already has an external id."""
    if account.erased_at is not None or account.is_stand_in or account.external_id is not None:
        return False
    if account.organization_id not in (None, organization.pk):
        return False
    return not is_privileged(user=account)


def _fingerprint(stand_in, account) -> str:
    state = (
        f"{stand_in.pk}|{stand_in.roster_email}|{stand_in.organization_id}|{stand_in.external_id}|"
        f"{account.pk}|{account.email}|{account.organization_id}|{account.external_id}"
    )
    return salted_hmac(SALT, state, algorithm="sha256").hexdigest()[:20]


def link_token_make(*, stand_in, account) -> str:
    return signing.dumps({"s": stand_in.pk, "a": account.pk, "f": _fingerprint(stand_in, account)}, salt=SALT)


def link_token_check(*, token: str, for_update: bool = False):
    """(stand-in, account) of a link offer, or LinkInvalid / LinkExpired / LinkUsed."""
    try:
        data = signing.loads(token, salt=SALT, max_age=settings.KAFAAT_EMAIL_LINK_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise LinkExpired(_("This link has expired.")) from exc
    except signing.BadSignature as exc:
        raise LinkInvalid(_("This link is not valid: it may have been altered or copied incompletely.")) from exc
    users = User.objects.select_related("organization").filter(pk__in=[data.get("s"), data.get("a")])
    if for_update:
        users = users.select_for_update(of=("self",)).order_by("pk")
    found = {u.pk: u for u in users}
    stand_in, account = found.get(data.get("s")), found.get(data.get("a"))
    if stand_in is None or account is None or not stand_in.is_stand_in or account.erased_at is not None:
        raise LinkUsed(_("This link has already been used."))  # the stand-in goes once linked
    if data.get("f") != _fingerprint(stand_in, account):
        raise LinkUsed(_("This link has already been used."))
    return stand_in, account


def link_offer_send(*, stand_in, immediate: bool = False) -> None:
    """E-mail the owner of a stand-in's address: a link offer, or the notice that nothing changed.
    If the address has no account any more, the stand-in becomes a plain invitee and is invited."""
    account = (
        User.objects.filter(email__iexact=stand_in.roster_email, erased_at__isnull=True).exclude(pk=stand_in.pk).first()
    )
    organization = stand_in.organization
    if account is None:
        if stand_in_to_invitee(stand_in=stand_in):
            invitation_send(user=stand_in, immediate=immediate)
        return
    context = {
        "organization": organization,
        "external_id": stand_in.external_id,
        "courses": [e.course.title for e in Enrollment.objects.filter(user=stand_in).select_related("course")],
    }
    if link_eligible(account=account, organization=organization):
        token = link_token_make(stand_in=stand_in, account=account)
        context["url"] = absolute_url(reverse("integrations:link-confirm", args=[token]))
        send_email(user=account, template="link_offer", context=context, immediate=immediate)
    else:
        send_email(user=account, template="link_refused", context=context, immediate=immediate)


def link_confirm(*, token: str, user):
    """The owner, logged in, confirms a link offer: the stand-in's enrollments move to their
    account, which gets the university's organization and external id, with what was recorded
    about the stand-in (grade overrides, reads); the stand-in goes. Nothing else of the account
    changes. Returns the account."""
    with transaction.atomic():
        stand_in, account = link_token_check(token=token, for_update=True)
        if account.pk != user.pk:
            raise LinkWrongAccount(
                _("This link is for another account. Log in to the account that received the e-mail.")
            )
        organization = stand_in.organization
        if not link_eligible(account=account, organization=organization):
            raise LinkRefused(_("This account can no longer be linked to a university's records."))
        now = timezone.now()
        external_id = stand_in.external_id
        moved = enrollments_move(from_user=stand_in, to_user=account, now=now)
        # What other apps recorded about the roster entry is the learner's, and would go with the
        # stand-in (its foreign keys cascade): analytics moves its grade overrides.
        announce("learner.linked", stand_in=stand_in, account=account, organization=organization)
        stand_in_replace(stand_in=stand_in, account=account)
        AuditEntry.objects.create(
            organization=organization,
            endpoint="links/confirm",
            action="learner.linked",
            counts={"enrollments": moved},
            detail={"external_id": external_id, "user_id": account.pk},
        )
    return account

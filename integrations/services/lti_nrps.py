"""LTI Names and Role Provisioning: an instructor pulls their LMS course's members into Kafaat.

The members are read with pylti1p3's NRPS client, then enrolled through the university sync
(`enrollment_sync`, upsert mode: never a drop), so the same rules hold: accounts keyed by the
university's id for the person (the LMS's `lis_person_sourcedid` when it gives one, which is the
id the university's own sync uses, else the LMS's user id), invitations for new accounts, events
and an audit entry. Each member's LMS user id is then linked to their account, so their first
launch finds it."""

import requests
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from pylti1p3.exception import LtiException, LtiServiceException
from pylti1p3.names_roles import NamesRolesProvisioningService
from pylti1p3.service_connector import ServiceConnector

from accounts.models import User
from courses.models import Enrollment

from ..models import LtiContext, LtiIdentity
from .lti import http_session, registration_for
from .sync import SyncRefused, enrollment_sync

LEARNER = "Learner"


class RosterPullFailed(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _external_id(context: LtiContext, member: dict) -> str:
    sourced = str(member.get("lis_person_sourcedid") or "").strip()
    return sourced[:128] if sourced else f"lti-{context.platform_id}-{member.get('user_id')}"[:128]


def _is_learner(member: dict) -> bool:
    roles = member.get("roles") or []
    names = {str(r).rsplit("#", 1)[-1] for r in roles}
    return LEARNER in names and str(member.get("status") or "Active") == "Active"


def members_read(context: LtiContext) -> list[dict]:
    if not context.memberships_url:
        raise RosterPullFailed(
            _("The LMS did not offer this course's member list. Launch Kafaat from the course again.")
        )
    service = NamesRolesProvisioningService(
        ServiceConnector(registration_for(context.platform), http_session()),
        {"context_memberships_url": context.memberships_url},
    )
    try:
        return list(service.get_members())
    except (LtiException, LtiServiceException, requests.RequestException, ValueError) as exc:
        raise RosterPullFailed(
            _("The LMS did not answer with its member list: %(error)s") % {"error": str(exc)[:200]}
        ) from None


def roster_pull(*, context: LtiContext) -> dict:
    """Enroll the LMS course's active learners in the launched Kafaat course. Returns counts and
    the members skipped (no e-mail address given)."""
    members = members_read(context)
    learners = [m for m in members if isinstance(m, dict) and m.get("user_id") and _is_learner(m)]
    rows, skipped = [], []
    for m in learners:
        email = str(m.get("email") or "").strip()
        if not email:
            skipped.append(str(m.get("user_id"))[:255])
            continue
        rows.append(
            {
                "external_id": _external_id(context, m),
                "email": email,
                "given_name": str(m.get("given_name") or m.get("name") or "")[:100],
                "family_name": str(m.get("family_name") or "")[:100],
                "course_code": context.course.code,
            }
        )
    counts = {}
    if rows:
        try:
            with transaction.atomic():  # all of it, or nothing (a refused sync leaves no adoption)
                _launched_adopt(context, learners)
                outcome = enrollment_sync(
                    organization=context.platform.organization,
                    raw_rows=rows,
                    mode="upsert",
                    source=Enrollment.Source.LTI,
                    endpoint="lti/nrps",
                )
                _identities_link(context, learners)
        except SyncRefused as exc:
            raise RosterPullFailed(exc.message) from None
        counts = outcome.body.get("counts", {})
    return {"members": len(members), "learners": len(learners), "counts": counts, "skipped": skipped}


def _launched_adopt(context: LtiContext, learners: list[dict]) -> None:
    """A member who launched before the pull has an account with no university id: it takes the
    id now, so the sync finds that account instead of making a second one."""
    org = context.platform.organization
    subs = {str(m["user_id"])[:255]: _external_id(context, m) for m in learners}
    for identity in LtiIdentity.objects.select_related("user").filter(platform=context.platform, sub__in=list(subs)):
        external_id = subs[identity.sub]
        user = identity.user
        if user.external_id or user.organization_id != org.pk:
            continue
        if User.objects.filter(organization=org, external_id=external_id).exists():
            continue
        User.objects.filter(pk=user.pk, external_id__isnull=True).update(external_id=external_id)


def _identities_link(context: LtiContext, learners: list[dict]) -> None:
    by_external = {_external_id(context, m): str(m["user_id"])[:255] for m in learners}
    users = dict(
        User.objects.filter(organization=context.platform.organization, external_id__in=list(by_external)).values_list(
            "external_id", "pk"
        )
    )
    for external_id, sub in by_external.items():
        user_id = users.get(external_id)
        if user_id is None:
            continue
        try:
            with transaction.atomic():
                LtiIdentity.objects.get_or_create(platform=context.platform, sub=sub, defaults={"user_id": user_id})
        except IntegrityError:
            pass  # linked by a launch meanwhile

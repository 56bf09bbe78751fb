"""LTI 1.3: Kafaat as a tool that universities' LMSs (Moodle, Canvas, Open edX) launch.

The protocol is pylti1p3's: OIDC login initiation, the id_token's signature against the
platform's key set, state, registration, deployment, message checks, deep-linking responses and
the AGS / NRPS service calls. What it leaves to its user is here:

- the registrations (`PlatformToolConf` reads LtiPlatform / LtiDeployment; each platform has its
  own login and launch URLs, so a launch is scoped to one university);
- the checks it does not make: `azp` (and every `aud` entry), `iat` not in the future, `exp`
  present, and the nonce used once (`LtiNonce`: pylti1p3 only checks it was issued);
- who the launched person is here (`launch_user`), their role (`launch_apply`), and where they
  land;
- the tool's keys (`LtiToolKey`), published as a key set and rotated."""

import hashlib
import json
import logging
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

import jwt
import requests
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from jwcrypto.jwk import JWK
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.deployment import Deployment
from pylti1p3.lineitem import LineItem
from pylti1p3.registration import Registration
from pylti1p3.tool_config.abstract import ToolConfAbstract

from accounts.models import Organization, User
from accounts.privilege import user_requires_2fa
from courses.models import Assignment, Course, Enrollment, Module, PublicationStatus
from courses.services import EnrollmentRefused, enrollment_create
from kernel.errors import ApplicationError

from ..models import (
    LtiContext,
    LtiDeployment,
    LtiGradeLink,
    LtiIdentity,
    LtiNonce,
    LtiPlatform,
    LtiToolKey,
)

log = logging.getLogger(__name__)

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
RESOURCE_PARAM = "kafaat_resource"  # the custom parameter our deep-linked items carry
CLOCK_SKEW = 60  # seconds an `iat` may be ahead of our clock
KEY_SET_CACHE_SECONDS = 300  # an LMS's key set is read at most this often (a rotation shows within it)
DL_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
KEY_PUBLISH_AHEAD = timedelta(hours=24)  # a new key is in our key set this long before it signs
KEY_RETIRE_AFTER = timedelta(days=7)  # keys older than the signing one stay published this long after it signs


class LaunchRefused(ApplicationError):
    """A launch we do not accept. `code` says which check failed (the refusal page and tests)."""


class PlatformInvalid(ApplicationError):
    pass


class TimeoutSession(requests.Session):
    """pylti1p3's HTTP calls (key sets, tokens, scores, rosters) with a timeout: a platform that
    does not answer fails the call, it does not hold a worker."""

    def request(self, method, url, *args, **kwargs):
        kwargs.setdefault("timeout", settings.LTI_HTTP_TIMEOUT_SECONDS)
        # A registered URL is fetched as registered: a redirect elsewhere (an internal address)
        # is an error, not a second fetch.
        kwargs["allow_redirects"] = False
        return super().request(method, url, *args, **kwargs)


def http_session() -> requests.Session:
    session = TimeoutSession()
    session.headers["User-Agent"] = "Kafaat-LTI/1"
    return session


# --- The tool's keys ----------------------------------------------------------------------


def _key_new() -> LtiToolKey:
    jwk = JWK.generate(kty="RSA", size=2048)
    public_pem = jwk.export_to_pem().decode()
    kid = Registration.get_jwk(public_pem)["kid"]
    return LtiToolKey.objects.create(
        kid=kid,
        private_pem=jwk.export_to_pem(private_key=True, password=None).decode(),
        public_pem=public_pem,
    )


def _signing(keys):
    """The key that signs, of the active ones (newest first): the newest published at least
    KEY_PUBLISH_AHEAD ago, so platforms that cache our key set have it before it signs; the
    first key ever signs at once."""
    cutoff = timezone.now() - KEY_PUBLISH_AHEAD
    keys = list(keys)
    return next((k for k in keys if k.created_at <= cutoff), keys[-1] if keys else None)


def tool_key_current() -> LtiToolKey:
    """The key that signs (deep-linking responses, AGS/NRPS token assertions), made on first use."""
    key = _signing(LtiToolKey.objects.filter(is_active=True).order_by("-created_at", "-id"))
    if key is not None:
        return key
    with transaction.atomic():
        # One process makes the first key; the others wait on the lock and read it.
        Organization.objects.select_for_update().order_by("pk").first()
        key = _signing(LtiToolKey.objects.filter(is_active=True).order_by("-created_at", "-id"))
        return key or _key_new()


def tool_key_rotate() -> tuple[LtiToolKey, int]:
    """A new key, published now, signing once KEY_PUBLISH_AHEAD has passed. Keys older than the
    one signing now leave the key set once that one has signed for KEY_RETIRE_AFTER (what a
    platform signed-by-us holds is then long verified). Returns (the new key, keys retired)."""
    now = timezone.now()
    with transaction.atomic():
        current = tool_key_current()
        new = _key_new()
        retired = 0
        if current.created_at + KEY_PUBLISH_AHEAD + KEY_RETIRE_AFTER <= now:
            retired = LtiToolKey.objects.filter(is_active=True, created_at__lt=current.created_at).update(
                is_active=False, retired_at=now
            )
    return new, retired


def tool_jwks() -> dict:
    """The key set platforms verify our signatures with: every active key."""
    tool_key_current()
    return {"keys": [Registration.get_jwk(k.public_pem) for k in LtiToolKey.objects.filter(is_active=True)]}


# --- Registrations as pylti1p3 sees them --------------------------------------------------


def registration_for(platform: LtiPlatform) -> Registration:
    key = tool_key_current()
    reg = Registration()
    reg.set_issuer(platform.issuer)
    reg.set_client_id(platform.client_id)
    reg.set_auth_login_url(platform.auth_login_url)
    reg.set_auth_token_url(platform.auth_token_url)
    reg.set_key_set_url(platform.key_set_url)
    if platform.auth_audience:
        reg.set_auth_audience(platform.auth_audience)
    reg.set_tool_private_key(key.private_pem)
    reg.set_tool_public_key(key.public_pem)
    return reg


class PlatformToolConf(ToolConfAbstract):
    """pylti1p3's tool configuration, for the one platform whose URL the request came to: a
    token of any other issuer or client finds no registration."""

    def __init__(self, platform: LtiPlatform):
        super().__init__()
        self.platform = platform

    def check_iss_has_one_client(self, iss):
        return False

    def check_iss_has_many_clients(self, iss):
        return True

    def _matches(self, iss, client_id=None) -> bool:
        p = self.platform
        return p.is_active and iss == p.issuer and (client_id is None or client_id == p.client_id)

    def find_registration_by_issuer(self, iss, *args, **kwargs):
        return registration_for(self.platform) if self._matches(iss) else None

    def find_registration_by_params(self, iss, client_id, *args, **kwargs):
        return registration_for(self.platform) if self._matches(iss, client_id) else None

    def find_deployment(self, iss, deployment_id):
        return self.find_deployment_by_params(iss, deployment_id, self.platform.client_id)

    def find_deployment_by_params(self, iss, deployment_id, client_id, *args, **kwargs):
        if not self._matches(iss, client_id):
            return None
        if not LtiDeployment.objects.filter(
            platform=self.platform, deployment_id=deployment_id, is_active=True
        ).exists():
            return None
        return Deployment().set_deployment_id(deployment_id)


# --- Platforms ----------------------------------------------------------------------------


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else ""


def default_frame_origins(*, issuer: str, auth_login_url: str) -> list[str]:
    """The origins that may frame our pages for this platform: its issuer's and its login page's."""
    return sorted({o for o in (_origin(issuer), _origin(auth_login_url)) if o})


def _url_ok(value: str) -> bool:
    parts = urlsplit(value)
    if parts.scheme == "https" and parts.netloc:
        return True
    return parts.scheme == "http" and bool(parts.netloc) and settings.LTI_ALLOW_HTTP


def platform_create(
    *,
    organization: Organization,
    name: str,
    issuer: str,
    client_id: str,
    auth_login_url: str,
    auth_token_url: str,
    key_set_url: str,
    deployment_ids: list[str],
    auth_audience: str = "",
    match_by_email: bool = False,
    registered_by: str = "manual",
    prepared: LtiPlatform | None = None,
) -> LtiPlatform:
    """Register a university's LMS, or complete a `prepared` one (whose URLs the LMS already
    has). Raises PlatformInvalid naming the field; nothing is written then."""
    values = {
        "name": (name or "").strip(),
        "issuer": (issuer or "").strip(),
        "client_id": (client_id or "").strip(),
        "auth_login_url": (auth_login_url or "").strip(),
        "auth_token_url": (auth_token_url or "").strip(),
        "key_set_url": (key_set_url or "").strip(),
    }
    for field_name, value in values.items():
        if not value:
            raise PlatformInvalid(_("This field is required."), field=field_name)
        if len(value) > 255 and field_name in ("issuer", "client_id"):
            raise PlatformInvalid(_("At most 255 characters."), field=field_name)
    for field_name in ("auth_login_url", "auth_token_url", "key_set_url"):
        if len(values[field_name]) > 500 or not _url_ok(values[field_name]):
            raise PlatformInvalid(_("Enter an https:// address."), field=field_name)
    deployments = sorted({d.strip() for d in deployment_ids if d and d.strip()})
    if not deployments:
        raise PlatformInvalid(_("Give at least one deployment id."), field="deployment_ids")
    if any(len(d) > 255 for d in deployments):
        raise PlatformInvalid(_("At most 255 characters."), field="deployment_ids")
    taken = LtiPlatform.objects.filter(issuer=values["issuer"], client_id=values["client_id"])
    if prepared is not None:
        taken = taken.exclude(pk=prepared.pk)
    if taken.exists():
        raise PlatformInvalid(_("This issuer and client id are already registered."), field="client_id")
    fields = {
        "organization": organization,
        "auth_audience": (auth_audience or "").strip()[:255],
        "match_by_email": match_by_email,
        "frame_origins": default_frame_origins(issuer=values["issuer"], auth_login_url=values["auth_login_url"]),
        "registered_by": registered_by,
        "is_active": True,
        **values,
    }
    try:
        with transaction.atomic():
            if prepared is None:
                platform = LtiPlatform.objects.create(uuid=uuid.uuid4(), **fields)
            else:
                platform = LtiPlatform.objects.select_for_update().get(pk=prepared.pk)
                for name_, value in fields.items():
                    setattr(platform, name_, value)
                platform.save()
            LtiDeployment.objects.bulk_create(
                [LtiDeployment(platform=platform, deployment_id=d) for d in deployments], ignore_conflicts=True
            )
    except IntegrityError:  # the same pair registered at the same moment by another request
        raise PlatformInvalid(_("This issuer and client id are already registered."), field="client_id") from None
    return platform


def platform_prepare(*, organization: Organization, name: str) -> LtiPlatform:
    """Step one of a registration by hand: Kafaat's URLs for an LMS (which asks for them before it
    shows its own values). Inactive, and launches nothing, until `platform_create(prepared=...)`."""
    name = (name or "").strip()
    if not name:
        raise PlatformInvalid(_("This field is required."), field="name")
    return LtiPlatform.objects.create(
        uuid=uuid.uuid4(),
        organization=organization,
        name=name[:200],
        issuer="",
        client_id="",
        auth_login_url="",
        auth_token_url="",
        key_set_url="",
        is_active=False,
    )


def platform_deployment_add(*, platform: LtiPlatform, deployment_id: str) -> bool:
    deployment_id = (deployment_id or "").strip()
    if not deployment_id or len(deployment_id) > 255:
        raise PlatformInvalid(_("Enter a deployment id of at most 255 characters."), field="deployment_id")
    _obj, created = LtiDeployment.objects.get_or_create(platform=platform, deployment_id=deployment_id)
    return created


def tool_urls(platform: LtiPlatform | None, *, base_url: str, platform_uuid=None) -> dict:
    """What a platform's admin types into their LMS for this registration (and what Dynamic
    Registration sends: `platform_uuid` before the platform is saved)."""
    base = base_url.rstrip("/")
    uuid = platform.uuid if platform is not None else platform_uuid
    return {
        "tool_url": f"{base}/lti/{uuid}/launch/",
        "login_url": f"{base}/lti/{uuid}/login/",
        "redirect_url": f"{base}/lti/{uuid}/launch/",
        "jwks_url": f"{base}/lti/jwks.json",
        "domain": urlsplit(base).netloc,
    }


# --- Launch: what pylti1p3 does not check ----------------------------------------------------


def claims_check(*, platform: LtiPlatform, claims: dict) -> None:
    """After pylti1p3's validation: `aud` holds our client id (pylti1p3 reads its first entry
    only), `azp` is ours whenever present and required with several audiences, `exp` and `iat`
    are present and sane (PyJWT checks `exp` only when present)."""
    aud = claims.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    if platform.client_id not in audiences:
        raise LaunchRefused(_("This launch was not meant for Kafaat (wrong audience)."), extra={"code": "audience"})
    azp = claims.get("azp")
    if (len(audiences) > 1 and azp is None) or (azp is not None and azp != platform.client_id):
        raise LaunchRefused(_("This launch was not meant for Kafaat (wrong audience)."), extra={"code": "audience"})
    now = time.time()
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, int | float) or exp < now:
        raise LaunchRefused(_("This launch has expired. Open it again from your course."), extra={"code": "expired"})
    if not isinstance(iat, int | float) or iat > now + CLOCK_SKEW:
        raise LaunchRefused(_("This launch is dated in the future."), extra={"code": "iat"})


def message_kind(claims: dict) -> str:
    """ "resource" or "deep_link"; any other message (submission review, data privacy...) is
    refused: we answer none of them. A deep-linking request must say where to answer, over http(s)."""
    kind = claims.get(CLAIM + "message_type")
    if kind == "LtiResourceLinkRequest":
        return "resource"
    if kind == "LtiDeepLinkingRequest":
        settings_claim = claims.get(DL_SETTINGS)
        url = settings_claim.get("deep_link_return_url") if isinstance(settings_claim, dict) else None
        if not isinstance(url, str) or not _url_ok(url) or len(url) > 2000:
            raise LaunchRefused(REFUSAL_TEXT["message"](), extra={"code": "message"})
        return "deep_link"
    raise LaunchRefused(
        _("Kafaat does not answer this kind of LTI message (%(kind)s).") % {"kind": str(kind)[:80]},
        extra={"code": "message"},
    )


def nonce_use(*, platform: LtiPlatform, claims: dict) -> None:
    """Record the nonce; seen before, the id_token is a replay."""
    nonce = str(claims.get("nonce") or "")[:255]
    expires = timezone.now() + timedelta(seconds=max(0, int(claims.get("exp", 0) - time.time())) + CLOCK_SKEW)
    try:
        with transaction.atomic():
            LtiNonce.objects.create(platform=platform, nonce=nonce, expires_at=expires)
    except IntegrityError:
        raise LaunchRefused(
            _("This launch was already used. Open the activity again from your course."), extra={"code": "replay"}
        ) from None


def nonces_purge() -> int:
    return LtiNonce.objects.filter(expires_at__lt=timezone.now()).delete()[0]


# Library refusal messages (pylti1p3's LtiException texts) -> what we tell the person, by code.
_LIBRARY_REFUSALS = [
    ("State not found", "state"),
    ("Missing state", "state"),
    ("Invalid Nonce", "nonce"),
    ('"nonce" is empty', "nonce"),
    ("Registration not found", "platform"),
    ("Could not find registration", "platform"),
    ("Could not find issuer", "format"),
    ("Could not find login hint", "format"),
    ("Client id not registered", "platform"),
    ("Unable to find deployment", "deployment"),
    ("Unable to find public key", "signature"),
    ("Signature verification failed", "signature"),
    ("Signature has expired", "expired"),
    ("not yet valid", "iat"),
    ("Must have a user (sub)", "sub"),
    ("Incorrect version", "message"),
    ("Missing Roles Claim", "message"),
    ("Missing Resource Link Id", "message"),
    ("Missing Deep Linking", "message"),
    ("Must support", "message"),
    ("Invalid message type", "message"),
    ("Invalid id_token", "format"),
    ("Invalid JWT format", "format"),
    ("Missing id_token", "format"),
    ("Error during fetch", "key_set"),
    ("Invalid response from", "key_set"),
    ("Can't decode id_token", "signature"),
]


def refusal_from_library(message: str, *, platform: LtiPlatform | None = None, id_token: str = "") -> LaunchRefused:
    """Our words for pylti1p3's refusal. A token whose registration was not found is told apart,
    from its unverified claims (only to word the refusal): another platform's issuer, or ours with
    an audience that is not our client id."""
    code = next((c for prefix, c in _LIBRARY_REFUSALS if prefix in message), "invalid")
    if code == "platform" and platform is not None and id_token:
        try:
            unverified = jwt.decode(id_token, options={"verify_signature": False})
        except jwt.PyJWTError:
            unverified = {}
        aud = unverified.get("aud")
        if unverified.get("iss") == platform.issuer and platform.client_id not in (
            aud if isinstance(aud, list) else [aud]
        ):
            code = "audience"
    return LaunchRefused(
        REFUSAL_TEXT.get(code, REFUSAL_TEXT["invalid"])(), extra={"code": code, "detail": message[:300]}
    )


REFUSAL_TEXT = {
    "state": lambda: _(
        "This launch did not start in this browser (its state does not match). Open the activity again "
        "from your course; if your browser blocks cookies in frames, use “Open in a new window”."
    ),
    "nonce": lambda: _("This launch was not started by Kafaat's login step. Open the activity again from your course."),
    "platform": lambda: _(
        "This launch comes from a platform that is not the one registered at this address "
        "(another university's, or an unknown client id)."
    ),
    "deployment": lambda: _("This LMS deployment is not registered with Kafaat. Ask your Kafaat administrator."),
    "signature": lambda: _("This launch's signature does not match the LMS's published keys."),
    "expired": lambda: _("This launch has expired. Open it again from your course."),
    "format": lambda: _("This launch is not a valid LTI message."),
    "key_set": lambda: _("Kafaat could not read your LMS's public keys. Try again in a moment."),
    "audience": lambda: _("This launch was not meant for Kafaat (wrong audience)."),
    "iat": lambda: _("This launch is dated in the future."),
    "sub": lambda: _("This launch names no user."),
    "message": lambda: _("Your LMS sent a launch that lacks what LTI 1.3 requires (version, roles or link)."),
    "invalid": lambda: _("This launch could not be verified."),
}


# --- Who is launching, and where they land ---------------------------------------------------


@dataclass
class LaunchOutcome:
    user: User
    target: str  # a URL path on our site
    is_instructor: bool = False
    granted: bool = False  # made an instructor of the course by this launch (or before)
    notes: list[str] = field(default_factory=list)


def _placeholder_email(platform: LtiPlatform, sub: str) -> str:
    digest = hashlib.sha256(f"{platform.pk}:{sub}".encode()).hexdigest()[:24]
    return f"lti-{platform.pk}-{digest}@lti.invalid"


def _full_name(claims: dict) -> str:
    name = claims.get("name") or " ".join(p for p in (claims.get("given_name"), claims.get("family_name")) if p)
    return str(name or "").strip()[:200]


def launch_user(*, platform: LtiPlatform, claims: dict) -> User:
    """The platform's `sub` as one of the platform's university's people: the account linked to it,
    else (when the university allows it) its learner with the launch's e-mail, else a new account.
    A new account has no password (it signs in through its LMS) and, unless the university trusts
    its LMS's addresses, an undeliverable address: an LMS address nobody confirmed never takes a
    Kafaat address from its owner."""
    sub = str(claims.get("sub") or "")
    if not sub or len(sub) > 255:
        raise LaunchRefused(_("This launch names no user."), extra={"code": "sub"})
    now = timezone.now()
    identity = LtiIdentity.objects.select_related("user").filter(platform=platform, sub=sub).first()
    if identity is not None:
        user = identity.user
        if not user.is_active or user.erased_at is not None:
            raise LaunchRefused(_("This account is closed."), extra={"code": "inactive"})
        LtiIdentity.objects.filter(pk=identity.pk).update(last_launch_at=now)
        return user
    email = str(claims.get("email") or "").strip().lower()
    user = None
    if platform.match_by_email and email:
        user = User.objects.filter(
            organization=platform.organization, email__iexact=email, erased_at__isnull=True, is_active=True
        ).first()
        if user is not None and not linkable(user):
            user = None
    with transaction.atomic():
        if user is None:
            address = email if platform.match_by_email and email and len(email) <= 254 else ""
            if not address or User.objects.filter(email__iexact=address).exists():
                address = _placeholder_email(platform, sub)
            user = User.objects.filter(email=address).first()
            if user is None:
                try:
                    with transaction.atomic():
                        user = User.objects.create_user(
                            email=address,
                            password=None,
                            full_name=_full_name(claims),
                            organization=platform.organization,
                            created_by_organization=platform.organization,
                            email_verified_at=now if address == email else None,
                        )
                except IntegrityError:
                    # The same first launch in two frames at once: the other made the account.
                    user = User.objects.get(email=address)
        try:
            with transaction.atomic():
                LtiIdentity.objects.create(platform=platform, sub=sub, user=user, last_launch_at=now)
        except IntegrityError:
            # The same person's first launch in two tabs: the other request linked them first.
            user = LtiIdentity.objects.select_related("user").get(platform=platform, sub=sub).user
    return user


def linkable(user: User) -> bool:
    """May an LMS's id be linked to this existing account (by e-mail, or by a roster pull)? Never
    a privileged one (staff, an instructor, a university admin: those who must use two-factor):
    whoever controls an LMS could otherwise sign in as them."""
    return not user_requires_2fa(user)


def _resource(claims: dict, *, statuses=None) -> tuple[Course | None, Module | None, Assignment | None]:
    """The course, module or assignment a launch's `kafaat_resource` names, among courses of these
    publication statuses (a launch: published or archived, where enrolled learners go on; the
    deep-linking picker: published only). Drafts are never reached from an LMS."""
    statuses = statuses or (PublicationStatus.PUBLISHED, PublicationStatus.ARCHIVED)
    custom = claims.get(CLAIM + "custom") or {}
    ref = str(custom.get(RESOURCE_PARAM) or "") if isinstance(custom, dict) else ""
    kind, _sep, ident = ref.partition(":")
    if kind == "course":
        course = Course.objects.filter(code=ident, status__in=statuses).first()
        return course, None, None
    if not ident.isascii() or not ident.isdigit() or len(ident) > 12:
        return None, None, None
    if kind == "module":
        module = Module.objects.select_related("course").filter(pk=int(ident), course__status__in=statuses).first()
        return (module.course, module, None) if module else (None, None, None)
    if kind == "assignment":
        assignment = (
            Assignment.objects.select_related("course").filter(pk=int(ident), course__status__in=statuses).first()
        )
        return (assignment.course, None, assignment) if assignment else (None, None, None)
    return None, None, None


def resource_url(*, course: Course, module: Module | None = None, assignment: Assignment | None = None) -> str:
    if assignment is not None:
        return reverse("courses:assignment", args=[course.code, assignment.pk])
    url = reverse("courses:detail", args=[course.code])
    return f"{url}#module-{module.pk}" if module is not None else url


def launch_apply(*, platform: LtiPlatform, claims: dict, user: User, is_instructor: bool) -> LaunchOutcome:
    """Give the launched person their place: an instructor of the course (where the university's
    staff-set policy lets its systems name instructors), or a learner enrolled in it; remember
    where the learner's grade goes back (AGS) and where the course's roster is read (NRPS).
    Returns where they land."""
    course, module, assignment = _resource(claims)
    outcome = LaunchOutcome(user=user, target="/", is_instructor=is_instructor)
    if course is None:
        raise LaunchRefused(
            _("This link does not lead to a Kafaat course any more. Ask your instructor to add it again."),
            extra={"code": "resource"},
        )
    deployment_id = str(claims.get(CLAIM + "deployment_id") or "")
    context = claims.get(CLAIM + "context") or {}
    if is_instructor:
        # Only for the courses staff listed for this LMS (admin › LTI platforms): the link's
        # custom parameter is the LMS teacher's to type, so it alone never names an instructor.
        if course.status == PublicationStatus.PUBLISHED and platform.instructor_courses.filter(pk=course.pk).exists():
            course.instructors.add(user)
            outcome.granted = True
        else:
            outcome.notes.append("instructor_not_granted")
        nrps = claims.get(NRPS_CLAIM) or {}
        if outcome.granted and isinstance(context, dict) and context.get("id"):
            LtiContext.objects.update_or_create(
                platform=platform,
                deployment_id=deployment_id,
                context_id=str(context["id"])[:255],
                course=course,
                defaults={
                    "title": str(context.get("title") or "")[:500],
                    "memberships_url": str(nrps.get("context_memberships_url") or "")[:500],
                },
            )
    else:
        if not Enrollment.objects.filter(user=user, course=course, status=Enrollment.Status.ACTIVE).exists():
            try:
                enrollment_create(user=user, course=course, source=Enrollment.Source.LTI)
            except EnrollmentRefused as exc:
                raise LaunchRefused(exc.message, extra={"code": "enrollment"}) from None
        ags = claims.get(AGS_CLAIM) or {}
        lineitem = ags.get("lineitem") if isinstance(ags, dict) else None
        scopes = ags.get("scope") if isinstance(ags, dict) else None
        if (
            assignment is not None
            and isinstance(lineitem, str)
            and len(lineitem) <= 500
            and _url_ok(lineitem)
            and isinstance(scopes, list)
            and SCORE_SCOPE in scopes
        ):
            LtiGradeLink.objects.update_or_create(
                platform=platform,
                user=user,
                assignment=assignment,
                lineitem_url=lineitem,
                defaults={"sub": str(claims.get("sub"))[:255], "scopes": [str(s) for s in scopes][:20]},
            )
    outcome.target = resource_url(course=course, module=module, assignment=assignment)
    return outcome


MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership"
TEACHING = {"Instructor", "ContentDeveloper"}


def is_instructor(claims: dict) -> bool:
    """A teaching role in this course (context membership roles only: an institution's or the
    system's Instructor or Administrator is not this course's, nor is a Mentor). Short names
    ("Instructor") are the context's, as LTI 1.3 allows; a sub-role (…#Instructor#TeachingAssistant)
    is its principal role's. Learner wins when both are given."""
    roles = [r for r in (claims.get(CLAIM + "roles") or []) if isinstance(r, str)]
    names = set()
    for role in roles:
        if role.startswith(MEMBERSHIP + "#"):
            names.add(role[len(MEMBERSHIP) + 1 :].split("#")[0])
        elif role.startswith(MEMBERSHIP + "/"):
            names.add(role[len(MEMBERSHIP) + 1 :].split("#")[0])
        elif "/" not in role and "#" not in role:
            names.add(role)
    return bool(names & TEACHING) and "Learner" not in names


# --- Deep linking -----------------------------------------------------------------------------


def deep_link_choices() -> list[Course]:
    """What an instructor may place in their LMS course: published courses, with their modules and
    their assignments."""
    return list(
        Course.objects.filter(status=PublicationStatus.PUBLISHED)
        .prefetch_related(
            Prefetch("modules", queryset=Module.objects.order_by("position", "id")),
            Prefetch("assignments", queryset=Assignment.objects.order_by("id")),
        )
        .order_by("title")
    )


def deep_link_resources(*, platform: LtiPlatform, refs: list[str], base_url: str) -> list:
    """pylti1p3 DeepLinkResources for the chosen `course:<code>` / `module:<id>` /
    `assignment:<id>` references; an assignment carries a line item (its points) so the LMS makes
    a gradebook column for it."""
    launch_url = tool_urls(platform, base_url=base_url)["tool_url"]
    resources = []
    for ref in refs[:50]:
        course, module, assignment = _resource(
            {CLAIM + "custom": {RESOURCE_PARAM: ref}}, statuses=(PublicationStatus.PUBLISHED,)
        )
        if course is None:
            raise PlatformInvalid(_("Choose a course, module or assignment from the list."), field="resource")
        title = assignment.title if assignment else module.title if module else course.title
        resource = (
            DeepLinkResource().set_url(launch_url).set_title(title[:255]).set_custom_params({RESOURCE_PARAM: ref})
        )
        if assignment is not None:
            resource.set_lineitem(
                LineItem()
                .set_label(title[:255])
                .set_score_maximum(float(assignment.points))
                .set_resource_id(f"assignment:{assignment.pk}")
                .set_tag("kafaat")
            )
        resources.append(resource)
    if not resources:
        raise PlatformInvalid(_("Choose at least one item."), field="resource")
    return resources


def registration_token_new() -> tuple[str, str]:
    """(token, its SHA-256): the token is shown once, in the registration URL."""
    token = secrets.token_urlsafe(32)
    return token, hashlib.sha256(token.encode()).hexdigest()


def json_compact(data) -> str:
    return json.dumps(data, separators=(",", ":"), sort_keys=True)

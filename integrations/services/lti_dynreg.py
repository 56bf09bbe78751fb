"""LTI Dynamic Registration (1EdTech LTI Dynamic Registration 1.0), the tool's side.

A university admin makes a one-time registration URL on their LTI page; their LMS admin pastes it
into the LMS (Moodle: "Tool URL" under "Manage tools"; Canvas: "LTI 2 / Dynamic Registration"),
which opens it with `openid_configuration` and `registration_token`. We read the platform's
OpenID configuration (its issuer must be on the configuration URL's host), post our registration
to its registration endpoint, and store the platform, with the client id and deployment id it
answers, for the university the URL was made for."""

import hashlib
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

import requests
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import LtiDeployment, LtiPlatform, LtiRegistrationInvite
from . import lti

INVITE_LIFETIME = timedelta(days=7)
MAX_ATTEMPTS = 5
TOOL_CONFIG = "https://purl.imsglobal.org/spec/lti-tool-configuration"
SCOPES = [
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
]


class RegistrationFailed(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def invite_create(*, organization, actor) -> str:
    token, digest = lti.registration_token_new()
    LtiRegistrationInvite.objects.create(
        token_hash=digest, organization=organization, created_by=actor, expires_at=timezone.now() + INVITE_LIFETIME
    )
    return token


def _get_json(session, url: str, **kwargs) -> dict:
    try:
        response = session.request(kwargs.pop("method", "GET"), url, **kwargs)
    except requests.RequestException as exc:
        raise RegistrationFailed(
            _("Kafaat could not reach %(url)s (%(error)s).") % {"url": url, "error": exc.__class__.__name__}
        ) from None
    if not response.ok:
        raise RegistrationFailed(_("%(url)s answered HTTP %(status)s.") % {"url": url, "status": response.status_code})
    try:
        data = response.json()
    except ValueError:
        raise RegistrationFailed(_("%(url)s did not answer with JSON.") % {"url": url}) from None
    if not isinstance(data, dict):
        raise RegistrationFailed(_("%(url)s did not answer with a JSON object.") % {"url": url})
    return data


def tool_registration(*, platform_uuid, base_url: str, scopes: list[str]) -> dict:
    """The registration we send: our URLs for this platform, our key set, what we launch."""
    urls = lti.tool_urls(None, base_url=base_url, platform_uuid=platform_uuid)
    launch = urls["tool_url"]
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": urls["login_url"],
        "redirect_uris": [launch],
        "client_name": "Kafaat",
        "jwks_uri": urls["jwks_url"],
        "logo_uri": f"{base_url.rstrip('/')}/static/img/favicon.svg",
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(scopes),
        TOOL_CONFIG: {
            "domain": urls["domain"],
            "target_link_uri": launch,
            "claims": ["iss", "sub", "name", "given_name", "family_name", "email"],
            "messages": [
                {"type": "LtiResourceLinkRequest", "target_link_uri": launch, "label": "Kafaat"},
                {"type": "LtiDeepLinkingRequest", "target_link_uri": launch, "label": "Kafaat"},
            ],
        },
    }


def dynamic_register(*, token: str, openid_configuration: str, registration_token: str, base_url: str) -> LtiPlatform:
    digest = hashlib.sha256(token.encode()).hexdigest()
    invite = LtiRegistrationInvite.objects.select_related("organization").filter(token_hash=digest).first()
    now = timezone.now()
    if invite is None or invite.used_at is not None or invite.expires_at < now or invite.attempts >= MAX_ATTEMPTS:
        raise RegistrationFailed(
            _("This registration link is not valid any more (used or expired). Make a new one on Kafaat's LTI page.")
        )
    # Each try counts (a link is not a way to make Kafaat fetch addresses at will).
    LtiRegistrationInvite.objects.filter(pk=invite.pk).update(attempts=F("attempts") + 1)
    if not openid_configuration or not lti._url_ok(openid_configuration):
        raise RegistrationFailed(
            _("Open this link from your LMS's tool registration: it gives the LMS's configuration.")
        )
    session = lti.http_session()
    config = _get_json(session, openid_configuration)
    issuer = str(config.get("issuer") or "")
    if urlsplit(issuer).netloc != urlsplit(openid_configuration).netloc:
        raise RegistrationFailed(_("The LMS's issuer is not on the host of its configuration URL."))
    needed = ("authorization_endpoint", "token_endpoint", "jwks_uri", "registration_endpoint")
    missing = [k for k in needed if not isinstance(config.get(k), str) or not lti._url_ok(config[k])]
    if missing:
        raise RegistrationFailed(_("The LMS's configuration lacks %(fields)s.") % {"fields": ", ".join(missing)})
    # Its endpoints are on its own host: a configuration cannot send us to post or fetch elsewhere.
    elsewhere = [k for k in needed if urlsplit(config[k]).netloc != urlsplit(issuer).netloc]
    if elsewhere:
        raise RegistrationFailed(
            _("The LMS's configuration points away from its own host: %(fields)s.") % {"fields": ", ".join(elsewhere)}
        )
    supported = config.get("scopes_supported")
    scopes = [s for s in SCOPES if not isinstance(supported, list) or s in supported]
    platform_uuid = uuid.uuid4()
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if registration_token:
        headers["Authorization"] = f"Bearer {registration_token}"
    answer = _get_json(
        session,
        config["registration_endpoint"],
        method="POST",
        data=lti.json_compact(tool_registration(platform_uuid=platform_uuid, base_url=base_url, scopes=scopes)),
        headers=headers,
    )
    client_id = str(answer.get("client_id") or "")
    tool_config = answer.get(TOOL_CONFIG)
    deployment_id = str((tool_config if isinstance(tool_config, dict) else {}).get("deployment_id") or "")
    if not client_id or len(client_id) > 255 or len(deployment_id) > 255:
        raise RegistrationFailed(_("The LMS's answer gave no client id."))
    product = (config.get("https://purl.imsglobal.org/spec/lti-platform-configuration") or {}).get(
        "product_family_code"
    )
    with transaction.atomic():
        invite = LtiRegistrationInvite.objects.select_for_update().get(pk=invite.pk)
        if invite.used_at is not None:
            raise RegistrationFailed(_("This registration link was used meanwhile. Make a new one."))
        platform = LtiPlatform.objects.filter(issuer=issuer, client_id=client_id).first()
        if platform is not None:
            raise RegistrationFailed(_("This LMS client is already registered with Kafaat."))
        platform = LtiPlatform.objects.create(
            uuid=platform_uuid,
            organization=invite.organization,
            name=str(product or urlsplit(issuer).netloc)[:200],
            issuer=issuer[:255],
            client_id=client_id,
            auth_login_url=config["authorization_endpoint"][:500],
            auth_token_url=config["token_endpoint"][:500],
            key_set_url=config["jwks_uri"][:500],
            auth_audience=str(config.get("authorization_server") or "")[:255],
            frame_origins=lti.default_frame_origins(issuer=issuer, auth_login_url=config["authorization_endpoint"]),
            registered_by="dynamic",
        )
        if deployment_id:
            LtiDeployment.objects.create(platform=platform, deployment_id=deployment_id)
        invite.used_at = now
        invite.platform = platform
        invite.save(update_fields=["used_at", "platform"])
    return platform

"""LTI 1.3 pages: the tool's key set, each platform's login and launch, deep linking, Dynamic
Registration, the instructor's roster pull and the university admin's registrations page.

A launch's refusal is a page that says what failed, status 400/403, and nothing is created (the
checks all run before the first write)."""

import logging
import re

from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from pylti1p3.contrib.django import DjangoCacheDataStorage, DjangoMessageLaunch, DjangoOIDCLogin
from pylti1p3.exception import LtiException, OIDCException

from accounts.decorators import require_verified_2fa
from accounts.privilege import is_platform_staff
from accounts.selectors import organizations_administered

from .lti_frame import frame_allow, frame_anyone, frame_for_platform
from .models import LtiContext, LtiPlatform
from .services import lti, lti_dynreg, lti_nrps

log = logging.getLogger(__name__)
SESSION_DEEP_LINK = "lti_deep_link"
SESSION_CONTEXTS = "lti_contexts"


def _platform(platform_uuid) -> LtiPlatform:
    platform = LtiPlatform.objects.select_related("organization").filter(uuid=platform_uuid, is_active=True).first()
    if platform is None:
        raise Http404
    return platform


def _refused(request, exc: lti.LaunchRefused, platform: LtiPlatform | None = None, status: int = 400):
    code = (exc.extra or {}).get("code", "invalid")
    response = render(
        request,
        "integrations/lti_refused.html",
        {"message": exc.message, "code": code},  # the library's detail goes to the log only
        status=status,
    )
    # Any frame may show a refusal (it has no data and no action): a launch from the wrong LMS
    # sees why, rather than a frame the browser blocked.
    frame_anyone(response)
    log.info("LTI launch refused (%s): %s", code, (exc.extra or {}).get("detail", exc.message))
    return response


def _base_url(request) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def jwks(request):
    """The tool's public keys (every active one): what platforms verify our signatures with."""
    response = JsonResponse(lti.tool_jwks())
    response["Cache-Control"] = "public, max-age=300"
    return response


@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def oidc_login(request, platform_uuid):
    """Step 1 of a launch (OIDC third-party-initiated login): check that our cookies reach us in
    this frame, then send the browser to the platform's authentication endpoint with a state
    (bound to this browser by a cookie) and a nonce. The redirect goes back to this platform's
    own launch URL, whatever target_link_uri says (no open redirect)."""
    platform = _platform(platform_uuid)
    params = request.POST if request.method == "POST" else request.GET
    iss, client_id = params.get("iss"), params.get("client_id")
    if (iss and iss != platform.issuer) or (client_id and client_id != platform.client_id):
        # Another LMS (another university's) at this one's address: refused before anything.
        return _refused(request, lti.refusal_from_library("Could not find registration details"), platform)
    if not params.get("lti1p3_new_window") and not params.get("kafaat_cookies"):
        # A page of ours (static script): it sets a test cookie and comes back with
        # kafaat_cookies=1, or offers a new window when the browser keeps cookies from frames.
        response = render(
            request,
            "integrations/lti_cookie_check.html",
            {"params": [(k, v) for k, v in params.items() if k in _LOGIN_PARAMS]},
        )
        # Without script, the form's button continues: its answer redirects to the LMS.
        return frame_for_platform(response, platform, form_action=platform.auth_login_url)
    launch_url = request.build_absolute_uri(reverse("lti-launch", args=[platform.uuid]))
    oidc = DjangoOIDCLogin(request, lti.PlatformToolConf(platform), launch_data_storage=DjangoCacheDataStorage())
    try:
        response = oidc.redirect(launch_url)
    except (OIDCException, LtiException) as exc:
        return _refused(request, lti.refusal_from_library(str(exc)), platform)
    return frame_for_platform(response, platform)


_STATE = re.compile(r"state-[0-9a-f-]{36}")
_LOGIN_PARAMS = ("iss", "login_hint", "target_link_uri", "lti_message_hint", "lti_deployment_id", "client_id")


@csrf_exempt
@never_cache
@require_http_methods(["POST"])
def launch(request, platform_uuid):
    """Step 2: the platform posts the signed id_token. pylti1p3 checks state, signature,
    registration, deployment and message; we check audience/azp/iat/exp and use the nonce once;
    then the person is found or created, signed in, given their role, and sent to the resource
    (or, for deep linking, to the picker)."""
    platform = _platform(platform_uuid)
    state, id_token = request.POST.get("state", ""), request.POST.get("id_token", "")
    if not _STATE.fullmatch(state):
        # Ours are "state-<uuid>": anything else never came from our login step (and never
        # becomes a cache key).
        return _refused(request, lti.refusal_from_library("State not found"), platform)
    if not id_token or len(id_token) > 65536 or not id_token.isascii():
        return _refused(request, lti.refusal_from_library("Invalid id_token"), platform)
    conf = lti.PlatformToolConf(platform)
    try:
        message = DjangoMessageLaunch(
            request, conf, launch_data_storage=DjangoCacheDataStorage(), requests_session=lti.http_session()
        )
        # The LMS's key set, read once per KEY_SET_CACHE_SECONDS, not on every launch.
        message.set_public_key_caching(DjangoCacheDataStorage(), cache_lifetime=lti.KEY_SET_CACHE_SECONDS)
        claims = message.get_launch_data()
    except LtiException as exc:
        refusal = lti.refusal_from_library(str(exc), platform=platform, id_token=id_token)
        return _refused(request, refusal, platform)
    except Exception as exc:  # noqa: BLE001 - a token the library trips on (a JSON list for a body...)
        log.warning("LTI launch not understood: %s: %s", exc.__class__.__name__, str(exc)[:200])
        return _refused(request, lti.refusal_from_library("Invalid id_token"), platform)
    try:
        lti.claims_check(platform=platform, claims=claims)
        deep = lti.message_kind(claims) == "deep_link"
        with transaction.atomic():
            lti.nonce_use(platform=platform, claims=claims)
            user = lti.launch_user(platform=platform, claims=claims)
            instructor = lti.is_instructor(claims)
            if deep:
                if not instructor:
                    raise lti.LaunchRefused(
                        _("Only the course's instructors can add Kafaat activities."), extra={"code": "role"}
                    )
                outcome = lti.LaunchOutcome(user=user, target=reverse("lti-deep-link", args=[platform.uuid]))
            else:
                outcome = lti.launch_apply(platform=platform, claims=claims, user=user, is_instructor=instructor)
    except lti.LaunchRefused as exc:
        status = 403 if (exc.extra or {}).get("code") in ("role", "inactive") else 400
        return _refused(request, exc, platform, status=status)
    # A launch starts its own session: whatever this browser was signed in as (a verified
    # privileged session included) does not carry over into the LMS's frame.
    request.session.flush()
    login(request, outcome.user, backend="django.contrib.auth.backends.ModelBackend")
    frame_allow(request, platform)
    if "instructor_not_granted" in outcome.notes:
        messages.info(
            request,
            _(
                "Kafaat's staff have not listed this course among those your LMS's instructors teach: "
                "you see it as its learners do."
            ),
        )
    if deep:
        request.session[SESSION_DEEP_LINK] = {"platform": str(platform.uuid), "launch_id": message.get_launch_id()}
    context = claims.get(lti.CLAIM + "context") or {}
    if outcome.granted and isinstance(context, dict) and context.get("id"):
        rows = list(
            LtiContext.objects.filter(platform=platform, context_id=str(context["id"])[:255]).values_list(
                "pk", "memberships_url"
            )
        )
        contexts = set(request.session.get(SESSION_CONTEXTS, []))
        contexts.update(str(pk) for pk, _url in rows)
        request.session[SESSION_CONTEXTS] = sorted(contexts)
        for pk in [pk for pk, url in rows if url][:1]:
            messages.info(
                request,
                format_html(
                    '{} <a href="{}">{}</a>',
                    _("Your LMS course's learners can be enrolled here in one step:"),
                    reverse("lti-roster", args=[pk]),
                    _("Learners from your LMS course"),
                ),
            )
    response = redirect(outcome.target)
    return frame_for_platform(response, platform)


@never_cache
@require_http_methods(["GET", "POST"])
def deep_link(request, platform_uuid):
    """The instructor's picker: choose courses, modules or assignments; the LMS receives them as
    signed content items (assignments with a line item of their points)."""
    platform = _platform(platform_uuid)
    held = request.session.get(SESSION_DEEP_LINK) or {}
    if not request.user.is_authenticated or held.get("platform") != str(platform.uuid):
        raise PermissionDenied(_("Start from your LMS: add an activity and choose Kafaat."))
    conf = lti.PlatformToolConf(platform)
    try:
        message = DjangoMessageLaunch.from_cache(
            held["launch_id"], request, conf, launch_data_storage=DjangoCacheDataStorage()
        )
    except LtiException:
        message = None
    if message is None or not message.is_deep_link_launch():
        raise PermissionDenied(_("This deep-linking request has expired. Start again from your LMS."))
    errors = {}
    if request.method == "POST":
        refs = request.POST.getlist("resource")
        try:
            resources = lti.deep_link_resources(platform=platform, refs=refs, base_url=_base_url(request))
        except lti.PlatformInvalid as exc:
            errors[exc.field or "resource"] = exc.message
        else:
            deep = message.get_deep_link()
            jwt_value = deep.get_response_jwt(resources)
            return_url = message.get_launch_data()[
                "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
            ]["deep_link_return_url"]
            del request.session[SESSION_DEEP_LINK]
            response = render(
                request,
                "integrations/lti_deep_link_return.html",
                {"return_url": return_url, "jwt": jwt_value, "titles": [r.to_dict().get("title") for r in resources]},
            )
            return frame_for_platform(response, platform, form_action=return_url)
    response = render(
        request,
        "integrations/lti_deep_link.html",
        {
            "platform": platform,
            "courses": lti.deep_link_choices(),
            "errors": errors,
            "chosen": request.POST.getlist("resource"),
        },
        status=400 if errors else 200,
    )
    return frame_for_platform(response, platform)


@csrf_exempt
@never_cache
def register(request, token):
    """LTI Dynamic Registration: the LMS opens this one-time URL (made on the university's LTI
    page) with its openid_configuration and registration_token; we read its configuration, send
    ours, and store the platform for the university the URL was made for."""
    if request.method not in ("GET",):
        return HttpResponseNotAllowed(["GET"])
    config_url = request.GET.get("openid_configuration", "")
    registration_token = request.GET.get("registration_token", "")
    try:
        platform = lti_dynreg.dynamic_register(
            token=token,
            openid_configuration=config_url,
            registration_token=registration_token,
            base_url=_base_url(request),
        )
    except lti_dynreg.RegistrationFailed as exc:
        response = render(request, "integrations/lti_registered.html", {"error": exc.message}, status=400)
        return frame_anyone(response)
    response = render(request, "integrations/lti_registered.html", {"platform": platform})
    return frame_for_platform(response, platform)


@require_http_methods(["GET", "POST"])
def roster(request, context_id):
    """An instructor launched from an LMS course reads its members into the Kafaat course."""
    context = get_object_or_404(LtiContext.objects.select_related("platform__organization", "course"), pk=context_id)
    # Launched from that LMS course as an instructor the university's staff let teach here, in this
    # browser session; or staff. A Kafaat instructor of the same course is not enough: the context
    # may be another university's LMS course.
    allowed = str(context.pk) in set(request.session.get(SESSION_CONTEXTS, []))
    if not request.user.is_authenticated or not (allowed or is_platform_staff(request.user)):
        raise PermissionDenied(_("Launch Kafaat from this LMS course as its instructor first."))
    result, error = None, ""
    if request.method == "POST":
        try:
            result = lti_nrps.roster_pull(context=context)
        except lti_nrps.RosterPullFailed as exc:
            error = exc.message
    response = render(
        request,
        "integrations/lti_roster.html",
        {"context": context, "result": result, "error": error},
        status=502 if error else 200,
    )
    return frame_for_platform(response, context.platform)


@require_verified_2fa
@require_http_methods(["GET", "POST"])
def organization_platforms(request):
    """A university admin's LTI page: register their LMS (by hand or by Dynamic Registration) and
    read the URLs to type into it."""
    organizations = organizations_administered(user=request.user)
    if not organizations:
        raise Http404
    by_pk = {o.pk: o for o in organizations}
    errors, values, registration_url, completing = {}, {}, "", None
    if request.method == "POST":
        org = by_pk.get(_int(request.POST.get("organization")) or organizations[0].pk)
        if org is None:
            raise Http404
        action = request.POST.get("action")
        if action == "dynamic":
            registration_url = request.build_absolute_uri(
                reverse("lti-register", args=[lti_dynreg.invite_create(organization=org, actor=request.user)])
            )
        elif action == "deployment":
            platform = get_object_or_404(
                LtiPlatform, pk=_int(request.POST.get("platform")), organization__in=organizations
            )
            try:
                lti.platform_deployment_add(platform=platform, deployment_id=request.POST.get("deployment_id", ""))
            except lti.PlatformInvalid as exc:
                errors["deployment_id"] = exc.message
            else:
                return redirect("organization-lti")
        elif action == "prepare":
            try:
                lti.platform_prepare(organization=org, name=request.POST.get("name", ""))
            except lti.PlatformInvalid as exc:
                errors["name"] = exc.message
            else:
                return redirect("organization-lti")
        elif action == "complete":
            prepared = get_object_or_404(
                LtiPlatform, pk=_int(request.POST.get("platform")), organization__in=organizations, client_id=""
            )
            completing = prepared.pk
            values = {k: request.POST.get(k, "") for k in _PLATFORM_FIELDS}
            try:
                lti.platform_create(
                    organization=prepared.organization,
                    name=prepared.name,
                    deployment_ids=values["deployment_ids"].splitlines(),
                    match_by_email=request.POST.get("match_by_email") == "on",
                    prepared=prepared,
                    **{k: v for k, v in values.items() if k != "deployment_ids"},
                )
            except lti.PlatformInvalid as exc:
                errors[exc.field or "form"] = exc.message
            else:
                return redirect("organization-lti")
        else:
            raise Http404
    platforms = list(
        LtiPlatform.objects.filter(organization__in=organizations).prefetch_related("deployments").order_by("name")
    )
    base = _base_url(request)
    for p in platforms:
        p.urls = lti.tool_urls(p, base_url=base)
    return render(
        request,
        "integrations/organization_lti.html",
        {
            "organizations": organizations,
            "platforms": platforms,
            "errors": errors,
            "completing": completing,
            "registration_url": registration_url,
            "jwks_url": base + reverse("lti-jwks"),
            "fields": [
                {
                    "name": name,
                    "label": label,
                    "help": help_text,
                    "value": values.get(name, ""),
                    "error": errors.get(name),
                }
                for name, label, help_text in _platform_fields()
            ],
        },
        status=400 if errors else 200,
    )


_PLATFORM_FIELDS = ("issuer", "client_id", "auth_login_url", "auth_token_url", "key_set_url", "deployment_ids")


def _platform_fields() -> list[tuple[str, str, str]]:
    """(name, label, help): the labels Moodle's and Canvas's tool pages use for the same values."""
    return [
        ("issuer", _("Platform ID (issuer)"), _("Moodle: the site's address, e.g. https://moodle.example.ma")),
        ("client_id", _("Client ID"), ""),
        ("auth_login_url", _("Authentication request URL"), _("Moodle: …/mod/lti/auth.php")),
        ("auth_token_url", _("Access token URL"), _("Moodle: …/mod/lti/token.php")),
        ("key_set_url", _("Public keyset URL"), _("Moodle: …/mod/lti/certs.php")),
        ("deployment_ids", _("Deployment ids"), _("One per line.")),
    ]


def _int(value) -> int | None:
    value = str(value or "")
    return int(value) if value.isascii() and value.isdigit() and len(value) < 12 else None

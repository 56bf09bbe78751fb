"""Framing for LTI: our pages refuse every frame (CSP frame-ancestors 'none', X-Frame-Options
DENY), except in a browser session launched from a platform, whose pages that platform's origins
(and only those) may frame. The launch, login and refusal pages carry the platform's origins
themselves (`frame_for_platform`); `LtiFrameMiddleware` extends them to the session's later pages."""

from django.conf import settings

from .models import LtiPlatform

SESSION_FRAME = "lti_frame_ancestors"
NEVER_FRAMED = ("/accounts/", "/admin/", "/o/", "/api/", "/teach/", "/author/")


def _policy(origins: list[str], form_action: str | None = None) -> dict:
    policy = dict(settings.SECURE_CSP)
    policy["frame-ancestors"] = ["'self'", *origins]
    if form_action:
        parts = form_action.split("/")
        origin = "/".join(parts[:3]) if len(parts) >= 3 else ""
        if origin.startswith(("http://", "https://")):
            policy["form-action"] = [*policy.get("form-action", ["'self'"]), origin]
    return policy


def frame_for_platform(response, platform: LtiPlatform, *, form_action: str | None = None):
    """This response may be framed by the platform (its issuer's and login page's origins)."""
    response._csp_config = _policy(list(platform.frame_origins), form_action)
    response.xframe_options_exempt = True
    return response


def frame_anyone(response):
    """For pages with no data and no action (a refused launch, a failed registration)."""
    response._csp_config = dict(settings.SECURE_CSP, **{"frame-ancestors": ["*"]})
    response.xframe_options_exempt = True
    return response


def frame_allow(request, platform: LtiPlatform) -> None:
    """After a launch: the rest of this browser session may be framed by the platform."""
    request.session[SESSION_FRAME] = list(platform.frame_origins)


class LtiFrameMiddleware:
    """Placed after XFrameOptionsMiddleware in MIDDLEWARE, so it marks the response before that
    one decides on X-Frame-Options, and before the CSP middleware writes the header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # Probes answer from the process alone, and a request with no session cookie has no
        # launch: neither costs a session read (a query, failing while the database is down).
        if request.path_info in settings.KAFAAT_PROBE_PATHS or settings.SESSION_COOKIE_NAME not in request.COOKIES:
            return response
        # Never the account, admin and API pages (two-factor, passwords, keys): an LMS page's
        # frame over them would be a clickjacking surface.
        if request.path_info.startswith(NEVER_FRAMED):
            return response
        session = getattr(request, "session", None)
        origins = session.get(SESSION_FRAME) if session is not None else None
        if origins and not hasattr(response, "_csp_config"):
            response._csp_config = _policy(list(origins))
            response.xframe_options_exempt = True
        return response

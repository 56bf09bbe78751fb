"""One middleware for the account rules every page obeys:
- two-factor before any page under settings.KAFAAT_2FA_REQUIRED_PATHS for staff, instructors
  and university admins;
- consent again when the privacy notice in force is newer than the one the user accepted."""

from django.conf import settings

from .gate import consent_redirect, two_factor_redirect

# Pages a user must still reach while asked to consent (or to verify).
_EXEMPT_PREFIXES = ("/accounts/", "/static/", "/media/", "/i18n/", "/healthz", "/readyz", "/api/")


class SecurityGateMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if getattr(request, "user", None) is not None and request.user.is_authenticated:
            if any(path.startswith(p) for p in settings.KAFAAT_2FA_REQUIRED_PATHS):
                response = two_factor_redirect(request)
                if response is not None:
                    return response
            if not path.startswith(_EXEMPT_PREFIXES):
                response = consent_redirect(request)
                if response is not None:
                    return response
        return self.get_response(request)

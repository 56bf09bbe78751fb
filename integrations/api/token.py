"""The OAuth 2 token endpoint (/o/token/): django-oauth-toolkit's, behind a throttle. Refused:
429 in OAuth's JSON error format with Retry-After, before any secret is hashed."""

import base64
import binascii
import json
from urllib.parse import unquote_plus

from django.http import HttpResponse
from django.utils.translation import gettext as _
from oauth2_provider.views import TokenView

from .throttles import TokenThrottle


def _client_id(request) -> str | None:
    scheme, _sep, value = request.headers.get("Authorization", "").partition(" ")
    if scheme == "Basic" and value:
        try:
            client_id, sep, _secret = base64.b64decode(value).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return unquote_plus(client_id) if sep else None
    return request.POST.get("client_id") or None


class ThrottledTokenView(TokenView):
    def post(self, request, *args, **kwargs):
        throttle = TokenThrottle(client_id=_client_id(request), address=request.META.get("REMOTE_ADDR") or "-")
        wait = throttle.admit()
        if wait is not None:
            body = {
                "error": "slow_down",
                "error_description": _("Too many token requests or failed attempts: try again in %(n)d seconds.")
                % {"n": wait},
            }
            response = HttpResponse(json.dumps(body), status=429, content_type="application/json")
            response["Retry-After"] = str(wait)
            response["Cache-Control"] = "no-store"
            return response
        response = super().post(request, *args, **kwargs)
        failed = response.status_code == 401 or b'"invalid_client"' in response.content
        if not failed:
            throttle.succeeded()
        return response

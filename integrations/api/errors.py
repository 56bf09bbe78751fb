"""The API's one error format. Every error answer under /api/ (4xx and 5xx) has this shape:

    {"error": {"status": 400, "code": "invalid", "message": "...",
               "details": [{"field": "rows.3.email", "code": "invalid", "message": "..."}]}}

`code` is machine-readable and stable; `message` is for humans (translated). Each detail names
the field (a dotted path into the request), and for batch rows also `row` (0-based index), or for
OneRoster files `file`, `line` and `column`. A batch or package refused for its rows also says
`errors_total`: how many errors there are in all, of which `details` lists the first ones."""

import re

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import set_rollback

from kernel.errors import ApplicationError

from ..text import safe_text
from .parsers import BodyTooLarge, TooDeep, UnstorableText, too_large

_DRF_CODES = {  # the first class that matches gives the code
    TooDeep: "too_deep",
    BodyTooLarge: "body_too_large",
    exceptions.ValidationError: "invalid",
    exceptions.ParseError: "parse_error",
    exceptions.AuthenticationFailed: "not_authenticated",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
}
API_PREFIX = "/api/"


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def flatten_detail(detail, prefix: str = "") -> list[dict]:
    """DRF's nested error dict/list -> [{"field": "a.0.b", "code": ..., "message": ...}]."""
    out: list[dict] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = "" if key == "non_field_errors" else str(key)
            out += flatten_detail(value, f"{prefix}.{name}" if prefix and name else (name or prefix))
    elif isinstance(detail, list):
        if all(isinstance(d, exceptions.ErrorDetail | str) for d in detail):
            for d in detail:
                out.append({"field": prefix or None, "code": getattr(d, "code", "invalid"), "message": str(d)})
        else:
            for i, value in enumerate(detail):
                if value:
                    out += flatten_detail(value, f"{prefix}.{i}" if prefix else str(i))
    else:
        out.append({"field": prefix or None, "code": getattr(detail, "code", "invalid"), "message": str(detail)})
    return out


def error_body(
    *, status: int, code: str, message: str, details: list[dict] | None = None, errors_total: int | None = None
) -> dict:
    # A message may quote what the client sent: what UTF-8 cannot encode is shown escaped.
    details = [{k: safe_text(v) if isinstance(v, str) else v for k, v in d.items()} for d in details or []]
    body = {"status": status, "code": code, "message": safe_text(str(message)), "details": details}
    if errors_total is not None:  # the details are the first errors of a longer list
        body["errors_total"] = errors_total
    return {"error": body}


def exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    if isinstance(exc, ApplicationError):
        details = exc.extra.get("details")
        if details is None and exc.field:
            details = [{"field": exc.field, "code": exc.extra.get("code", "invalid"), "message": exc.message}]
        code = exc.extra.get("code") or _snake(type(exc).__name__).removesuffix("_error") or "invalid"
        set_rollback()
        return Response(
            error_body(
                status=exc.status_code,
                code=code,
                message=exc.message,
                details=details,
                errors_total=exc.extra.get("errors_total"),
            ),
            status=exc.status_code,
        )

    if isinstance(exc, exceptions.APIException):
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
        # An exception may name its own stable code (api.auth.InvalidToken: token_expired).
        code = getattr(exc, "api_code", None) or next(
            (c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), "error"
        )
        total = None
        if isinstance(exc, UnstorableText):
            code, details, message = "invalid", exc.details, _("The request is not valid.")
            total = exc.total if exc.total > len(details) else None
        elif isinstance(exc, exceptions.ValidationError):
            details = flatten_detail(exc.detail)
            message = _("The request is not valid.")
        else:
            details = []
            message = str(exc.detail) if not isinstance(exc.detail, list | dict) else _("The request failed.")
            if isinstance(exc, exceptions.ParseError) and message.startswith("Multipart form parse error"):
                # DRF's MultiPartParser wraps Django's own (English, technical) text.
                message = _("The multipart/form-data body cannot be read: send the file as a form field.")
        set_rollback()
        return Response(
            error_body(status=exc.status_code, code=code, message=message, details=details, errors_total=total),
            status=exc.status_code,
            headers=headers,
        )
    return None


# --- Django's own errors under /api/ ----------------------------------------------------------
# Wired as handler400/403/404/500 in config/urls.py: a path under /api/ gets the API's format (an
# unknown address, a body Django itself refused, a crash), the website keeps its pages.


def _json(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse(error_body(status=status, code=code, message=message), status=status)


def _is_api(request) -> bool:
    return request.path.startswith(API_PREFIX)


def handler400(request, exception=None):
    if not _is_api(request):
        return defaults.bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        return _json(413, "body_too_large", str(too_large(settings.DATA_UPLOAD_MAX_MEMORY_SIZE).detail))
    return _json(400, "bad_request", _("The request is not valid."))


def handler403(request, exception=None):
    if not _is_api(request):
        return defaults.permission_denied(request, exception)
    return _json(403, "permission_denied", _("You do not have permission to perform this action."))


def handler404(request, exception=None):
    if not _is_api(request):
        return defaults.page_not_found(request, exception)
    return _json(404, "not_found", _("Nothing is at this address."))


def handler500(request):
    if not _is_api(request):
        return defaults.server_error(request)
    return _json(500, "server_error", _("The server failed to answer; the error was recorded."))

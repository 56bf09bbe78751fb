"""The API's one error format. Every 4xx answer of /api/v1/ has this shape:

    {"error": {"status": 400, "code": "invalid", "message": "...",
               "details": [{"field": "rows.3.email", "code": "invalid", "message": "..."}]}}

`code` is machine-readable and stable; `message` is for humans (translated). Each detail names
the field (a dotted path into the request), and for batch rows also `row` (0-based index), or for
OneRoster files `file`, `line` and `column`. A batch or package refused for its rows also says
`errors_total`: how many errors there are in all, of which `details` lists the first ones."""

import re

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import set_rollback

from kernel.errors import ApplicationError

_DRF_CODES = {
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
    body = {"status": status, "code": code, "message": message, "details": details or []}
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
        if isinstance(exc, exceptions.ValidationError):
            details = flatten_detail(exc.detail)
            message = _("The request is not valid.")
        else:
            details = []
            message = str(exc.detail) if not isinstance(exc.detail, list | dict) else _("The request failed.")
        set_rollback()
        return Response(
            error_body(status=exc.status_code, code=code, message=message, details=details),
            status=exc.status_code,
            headers=headers,
        )
    return None

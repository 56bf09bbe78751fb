"""Account rules every page obeys:
- two-factor before any page under settings.KAFAAT_2FA_REQUIRED_PATHS for staff, instructors
  and university admins; consent again when the privacy notice in force is newer than the one
  the user accepted (SecurityGateMiddleware);
- admin pages that show people's records audit the read (AdminReadAuditMiddleware)."""

import json

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from .gate import consent_redirect, two_factor_redirect
from .models import AuditEntry
from .services import audit_reads

# Pages a user must still reach while asked to consent (or to verify).
_EXEMPT_PREFIXES = ("/accounts/", "/static/", "/media/", "/i18n/", "/healthz", "/readyz", "/api/")


class SecurityGateMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if path in settings.KAFAAT_PROBE_PATHS:
            return self.get_response(request)
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


# Admin pages of these models record the read under their own action; any other model with an
# owner field, as "a record about you".
_ADMIN_ACTIONS = {
    "accounts.user": AuditEntry.Action.PROFILE_VIEW,
    "grading.submission": AuditEntry.Action.SUBMISSION_VIEW,
    "certificates.certificate": AuditEntry.Action.CERTIFICATE_VIEW,
}
# The foreign keys to a user that say whose data a row is (not who acted on it: `actor`,
# `requested_by`, `revoked_by`...).
OWNER_FIELDS = ("user", "learner", "subject_user")


def owner_ids(obj) -> list[int]:
    """The users a row is about: the user itself, or its owner fields. No query (ids only)."""
    user_model = get_user_model()
    if isinstance(obj, user_model):
        return [obj.pk]
    return [
        getattr(obj, f.attname)
        for f in obj._meta.concrete_fields
        if f.name in OWNER_FIELDS and f.is_relation and f.related_model is user_model
    ]


class AdminReadAuditMiddleware:
    """Django's admin generates a page per model: rather than each ModelAdmin remembering to
    audit, every admin page rendered with a record (change, history and delete pages: `original`
    or `object`), a list of records (change lists: `cl`) or the rows an action is about to act on
    (its confirmation page, as delete selected: `queryset`) records the read for the people those
    rows are about, through accounts.services.audit_reads (one insert per page). So does the
    admin's autocomplete search (JSON), which names the records it finds."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        if match is not None and match.view_name == "admin:autocomplete" and response.status_code == 200:
            _audit_autocomplete(request, response)
        return response

    def process_template_response(self, request, response):
        match = getattr(request, "resolver_match", None)
        context = getattr(response, "context_data", None) or {}
        if match is None or match.namespace != "admin" or not getattr(request, "user", None):
            return response
        record = context.get("original") or context.get("object")
        if record is not None and hasattr(record, "_meta"):
            action = _ADMIN_ACTIONS.get(record._meta.label_lower, AuditEntry.Action.RECORD_VIEW)
            audit_reads(actor=request.user, action=action, subjects=owner_ids(record), obj=record)
        changelist = context.get("cl")
        if changelist is not None:
            rows = list(changelist.result_list)  # the page's rows: evaluated once, reused by the template
            changelist.result_list = rows
            subjects = [uid for row in rows for uid in owner_ids(row)]
            audit_reads(actor=request.user, action=AuditEntry.Action.LIST_VIEW, subjects=subjects)
        selected = context.get("queryset")
        if changelist is None and isinstance(selected, QuerySet):
            subjects = [uid for row in selected for uid in owner_ids(row)]
            audit_reads(actor=request.user, action=AuditEntry.Action.LIST_VIEW, subjects=subjects)
        return response


def _audit_autocomplete(request, response) -> None:
    """The records an autocomplete answer names (Django checked the parameters and the
    permission before answering 200): `results` holds their `to_field` values."""
    source = apps.get_model(request.GET["app_label"], request.GET["model_name"])
    relation = source._meta.get_field(request.GET["field_name"]).remote_field
    values = [r["id"] for r in json.loads(response.content)["results"]]
    rows = relation.model._default_manager.filter(**{f"{relation.field_name}__in": values})
    subjects = [uid for row in rows for uid in owner_ids(row)]
    audit_reads(actor=request.user, action=AuditEntry.Action.LIST_VIEW, subjects=subjects)

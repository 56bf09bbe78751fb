"""`{% load fhir_feedback %}`: `failure|fhir_failure` renders one failure of a FHIR answer's
feedback ({"path", "code", "params"}) in the reader's language (the path is shown beside it)."""

from django import template

from assessment.kinds.fhir.messages import notice_text

register = template.Library()


@register.filter
def fhir_failure(failure) -> str:
    if not isinstance(failure, dict):
        return ""
    return notice_text(str(failure.get("code", "")), failure.get("params") or {})

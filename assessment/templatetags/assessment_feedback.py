"""Template filters for a grader's feedback (`{% load assessment_feedback %}`):
`feedback|feedback_notices` gives its messages in the reader's language, `test|test_status` a code
test's result; `kind|kind_body_template` and `feedback|kind_feedback_template` name a kind's own
templates (assessment.kinds.base.Kind), "" when it has none."""

from django import template
from django.utils.translation import gettext as _

from assessment import kinds

register = template.Library()


@register.filter
def feedback_notices(feedback) -> list[str]:
    return kinds.feedback_notices(feedback)


@register.filter
def kind_body_template(kind_name) -> str:
    found = kinds.find(kind_name) if isinstance(kind_name, str) else None
    return (found.body_template if found else None) or ""


@register.filter
def kind_feedback_template(feedback) -> str:
    name = feedback.get("kind") if isinstance(feedback, dict) else None
    found = kinds.find(name) if isinstance(name, str) else None
    return (found.feedback_template if found else None) or ""


@register.filter
def test_status(row) -> str:
    """A code test's row, read from its status (rows stored before the statuses have `passed` only)."""
    if not isinstance(row, dict):
        return ""
    if row.get("passed"):
        return _("passed")
    return {
        "crashed": _("crashed"),
        "time_limit": _("time limit exceeded"),
        "memory_limit": _("memory limit exceeded"),
    }.get(row.get("status"), _("failed"))

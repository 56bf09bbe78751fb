"""Template filters for a grader's feedback (`{% load assessment_feedback %}`):
`feedback|feedback_notices` gives its messages in the reader's language, `test|test_status` a code
test's result."""

from django import template
from django.utils.translation import gettext as _

from assessment import kinds

register = template.Library()


@register.filter
def feedback_notices(feedback) -> list[str]:
    return kinds.feedback_notices(feedback)


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

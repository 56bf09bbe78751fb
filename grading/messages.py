"""The words of grading's stored codes, rendered in the active language when a page or an e-mail
is made (never when the row is written: a worker's language is nobody's). Rows written before
the codes existed keep their text, shown as written."""

from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

# Submission.feedback of a submission that failed to grade.
GRADING_FAILED = "grading_failed"
# GradeRecord.reason_code of a regrade; params {"job": <RegradeJob id>}.
REGRADE = "regrade"


def feedback_message(feedback: dict) -> str:
    """What the learner reads about a failed submission."""
    feedback = feedback or {}
    if feedback.get("code") == GRADING_FAILED:
        return _("This submission could not be graded. Staff have been told.")
    return str(feedback.get("message", ""))


def failure_text(code: str, *, attempts: int = 0) -> str:
    """Why a submission failed to grade, for staff (the detail is in its staff log)."""
    if code == "grader_error":
        return _("The grader could not grade this submission; the staff log says why.")
    if code == "attempts_exhausted":
        return ngettext(
            "Workers took this submission %(n)d time without recording a grade; the staff log says why.",
            "Workers took this submission %(n)d times without recording a grade; the staff log says why.",
            attempts,
        ) % {"n": attempts}
    return code


def reason_text(code: str, params: dict) -> str:
    """A grade record's reason, from its code and parameters."""
    if code == REGRADE:
        return _("Regrade #%(n)s") % {"n": (params or {}).get("job", "?")}
    return code


def late_text(late: dict) -> str:
    """The late penalty's explanation, from the numbers stored in the feedback."""
    if not isinstance(late, dict):
        return ""
    try:
        percent = Decimal(str(late.get("percent", "0"))).normalize()
        days = int(late.get("days", 0))
    except (InvalidOperation, TypeError, ValueError):
        return str(late.get("message", ""))
    return ngettext(
        "Submitted %(days)d day late: %(percent)s%% of the points deducted (-%(deduction)s).",
        "Submitted %(days)d days late: %(percent)s%% of the points deducted (-%(deduction)s).",
        days,
    ) % {
        "days": days,
        "percent": percent,
        "deduction": late.get("deduction", ""),
    }

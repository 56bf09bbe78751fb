"""The words of each notification, rendered in the active language from its kind and params."""

from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from grading.messages import failure_text

from .models import NotificationKind


def _reader_number(value) -> str:
    """A score stored as a plain decimal string ("10.00"), written as the reader writes numbers
    ("10,00" in French and Arabic), like every other score on the site. Anything that is not a
    number is shown as stored."""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    if not number.is_finite():
        return str(value)
    return formats.number_format(number)


def _reader_datetime(value) -> str:
    """A moment stored as ISO 8601, written the reader's way (config/formats), in the site's time
    zone; anything else is shown as stored (reminders made before dates were stored this way)."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if timezone.is_naive(moment):
        return str(value)
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def notification_text(kind: str, params: dict) -> str:
    keys = ("assignment", "course", "score", "max_score", "due", "name", "learner", "worker", "problem")
    p = {k: params.get(k, "") for k in keys}
    for k in ("score", "max_score"):
        if p[k] != "":
            p[k] = _reader_number(p[k])
    if params.get("due_at"):
        p["due"] = _reader_datetime(params["due_at"])
    if kind == NotificationKind.GRADED:
        return _("%(assignment)s was graded: %(score)s / %(max_score)s.") % p
    if kind == NotificationKind.NEEDS_REVISION:
        return _("%(assignment)s needs another attempt: %(score)s / %(max_score)s is below the pass mark.") % p
    if kind == NotificationKind.DEADLINE:
        return _("%(assignment)s (%(course)s) is due on %(due)s.") % p
    if kind == NotificationKind.CERTIFICATE:
        return _("Your certificate for %(name)s has been issued.") % p
    if kind == NotificationKind.SUBMISSION_FAILED:
        p["reason"] = failure_text(params.get("reason", ""), attempts=params.get("attempts", 0))
        return _("A submission by %(learner)s to %(assignment)s (%(course)s) could not be graded. %(reason)s") % p
    if kind == NotificationKind.GRADING_UNAVAILABLE:
        return (
            _(
                "Code grading failed on %(worker)s: submissions to %(course)s wait queued for a worker whose "
                "sandbox works. %(problem)s"
            )
            % p
        )
    return ""


def notification_subject(kind: str) -> str:
    return {
        NotificationKind.GRADED: _("Your assignment was graded"),
        NotificationKind.NEEDS_REVISION: _("Your assignment needs another attempt"),
        NotificationKind.DEADLINE: _("A deadline is coming up"),
        NotificationKind.CERTIFICATE: _("Your certificate is ready"),
        NotificationKind.SUBMISSION_FAILED: _("A submission could not be graded"),
        NotificationKind.GRADING_UNAVAILABLE: _("Code grading is unavailable"),
    }.get(kind, "Kafaat")

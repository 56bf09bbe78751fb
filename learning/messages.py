"""The words of each notification, rendered in the active language from its kind and params."""

from django.utils.translation import gettext as _

from grading.messages import failure_text

from .models import NotificationKind


def notification_text(kind: str, params: dict) -> str:
    keys = ("assignment", "course", "score", "max_score", "due", "name", "learner", "worker", "problem")
    p = {k: params.get(k, "") for k in keys}
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

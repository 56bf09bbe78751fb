"""The words of each notification, rendered in the active language from its kind and params."""

from django.utils.translation import gettext as _

from .models import NotificationKind


def notification_text(kind: str, params: dict) -> str:
    p = {k: params.get(k, "") for k in ("assignment", "course", "score", "max_score", "due", "name")}
    if kind == NotificationKind.GRADED:
        return _("%(assignment)s was graded: %(score)s / %(max_score)s.") % p
    if kind == NotificationKind.NEEDS_REVISION:
        return _("%(assignment)s needs another attempt: %(score)s / %(max_score)s is below the pass mark.") % p
    if kind == NotificationKind.DEADLINE:
        return _("%(assignment)s (%(course)s) is due on %(due)s.") % p
    if kind == NotificationKind.CERTIFICATE:
        return _("Your certificate for %(name)s has been issued.") % p
    return ""


def notification_subject(kind: str) -> str:
    return {
        NotificationKind.GRADED: _("Your assignment was graded"),
        NotificationKind.NEEDS_REVISION: _("Your assignment needs another attempt"),
        NotificationKind.DEADLINE: _("A deadline is coming up"),
        NotificationKind.CERTIFICATE: _("Your certificate is ready"),
    }.get(kind, "Kafaat")

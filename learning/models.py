"""The learner's side: notifications (on the page and by e-mail) and which of them the learner wants."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class NotificationKind(models.TextChoices):
    GRADED = "graded", _("An assignment was graded")
    NEEDS_REVISION = "needs_revision", _("An assignment needs another attempt")
    DEADLINE = "deadline", _("A deadline is less than 48 hours away")
    CERTIFICATE = "certificate", _("A certificate was issued")
    # For the course's instructors (staff when a course has none).
    SUBMISSION_FAILED = "submission_failed", _("A learner's submission could not be graded (course staff)")
    GRADING_UNAVAILABLE = "grading_unavailable", _("Code grading is unavailable on a worker (course staff)")


class NotificationSetting(models.Model):
    """A learner's choice for one kind of notification. No row means both channels are on."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_settings")
    kind = models.CharField(_("kind"), max_length=20, choices=NotificationKind.choices)
    on_page = models.BooleanField(_("on the page"), default=True)
    by_email = models.BooleanField(_("by e-mail"), default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="learning_setting_unique_kind")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}"


class Notification(models.Model):
    """One notification. Its text is rendered from `kind` and `params` in the reader's language
    when shown or mailed, so it reads right in French, Arabic and English."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("kind"), max_length=20, choices=NotificationKind.choices)
    params = models.JSONField(default=dict, blank=True)
    url = models.CharField(max_length=500, blank=True)
    # Makes sending idempotent: one reminder per learner and assignment, one per certificate...
    dedupe_key = models.CharField(max_length=200, blank=True)
    on_page = models.BooleanField(default=True)
    by_email = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "dedupe_key"], condition=~Q(dedupe_key=""), name="learning_notification_dedupe"
            )
        ]
        indexes = [models.Index(fields=["user", "-created_at"], name="learning_notif_user_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind} {self.created_at:%Y-%m-%d}"

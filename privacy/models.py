"""What a learner asked for about their own data: an export to download, an erasure to come.
Both tables were created by `accounts` and keep their names (`db_table`): the models moved here
without touching the database (migrations: SeparateDatabaseAndState)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class DataExport(models.Model):
    """A zip of everything we hold about a user, built by a worker, downloadable for a while."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Being prepared")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")
        EXPIRED = "expired", _("Expired")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="data_exports")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    file_path = models.CharField(max_length=255, blank=True)
    requested_at = models.DateTimeField(auto_now_add=True)
    ready_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "accounts_dataexport"
        ordering = ["-requested_at"]
        constraints = [
            # Asked twice while one is being prepared: still one export.
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(status="pending"), name="accounts_export_one_pending"
            ),
        ]

    def __str__(self) -> str:
        return f"export {self.pk} of {self.user_id} ({self.status})"


class DeletionRequest(models.Model):
    """The user asked for their account to be erased; it happens after a grace period."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Scheduled")
        CANCELLED = "cancelled", _("Cancelled")
        DONE = "done", _("Done")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="deletion_requests")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    requested_at = models.DateTimeField(auto_now_add=True)
    effective_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "accounts_deletionrequest"
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(status="pending"), name="accounts_deletion_one_pending"
            ),
        ]

    def __str__(self) -> str:
        return f"deletion of {self.user_id} ({self.status})"

"""The event outbox: written in the same transaction as the change it reports, delivered later
by the `events` queue (webhooks)."""

from django.db import models


class OutboxEvent(models.Model):
    event_type = models.CharField(max_length=64)  # e.g. submission.graded
    organization = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    # Events for one learner are delivered in order of id.
    user = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.event_type} #{self.pk}"

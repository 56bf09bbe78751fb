"""The event outbox: what universities are told, written in the transaction of the change it
reports and fanned out to webhook deliveries later (integrations). The table keeps the name it
had when integrations owned it."""

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
    # Set once the event has been fanned out into webhook deliveries.
    dispatched_at = models.DateTimeField(null=True, blank=True)
    # Its deferred handlers (kernel.events.subscribe_deferred) have yet to run: the batch consumer
    # (kernel.deferred_run) runs them and clears it in one transaction. A database default, so
    # rows written in bulk (COPY) are not pending.
    is_deferred_pending = models.BooleanField(default=False, db_default=False)

    class Meta:
        db_table = "integrations_outboxevent"
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["id"], name="integ_outbox_undispatched_idx", condition=models.Q(dispatched_at__isnull=True)
            ),
            models.Index(
                fields=["id"], name="kernel_outbox_deferred_idx", condition=models.Q(is_deferred_pending=True)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} #{self.pk}"

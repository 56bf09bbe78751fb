"""Thin Celery tasks for privacy: ids in, one service call. Routed to the `events` queue.

Their names keep the `accounts.` prefix they had before privacy became its own app: messages
already queued and the beat schedule name them (tests/privacy pins them)."""

from celery import shared_task

from . import services


@shared_task(name="accounts.export_build", acks_late=True, reject_on_worker_lost=True, time_limit=600,
             soft_time_limit=540)  # fmt: skip
def export_build_task(export_id: int) -> None:
    services.export_build(export_id=export_id)


# Below the brokers' redelivery deadline (settings: CELERY_VISIBILITY_TIMEOUT).
@shared_task(name="accounts.retention_enforce", acks_late=True, time_limit=1700, soft_time_limit=1600)
def retention_enforce_task() -> dict:
    return services.retention_enforce()

"""Thin tasks on the `events` queue. Names are pinned (tests check them): renaming a module must
not orphan queued messages."""

from celery import shared_task

from .services import invites, webhooks

COMMON = {"acks_late": True, "reject_on_worker_lost": True, "time_limit": 120, "soft_time_limit": 100}


@shared_task(name="integrations.webhooks_tick", ignore_result=True, **COMMON)
def webhooks_tick():
    webhooks.webhooks_tick()


@shared_task(name="integrations.webhooks_deliver", ignore_result=True, **COMMON)
def webhooks_deliver(subscription_id: int):
    webhooks.webhooks_deliver(subscription_id=subscription_id)


@shared_task(name="integrations.invites_send", ignore_result=True, **COMMON)
def invites_send():
    invites.invites_send_pending()

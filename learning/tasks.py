"""Thin Celery tasks for the learner's notifications (queue "events")."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import services

RETRY = {"autoretry_for": (OperationalError, InterfaceError, OSError), "retry_backoff": 5, "max_retries": 5}


@shared_task(name="learning.notification_email", acks_late=True, reject_on_worker_lost=True, time_limit=60,
             soft_time_limit=50, **RETRY)  # fmt: skip
def notification_email(notification_id: int) -> None:
    services.notification_email_send(notification_id=notification_id)


@shared_task(name="learning.notification_emails", acks_late=True, reject_on_worker_lost=True, time_limit=120,
             soft_time_limit=100)  # fmt: skip
def notification_emails(notification_ids: list[int]) -> int:
    return services.notification_emails_send(notification_ids=notification_ids)


@shared_task(name="learning.deadline_reminders", acks_late=True, time_limit=120, soft_time_limit=100)
def deadline_reminders() -> int:
    return services.deadline_reminders_send()

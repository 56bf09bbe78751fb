"""Thin Celery tasks for certificates (queue "events")."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import services

RETRY = {"autoretry_for": (OperationalError, InterfaceError), "retry_backoff": 2, "max_retries": 5}


@shared_task(name="certificates.issue", acks_late=True, reject_on_worker_lost=True, time_limit=60, soft_time_limit=50,
             **RETRY)  # fmt: skip
def issue(user_id: int, course_id: int) -> None:
    services.certificates_issue_for_course(user_id=user_id, course_id=course_id)


@shared_task(name="certificates.sweep_missing", acks_late=True, time_limit=120, soft_time_limit=100)
def sweep_missing() -> int:
    return services.certificates_sweep_missing()

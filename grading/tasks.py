"""Thin Celery tasks: ids in, one service call. Task names are pinned by a test so that moving a
module never orphans queued messages."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import services

# Only a database that went away is worth a retry; a grader's own error fails the submission.
TRANSIENT = (OperationalError, InterfaceError)
RETRY = {"autoretry_for": TRANSIENT, "retry_backoff": 2, "retry_backoff_max": 60, "max_retries": 5}


@shared_task(
    name="grading.submission_grade",
    acks_late=True,
    reject_on_worker_lost=True,
    time_limit=60,
    soft_time_limit=50,
    **RETRY,
)
def submission_grade(submission_id: int) -> None:
    services.submission_grade(submission_id=submission_id)


@shared_task(
    name="grading.submission_grade_code",
    acks_late=True,
    reject_on_worker_lost=True,
    time_limit=90,
    soft_time_limit=80,
    **RETRY,
)
def submission_grade_code(submission_id: int) -> None:
    services.submission_grade(submission_id=submission_id)


@shared_task(name="grading.sweep_stuck_submissions", acks_late=True, time_limit=60, soft_time_limit=50)
def sweep_stuck_submissions() -> int:
    return services.submissions_sweep_stuck()

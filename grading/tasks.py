"""Thin Celery tasks: ids in, one service call. Task names are pinned by a test so that moving a
module never orphans queued messages."""

import logging

from celery import shared_task
from celery.signals import worker_ready
from django.db import InterfaceError, OperationalError, close_old_connections, connections

from . import services

log = logging.getLogger(__name__)

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


@shared_task(
    name="grading.regrade_run", acks_late=True, reject_on_worker_lost=True, time_limit=3600, soft_time_limit=3500
)
def regrade_run(job_id: int) -> None:
    services.regrade_run(job_id=job_id)


@worker_ready.connect
def sandbox_self_test_at_start(sender=None, **kwargs) -> None:
    """Fail closed: a worker whose sandbox does not pass its self-test stops consuming the sandbox
    queue, so code submissions wait queued; /readyz and the admin show the reason."""
    try:
        queues = {q.name for q in sender.task_consumer.queues}
    except AttributeError:
        return
    if "sandbox" not in queues:
        return
    from .sandbox import self_test

    problem = self_test()
    hostname = getattr(sender, "hostname", None)
    try:
        close_old_connections()
        services.sandbox_health_record(hostname=hostname, problem=problem)
    finally:
        connections.close_all()  # the pool's children must not share this connection
    if problem:
        log.error("sandbox self-test failed, not consuming the sandbox queue: %s", problem)
        sender.cancel_task_queue("sandbox")
    else:
        log.info("sandbox self-test passed")

"""Thin Celery tasks: ids in, one service call. Task names are pinned by a test so that moving a
module never orphans queued messages.

Every task here runs well under its time limit, and every time limit is below the broker's
redelivery deadline (settings: CELERY_VISIBILITY_TIMEOUT, RABBITMQ_CONSUMER_TIMEOUT_SECONDS), so
a running task is never handed to a second worker. A grading task's claim token is its task id
and retry number: its own retry may take back the row it holds (grading.leases)."""

import logging

from celery import current_app, shared_task
from celery.signals import worker_process_shutdown, worker_ready
from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, connections

from assessment import sandbox
from assessment.kinds import GraderUnavailable

from . import leases, services

log = logging.getLogger(__name__)

# Only a database that went away is worth an automatic retry; a grader's own error fails the
# submission, and the sandbox failing (GraderUnavailable) is retried below with its own backoff.
TRANSIENT = (OperationalError, InterfaceError)
RETRY = {"autoretry_for": TRANSIENT, "retry_backoff": 2, "retry_backoff_max": 60, "max_retries": 5}


def _token(task) -> str:
    return leases.new_token(task.request.id, task.request.retries)


def _unavailable(task, exc: GraderUnavailable, *, report) -> None:
    """Retry with a doubling backoff; after the last retry the row stays queued (fail closed),
    the worker tests its sandbox again and staff are told."""
    retries = task.request.retries
    if retries < settings.GRADING_UNAVAILABLE_RETRIES:
        countdown = settings.GRADING_UNAVAILABLE_BACKOFF_SECONDS * 2**retries
        raise task.retry(exc=exc, countdown=countdown, max_retries=settings.GRADING_UNAVAILABLE_RETRIES + 5)
    problem = report()
    if problem:
        log.error("sandbox self-test failed after grading failures, not consuming the sandbox queue: %s", problem)
        _stop_consuming_sandbox(task.request.hostname)


def _stop_consuming_sandbox(hostname: str | None) -> None:
    """Ask this worker's main process (a pool child cannot do it itself) to stop consuming the
    sandbox queue, as it does when its self-test fails at start."""
    if not hostname:
        return
    try:
        current_app.control.cancel_consumer("sandbox", destination=[hostname])
    except Exception:
        log.warning("could not ask %s to stop consuming the sandbox queue", hostname, exc_info=True)


def _grade(task, submission_id: int) -> None:
    try:
        services.submission_grade(submission_id=submission_id, token=_token(task))
    except GraderUnavailable as exc:
        problem, hostname = str(exc), task.request.hostname
        _unavailable(
            task,
            exc,
            report=lambda: services.grading_unavailable_report(
                submission_id=submission_id, problem=problem, hostname=hostname
            ),
        )


@shared_task(
    bind=True,
    name="grading.submission_grade",
    acks_late=True,
    reject_on_worker_lost=True,
    time_limit=60,
    soft_time_limit=50,
    **RETRY,
)
def submission_grade(self, submission_id: int) -> None:
    _grade(self, submission_id)


@shared_task(
    bind=True,
    name="grading.submission_grade_code",
    acks_late=True,
    reject_on_worker_lost=True,
    time_limit=90,
    soft_time_limit=80,
    **RETRY,
)
def submission_grade_code(self, submission_id: int) -> None:
    _grade(self, submission_id)


@shared_task(name="grading.sweep_stuck_submissions", acks_late=True, time_limit=60, soft_time_limit=50)
def sweep_stuck_submissions() -> int:
    return services.submissions_sweep_stuck()


@shared_task(
    name="grading.regrade_run", acks_late=True, reject_on_worker_lost=True, time_limit=120, soft_time_limit=100, **RETRY
)
def regrade_run(job_id: int) -> int:
    """Send one `grading.regrade_item` task per pending item of the job (short: it grades none)."""
    return services.regrade_run(job_id=job_id)


@shared_task(
    bind=True,
    name="grading.regrade_item",
    acks_late=True,
    reject_on_worker_lost=True,
    time_limit=90,
    soft_time_limit=80,
    **RETRY,
)
def regrade_item(self, item_id: int) -> None:
    try:
        services.regrade_item_run(item_id=item_id, token=_token(self))
    except GraderUnavailable as exc:
        _unavailable(self, exc, report=lambda: services.sandbox_self_test_record(hostname=self.request.hostname))


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
    problem = sandbox.self_test()
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


@worker_process_shutdown.connect
def sandbox_zygotes_stop(**kwargs) -> None:
    """A pool child that shuts down stops its sandbox zygotes and reaps them itself, rather than
    leaving them to die with it (--die-with-parent) as zombies for init to reap."""
    sandbox.stop_zygotes()

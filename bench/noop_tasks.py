"""Bench-only tasks, never imported by the platform: the benchmark's worker loads this module
with `-I bench.noop_tasks` (bench.common.start_worker(include=...)), so production routing and
the task-name test never see it. `bench.noop` lands on the default queue (grading), the queue
the quiz grading tasks use."""

from celery import shared_task


@shared_task(name="bench.noop", acks_late=True, ignore_result=True)
def noop() -> None:
    """The Celery floor: a task that does nothing, with grading's reliability flags."""

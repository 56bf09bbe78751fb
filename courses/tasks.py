"""Thin Celery tasks: ids in, one service call. Names are pinned by a test."""

from celery import shared_task

from . import imports


@shared_task(
    name="courses.course_import",
    acks_late=True,
    reject_on_worker_lost=True,
    # The largest archive the limits let through (20 MB of lessons to render) takes minutes.
    time_limit=900,
    soft_time_limit=840,
)
def course_import(job_id: int) -> None:
    """Import a big course archive in the background (routed to the `events` queue)."""
    imports.course_import_job_run(job_id=job_id)

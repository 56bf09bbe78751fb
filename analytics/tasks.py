from celery import shared_task

from . import services


@shared_task(
    name="analytics.export_build",
    acks_late=True,
    reject_on_worker_lost=True,
    time_limit=1700,  # below the broker deadline (settings: CELERY_VISIBILITY_TIMEOUT)
    soft_time_limit=1600,
)
def export_build(job_id: int) -> None:
    """Build a large gradebook export in the background."""
    services.export_job_run(job_id=job_id)

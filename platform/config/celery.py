"""The Celery app. Workers start it with `celery -A config worker` and PYTHONPATH=platform."""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun
from django.db import close_old_connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("kafaat")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def _close_old_connections(**kwargs) -> None:
    """Around each task, as Django does around each request: close the database connections that
    are past CONN_MAX_AGE or that an error left unusable (CELERY_DB_REUSE_MAX keeps Celery from
    closing every connection itself)."""
    close_old_connections()

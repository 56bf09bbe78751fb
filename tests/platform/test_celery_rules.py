"""The rule that keeps a running task from being handed to a second worker (README, Operations):
every task's hard time limit is below the broker's redelivery deadline, Redis's
visibility_timeout and RabbitMQ's consumer_timeout."""

import importlib
import importlib.util

from django.apps import apps
from django.conf import settings

from config.celery import app
from tests.processes import worker_task_names


def _tasks():
    for config in apps.get_app_configs():  # every app's tasks.py, as a worker imports them
        if importlib.util.find_spec(f"{config.name}.tasks"):
            importlib.import_module(f"{config.name}.tasks")
    return {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}


def test_a_worker_registers_every_pinned_task_name():
    """Queued messages and beat's schedule name tasks: a task renamed or no longer imported by the
    worker's autodiscovery would orphan them. Checked in a fresh process, as a worker starts."""
    pinned = {
        "accounts.export_build", "accounts.retention_enforce", "analytics.export_build", "certificates.issue",
        "certificates.sweep_missing", "courses.course_import", "grading.regrade_item", "grading.regrade_run",
        "grading.submission_grade", "grading.submission_grade_code", "grading.sweep_stuck_submissions",
        "integrations.invites_send", "integrations.oneroster_import", "integrations.webhooks_deliver",
        "integrations.webhooks_tick", "integrations.lti_scores_tick", "integrations.lti_scores_deliver",
        "learning.deadline_reminders", "learning.notification_email",
    }  # fmt: skip
    names = worker_task_names()
    assert pinned <= names, f"not registered by a worker: {sorted(pinned - names)}"
    assert names <= set(_tasks()), "this process sees the tasks a worker has, for the time-limit rule below"


def test_every_tasks_time_limit_is_below_the_brokers_redelivery_deadline():
    deadline = min(settings.CELERY_VISIBILITY_TIMEOUT, settings.RABBITMQ_CONSUMER_TIMEOUT_SECONDS)
    too_long = {}
    for name, task in _tasks().items():
        limit = task.time_limit or app.conf.task_time_limit
        if limit is None or limit >= deadline:
            too_long[name] = limit
    assert not too_long, f"time limits not below {deadline} s: {too_long}"

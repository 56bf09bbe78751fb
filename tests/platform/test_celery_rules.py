"""The rule that keeps a running task from being handed to a second worker (README, Operations):
every task's hard time limit is below the broker's redelivery deadline, Redis's
visibility_timeout and RabbitMQ's consumer_timeout."""

import importlib
import importlib.util

from django.apps import apps
from django.conf import settings

from config.celery import app


def _tasks():
    for config in apps.get_app_configs():  # every app's tasks.py, as a worker imports them
        if importlib.util.find_spec(f"{config.name}.tasks"):
            importlib.import_module(f"{config.name}.tasks")
    return {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}


def test_the_project_registers_its_tasks():
    names = set(_tasks())
    assert {"grading.submission_grade", "grading.regrade_item", "accounts.export_build"} <= names


def test_every_tasks_time_limit_is_below_the_brokers_redelivery_deadline():
    deadline = min(settings.CELERY_VISIBILITY_TIMEOUT, settings.RABBITMQ_CONSUMER_TIMEOUT_SECONDS)
    too_long = {}
    for name, task in _tasks().items():
        limit = task.time_limit or app.conf.task_time_limit
        if limit is None or limit >= deadline:
            too_long[name] = limit
    assert not too_long, f"time limits not below {deadline} s: {too_long}"

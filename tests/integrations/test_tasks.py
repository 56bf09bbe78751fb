from celery import current_app

import integrations.tasks  # noqa: F401 - registers the tasks


def test_task_names_are_pinned_and_routed_to_the_events_queue():
    """Renaming a module must not orphan queued messages, nor beat's schedule."""
    from django.conf import settings

    names = {
        "integrations.webhooks_tick",
        "integrations.webhooks_deliver",
        "integrations.invites_send",
        "integrations.oneroster_import",
        "integrations.lti_scores_tick",
        "integrations.lti_scores_deliver",
    }
    assert names <= set(current_app.tasks)
    assert settings.CELERY_TASK_ROUTES["integrations.*"] == {"queue": "events"}
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"integrations.webhooks_tick", "integrations.invites_send", "integrations.lti_scores_tick"} <= scheduled
    for name in names:
        task = current_app.tasks[name]
        assert task.acks_late and task.reject_on_worker_lost and task.time_limit

from django.apps import AppConfig
from django.core.management import call_command
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

from kernel.tasks import resender


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = _("Integrations")
    # This app's part of an erasure (the university is told), collected by the privacy app.
    privacy_erase = "integrations.privacy.erase"

    def ready(self):
        from . import tasks
        from .api import schema  # noqa: F401 - registers the OpenAPI auth extension
        from .services import (
            events,  # noqa: F401 - subscribes the webhook nudge to outbox writes
            lti_ags,  # noqa: F401 - subscribes LTI score deliveries to outbox writes
        )

        resender(tasks.oneroster_jobs_resend)  # import jobs whose message was lost
        post_migrate.connect(_create_cache_tables, sender=self)


def _create_cache_tables(using, **kwargs):
    """The database cache's table (the API's rate counters), on every `migrate`: a fresh machine
    and `make run` have it; createcachetable leaves an existing table alone."""
    call_command("createcachetable", database=using, verbosity=0)

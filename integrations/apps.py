from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = _("Integrations")
    # This app's part of an erasure (the university is told), collected by the privacy app.
    privacy_erase = "integrations.privacy.erase"

    def ready(self):
        from kernel.tasks import resender

        from . import tasks
        from .api import schema  # noqa: F401 - registers the OpenAPI auth extension
        from .services import events  # noqa: F401 - subscribes the webhook nudge to outbox writes

        resender(tasks.oneroster_jobs_resend)  # import jobs whose message was lost

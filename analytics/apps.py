from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from kernel.tasks import resender


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = _("Gradebook and analytics")

    def ready(self):
        # Importing the module subscribes its handlers to other apps' announcements (kernel.events).
        from . import handlers  # noqa: F401
        from .services import export_jobs_resend

        resender(export_jobs_resend)

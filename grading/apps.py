from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GradingConfig(AppConfig):
    name = "grading"
    verbose_name = _("Grading")
    # This app's part of a learner's export and erasure, collected by the privacy app.
    privacy_export = "grading.privacy.export"
    privacy_erase = "grading.privacy.erase"

    def ready(self):
        from . import handlers  # noqa: F401 - completion follows grading's own events, in batches

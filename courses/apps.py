from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoursesConfig(AppConfig):
    name = "courses"
    verbose_name = _("Courses")
    # This app's part of a learner's export, collected by the privacy app.
    privacy_export = "courses.privacy.export"

    def ready(self):
        from . import page_signals

        page_signals.connect()  # the public pages' cache follows every content change

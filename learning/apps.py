from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LearningConfig(AppConfig):
    name = "learning"
    verbose_name = _("Learning")
    # This app's part of a learner's export and erasure, collected by the privacy app.
    privacy_export = "learning.privacy.export"
    privacy_erase = "learning.privacy.erase"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from . import handlers  # noqa: F401 - subscribes to grading's and certificates' events

        user_logged_in.connect(_remember_language_at_login, dispatch_uid="learning.remember_language")


def _remember_language_at_login(sender, request, user, **kwargs):
    """A user who signs up or logs in without having chosen a language keeps the one they are
    reading now (the browser's), for their next browser and their e-mails."""
    from . import services

    language = getattr(request, "LANGUAGE_CODE", None)
    if language and not user.preferred_language:
        services.user_language_remember(user=user, language=language)

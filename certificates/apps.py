from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CertificatesConfig(AppConfig):
    name = "certificates"
    verbose_name = _("Certificates")
    # This app's part of a learner's export and erasure, collected by the privacy app.
    privacy_export = "certificates.privacy.export"
    privacy_erase = "certificates.privacy.erase"

    def ready(self):
        from . import handlers  # noqa: F401 - subscribes to course.completed

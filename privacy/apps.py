from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from kernel.tasks import resender


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = _("Privacy")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from .services.exports import exports_resend

        resender(exports_resend)

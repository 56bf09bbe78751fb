from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")
    # This app's part of a learner's export and erasure, collected by the privacy app.
    privacy_export = "accounts.privacy.export"
    privacy_erase = "accounts.privacy.erase"

    def ready(self):
        from . import signals  # noqa: F401 - connects the login/logout receivers
        from .admin import unregister_otp_admin

        unregister_otp_admin()

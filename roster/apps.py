from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RosterConfig(AppConfig):
    name = "roster"
    verbose_name = _("Roster")
    # This app's part of an erasure (the personal fields of the roster users), see privacy.hooks.
    privacy_erase = "roster.privacy.erase"

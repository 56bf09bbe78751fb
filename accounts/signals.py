"""Login and logout bookkeeping: the session list, and the privacy-notice check done once per
login (so pages cost no query for it)."""

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver

from . import services
from .gate import privacy_state_refresh
from .models import UserSession


@receiver(user_logged_in, dispatch_uid="accounts.session_record")
def _on_login(sender, request, user, **kwargs):
    if request is None or not hasattr(request, "session"):
        return
    services.session_record(request=request, user=user)
    privacy_state_refresh(request, user)


@receiver(user_logged_out, dispatch_uid="accounts.session_forget")
def _on_logout(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session") and request.session.session_key:
        UserSession.objects.filter(session_key=request.session.session_key).delete()

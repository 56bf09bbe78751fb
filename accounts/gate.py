"""The rules the security middleware and decorator apply: two-factor for privileged roles, and
re-consent when the privacy notice changes. Both read the session first, so ordinary pages cost
no query."""

from urllib.parse import urlencode

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse

from . import services

PRIVACY_SESSION_KEY = "kafaat_privacy"


def two_factor_redirect(request):
    """A redirect to the two-factor setup or verification page when this user must use two
    factor and this session is not verified yet; None otherwise."""
    user = request.user
    if not user.is_authenticated or not services.user_requires_2fa(user=user):
        return None
    if getattr(user, "is_verified", lambda: False)():
        return None
    target = "accounts:otp-verify" if services.user_has_totp(user=user) else "accounts:otp-setup"
    return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")


def privacy_state_refresh(request, user) -> dict:
    state = {"checked": settings.KAFAAT_PRIVACY_NOTICE_VERSION, "needs": services.consent_needed(user=user)}
    request.session[PRIVACY_SESSION_KEY] = state
    return state


def consent_redirect(request):
    user = request.user
    if not user.is_authenticated:
        return None
    state = request.session.get(PRIVACY_SESSION_KEY)
    if not state or state.get("checked") != settings.KAFAAT_PRIVACY_NOTICE_VERSION:
        state = privacy_state_refresh(request, user)
    if state.get("needs"):
        return redirect(f"{reverse('accounts:consent')}?{urlencode({'next': request.get_full_path()})}")
    return None

"""Log a test client in with a two-factor-verified session, as staff, instructors and university
admins need for pages under settings.KAFAAT_2FA_REQUIRED_PATHS (/admin/, /teach/, ...)."""

from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice


def login_with_2fa(client, user):
    """force_login + a confirmed TOTP device + the session marked verified. Returns the device."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device

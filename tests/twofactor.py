"""Log a test client in as staff, instructors and university admins are: with a two-factor-verified
session (what pages under settings.KAFAAT_2FA_REQUIRED_PATHS, /admin/, /teach/..., need), or with
the password alone (a session that has not passed two-factor: it must act as a learner's)."""

from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

PASSWORD = "correct horse battery"  # tests.factories.UserFactory's


def _device(user):
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    return device


def login_with_2fa(client, user):
    """force_login + a confirmed TOTP device + the session marked verified. Returns the device."""
    device = _device(user)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device


def login_with_password_only(client, user, password=PASSWORD):
    """Log in through the login form with the password alone, as someone who knows the password but
    not the authenticator would. The user has a confirmed TOTP device that this session never used."""
    _device(user)
    response = client.post(reverse("accounts:login"), {"username": user.email, "password": password})
    assert response.status_code == 302, response.content
    assert DEVICE_ID_SESSION_KEY not in client.session
    return response

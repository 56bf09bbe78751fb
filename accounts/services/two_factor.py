"""Two-factor: TOTP devices, recovery codes, and the login throttle a wrong code counts toward."""

from django.contrib.auth import user_login_failed
from django.db import transaction
from django.utils.translation import gettext as _

from kernel.errors import ApplicationError


def totp_device_start(*, user):
    """The user's TOTP device being set up (unconfirmed), created on first call."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    return device


def _throttle_failure(*, request, user) -> None:
    # A wrong code counts toward the same lock-out as a wrong password (django-axes listens).
    user_login_failed.send(sender=__name__, credentials={"username": user.email}, request=request)


def totp_device_confirm(*, request, user, token: str) -> list[str]:
    """Confirm the device with a first code, log the session in as verified, and issue ten new
    recovery codes (returned once, stored by django-otp's static device). A wrong code counts
    toward the login throttle."""
    import django_otp

    device = totp_device_start(user=user)
    if not device.verify_token((token or "").strip().replace(" ", "")):
        _throttle_failure(request=request, user=user)
        raise ApplicationError(_("This code is not right. Check your device's clock and try again."), field="token")
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        type(device).objects.filter(user=user).exclude(pk=device.pk).delete()
        codes = recovery_codes_regenerate(user=user)
    django_otp.login(request, device)
    return codes


@transaction.atomic
def recovery_codes_regenerate(*, user) -> list[str]:
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

    device, _created = StaticDevice.objects.get_or_create(user=user, name="recovery", defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(10)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


def otp_verify(*, request, user, token: str) -> bool:
    """Check a TOTP or recovery code for this session; a wrong one counts toward the throttle."""
    import django_otp
    from django_otp import match_token

    device = match_token(user, (token or "").strip().replace(" ", ""))
    if device is None:
        _throttle_failure(request=request, user=user)
        return False
    django_otp.login(request, device)
    return True


def user_has_totp(*, user) -> bool:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def throttle_unlock(*, email: str) -> int:
    """Staff: lift a login lock-out now. Returns the number of attempt records removed."""
    from axes.utils import reset

    return reset(username=email.strip().lower())

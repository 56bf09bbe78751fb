"""Consent to the privacy notice in force: recorded at sign-up and activation, asked again when
the notice changes (accounts.gate)."""

from django.conf import settings

from ..models import Consent


def consent_record(*, user, language: str) -> Consent:
    """Record that the user accepted the privacy notice in force."""
    version = settings.KAFAAT_PRIVACY_NOTICE_VERSION
    consent, _created = Consent.objects.get_or_create(
        user=user, notice_version=version, defaults={"language": language[:8]}
    )
    return consent


def consent_needed(*, user) -> bool:
    """True when the user consented to an older notice than the one in force. Users with no
    consent at all (created by staff or by a university sync) consent at activation."""
    latest = Consent.objects.filter(user=user).order_by("-notice_version").values_list("notice_version", flat=True)
    latest = latest.first()
    return latest is not None and latest < settings.KAFAAT_PRIVACY_NOTICE_VERSION

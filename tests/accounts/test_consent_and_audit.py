"""Consent again when the privacy notice changes, the notice in each language, and the audit of
an admin read (accounts: export and erasure are tests/privacy)."""

import pytest
from django.urls import reverse

from accounts import services
from accounts.models import AuditEntry, Consent
from tests.factories import UserFactory
from tests.twofactor import login_with_2fa


@pytest.mark.django_db
def test_a_new_notice_version_asks_for_consent_again_then_lets_the_user_go_on(client, settings, tmp_path):
    for language in ("fr", "ar", "en"):
        (tmp_path / "accounts" / "privacy" / "v2").mkdir(parents=True, exist_ok=True)
        (tmp_path / "accounts" / "privacy" / "v2" / f"{language}.html").write_text("<p>Notice v2</p>")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]
    user = UserFactory()
    services.consent_record(user=user, language="fr")
    client.force_login(user)
    assert client.get(reverse("courses:catalogue")).status_code == 200

    settings.KAFAAT_PRIVACY_NOTICE_VERSION = 2
    response = client.get(reverse("courses:catalogue"))
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:consent"))
    assert client.post(reverse("accounts:consent"), {}).status_code == 200  # not accepted: asked again
    response = client.post(reverse("accounts:consent"), {"accept_privacy": "on", "next": "/"})
    assert response.status_code == 302 and response.url == "/"
    assert Consent.objects.filter(user=user, notice_version=2).exists()
    assert client.get(reverse("courses:catalogue")).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["fr", "ar", "en"])
def test_the_privacy_notice_exists_in_each_language(client, language):
    response = client.get(reverse("accounts:privacy-notice"), HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    assert {"fr": "09-08", "ar": "09-08", "en": "Law 09-08"}[language].encode() in response.content


@pytest.mark.django_db
def test_staff_opening_a_profile_in_the_admin_is_audited(client):
    learner = UserFactory()
    login_with_2fa(client, UserFactory(is_staff=True, is_superuser=True, full_name="Staff Member"))
    assert client.get(reverse("admin:accounts_user_change", args=[learner.pk])).status_code == 200
    assert AuditEntry.objects.get(subject_user=learner).action == "profile.view"

"""LTI registrations: the tool's key set and its rotation, a platform registered by hand (field
errors, https only), and the university admin's LTI page."""

from datetime import timedelta

import jwt
import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from accounts import services as account_services
from integrations.models import LtiPlatform, LtiRegistrationInvite, LtiToolKey
from integrations.services import lti
from tests.factories import OrganizationFactory, UserFactory
from tests.twofactor import login_with_2fa

pytestmark = pytest.mark.django_db

FIELDS = {
    "name": "Moodle FMPR",
    "issuer": "https://moodle.fmpr.ma",
    "client_id": "abc123",
    "auth_login_url": "https://moodle.fmpr.ma/mod/lti/auth.php",
    "auth_token_url": "https://moodle.fmpr.ma/mod/lti/token.php",
    "key_set_url": "https://moodle.fmpr.ma/mod/lti/certs.php",
}


def test_the_key_set_publishes_the_signing_key_and_a_signature_verifies_against_it(client):
    resp = client.get(reverse("lti-jwks"))
    assert resp.status_code == 200
    keys = resp.json()["keys"]
    assert len(keys) == 1 and keys[0]["kty"] == "RSA" and keys[0]["alg"] == "RS256" and "d" not in keys[0]
    key = lti.tool_key_current()
    assert keys[0]["kid"] == key.kid
    token = jwt.encode({"x": 1}, key.private_pem, algorithm="RS256", headers={"kid": key.kid})
    public = jwt.PyJWK(keys[0]).key
    assert jwt.decode(token, public, algorithms=["RS256"]) == {"x": 1}


def test_a_new_key_is_published_a_day_before_it_signs_and_old_keys_leave_a_week_after(client):
    """Platforms cache our key set: a new key is in it a day before it signs, and a key older than
    the signing one leaves it only once that one has signed for a week."""
    ago = lambda **kw: timezone.now() - timedelta(**kw)  # noqa: E731
    jwks = lambda: {k["kid"] for k in client.get(reverse("lti-jwks")).json()["keys"]}  # noqa: E731
    first = lti.tool_key_current()  # the first key ever signs at once
    second, retired = lti.tool_key_rotate()
    assert retired == 0 and lti.tool_key_current() == first and jwks() == {first.kid, second.kid}
    LtiToolKey.objects.filter(pk=first.pk).update(created_at=ago(days=3))
    LtiToolKey.objects.filter(pk=second.pk).update(created_at=ago(hours=25))
    assert lti.tool_key_current() == second
    third, retired = lti.tool_key_rotate()
    assert retired == 0 and jwks() == {first.kid, second.kid, third.kid}
    LtiToolKey.objects.filter(pk=first.pk).update(created_at=ago(days=10))
    LtiToolKey.objects.filter(pk=second.pk).update(created_at=ago(days=9))  # signing for 8 days
    fourth, retired = lti.tool_key_rotate()
    assert retired == 1 and jwks() == {second.kid, third.kid, fourth.kid}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"issuer": ""}, "issuer"),
        ({"client_id": "  "}, "client_id"),
        ({"auth_login_url": "http://moodle.fmpr.ma/auth"}, "auth_login_url"),
        ({"key_set_url": "javascript:alert(1)"}, "key_set_url"),
        ({"auth_token_url": "https://x/" + "a" * 600}, "auth_token_url"),
    ],
)
@override_settings(LTI_ALLOW_HTTP=False)
def test_a_platform_with_a_bad_field_is_refused_naming_the_field(change, field):
    with pytest.raises(lti.PlatformInvalid) as caught:
        lti.platform_create(organization=OrganizationFactory(), deployment_ids=["1"], **(FIELDS | change))
    assert caught.value.field == field
    assert not LtiPlatform.objects.exists()


def test_a_platform_needs_a_deployment_and_an_issuer_client_pair_registers_once():
    org = OrganizationFactory()
    with pytest.raises(lti.PlatformInvalid) as caught:
        lti.platform_create(organization=org, deployment_ids=["", " "], **FIELDS)
    assert caught.value.field == "deployment_ids"
    platform = lti.platform_create(organization=org, deployment_ids=["1", "2", "1"], **FIELDS)
    assert sorted(platform.deployments.values_list("deployment_id", flat=True)) == ["1", "2"]
    assert platform.frame_origins == ["https://moodle.fmpr.ma"]
    with pytest.raises(lti.PlatformInvalid) as caught:
        lti.platform_create(organization=OrganizationFactory(), deployment_ids=["9"], **FIELDS)
    assert caught.value.field == "client_id"


@pytest.fixture
def admin_client(client):
    org = OrganizationFactory(name="Université Mohammed V")
    admin = UserFactory()
    account_services.membership_grant(user=admin, organization=org)
    login_with_2fa(client, admin)
    client.org = org
    return client


def _prepare(admin_client) -> LtiPlatform:
    resp = admin_client.post(reverse("organization-lti"), {"action": "prepare", "name": "Moodle FMPR"})
    assert resp.status_code == 302
    return LtiPlatform.objects.get()


LMS_VALUES = {k: v for k, v in FIELDS.items() if k != "name"}


@override_settings(LTI_ALLOW_HTTP=False)
def test_by_hand_kafaat_gives_its_urls_first_then_takes_the_lms_values(admin_client, client):
    """Moodle asks for the tool's URLs before it shows its own values: step one gives ours, for a
    platform that launches nothing yet; step two completes it."""
    url = reverse("organization-lti")
    platform = _prepare(admin_client)
    assert platform.organization == admin_client.org and not platform.is_active and platform.client_id == ""
    page = admin_client.get(url).content.decode()
    assert f"/lti/{platform.uuid}/login/" in page and f"/lti/{platform.uuid}/launch/" in page
    assert "/lti/jwks.json" in page
    assert client.get(reverse("lti-login", args=[platform.uuid])).status_code == 404  # not usable yet
    resp = admin_client.post(
        url, {"action": "complete", "platform": platform.pk, **LMS_VALUES, "deployment_ids": "7\n8"}
    )
    assert resp.status_code == 302
    platform.refresh_from_db()
    assert platform.is_active and platform.client_id == "abc123" and platform.name == "Moodle FMPR"
    assert not platform.match_by_email
    assert "7, 8" in admin_client.get(url).content.decode()
    assert client.get(reverse("lti-login", args=[platform.uuid])).status_code == 200


@override_settings(LTI_ALLOW_HTTP=False)
def test_the_admin_page_answers_a_bad_field_with_a_form_error_and_keeps_what_was_typed(admin_client):
    platform = _prepare(admin_client)
    resp = admin_client.post(
        reverse("organization-lti"),
        {
            "action": "complete",
            "platform": platform.pk,
            **LMS_VALUES,
            "auth_token_url": "http://x",
            "deployment_ids": "1",
        },
    )
    assert resp.status_code == 400
    page = resp.content.decode()
    assert 'id="e-auth_token_url"' in page and 'aria-invalid="true"' in page
    assert 'value="abc123"' in page  # what was typed stays
    platform.refresh_from_db()
    assert not platform.is_active and platform.client_id == "" and not platform.deployments.exists()


def test_a_dynamic_registration_link_is_made_once_per_click_and_is_unusable_when_wrong(admin_client, client):
    resp = admin_client.post(reverse("organization-lti"), {"action": "dynamic"})
    assert resp.status_code == 200
    link = resp.context["registration_url"]
    assert "/lti/register/" in link
    invite = LtiRegistrationInvite.objects.get()
    assert invite.organization == admin_client.org and invite.used_at is None
    # A link opened without an LMS's configuration, or a link that is not one: a clear page.
    token = link.rstrip("/").rsplit("/", 1)[-1]
    page = client.get(reverse("lti-register", args=[token]))
    assert page.status_code == 400 and b"configuration" in page.content
    page = client.get(reverse("lti-register", args=["nope"]))
    assert page.status_code == 400 and b"not valid any more" in page.content


def test_nobody_but_a_university_admin_reaches_the_lti_page(client):
    login_with_2fa(client, UserFactory())
    assert client.get(reverse("organization-lti")).status_code == 404

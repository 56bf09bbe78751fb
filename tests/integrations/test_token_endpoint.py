"""The token endpoint: throttled per client id and per address, the same hash work for an unknown
id as for a wrong secret, client secrets under a keyed fast hash (old Argon2 ones still work)."""

import base64
import math

import pytest
from django.contrib.auth.hashers import make_password
from django.test import Client
from oauth2_provider.models import Application

from integrations.api.throttles import TokenThrottle
from integrations.hashers import HmacSha256ClientSecretHasher
from integrations.services import clients


def token(client_id, secret, address="10.0.0.1"):
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return Client().post(
        "/o/token/",
        {"grant_type": "client_credentials"},
        headers={"authorization": f"Basic {basic}"},
        REMOTE_ADDR=address,
    )


@pytest.fixture
def creds(org):
    return clients.api_client_create(organization=org, name="SIS", scopes=["catalog:read"])


def assert_throttled(resp):
    assert resp.status_code == 429
    assert resp.json()["error"] == "slow_down" and "try again" in resp.json()["error_description"]
    assert 0 < int(resp["Retry-After"]) <= 3600  # hourly windows: a test rarely straddles two


def test_wrong_secrets_for_one_client_id_are_throttled_from_any_address(creds, org, settings):
    settings.INTEGRATIONS_TOKEN_FAILURE_RATE = "3/hour"
    for i in range(3):
        assert token(creds.client_id, "wrong", address=f"10.0.1.{i}").status_code == 401
    assert_throttled(token(creds.client_id, creds.client_secret, address="10.0.1.9"))  # even the right one
    other = clients.api_client_create(organization=org, name="LMS", scopes=["catalog:read"])
    assert token(other.client_id, other.client_secret, address="10.0.1.9").status_code == 200


def test_failures_from_one_address_are_throttled_whatever_the_client_id(creds, settings):
    settings.INTEGRATIONS_TOKEN_FAILURE_RATE = "3/hour"
    for i in range(3):
        assert token(f"unknown-{i}", "wrong", address="10.0.2.1").status_code == 401
    assert_throttled(token(creds.client_id, creds.client_secret, address="10.0.2.1"))
    assert token(creds.client_id, creds.client_secret, address="10.0.2.2").status_code == 200


def test_all_token_requests_from_one_address_are_throttled(creds, settings):
    settings.INTEGRATIONS_TOKEN_RATE = "2/hour"
    assert token(creds.client_id, creds.client_secret).status_code == 200
    assert token(creds.client_id, creds.client_secret).status_code == 200
    assert_throttled(token(creds.client_id, creds.client_secret))


def test_an_unknown_client_id_costs_the_same_hash_as_a_wrong_secret(creds):
    counts = []
    for client_id, secret in [
        (creds.client_id, "wrong"),
        ("no-such-client", "wrong"),
        (creds.client_id, creds.client_secret),
    ]:
        before = HmacSha256ClientSecretHasher.verifications
        resp = token(client_id, secret)
        counts.append(HmacSha256ClientSecretHasher.verifications - before)
        assert resp.status_code == (200 if secret == creds.client_secret else 401)
    assert counts == [1, 1, 1]
    assert token("no-such-client", "wrong").json()["error"] == token(creds.client_id, "wrong").json()["error"]


def test_secrets_are_long_random_and_stored_under_the_keyed_hash(creds):
    assert len(creds.client_secret) >= 64
    assert len(creds.client_secret) * math.log2(62) >= 256  # at least 32 random bytes' worth
    stored = Application.objects.get(client_id=creds.client_id).client_secret
    assert stored.startswith("hmac_sha256$") and creds.client_secret not in stored


def test_an_old_argon2_secret_still_works_and_is_rehashed_at_first_use(creds, settings):
    settings.PASSWORD_HASHERS = [*settings.PASSWORD_HASHERS, "django.contrib.auth.hashers.Argon2PasswordHasher"]
    app = Application.objects.get(client_id=creds.client_id)
    app.client_secret = make_password(creds.client_secret, hasher="argon2")
    app.save()
    assert Application.objects.get(pk=app.pk).client_secret.startswith("argon2$")

    assert token(creds.client_id, "wrong").status_code == 401
    assert Application.objects.get(pk=app.pk).client_secret.startswith("argon2$")  # not on a failure
    assert token(creds.client_id, creds.client_secret).status_code == 200
    assert Application.objects.get(pk=app.pk).client_secret.startswith("hmac_sha256$")
    assert token(creds.client_id, creds.client_secret).status_code == 200
    assert token(creds.client_id, "wrong").status_code == 401


def test_a_secret_hashed_under_a_rotated_secret_key_still_works(creds, settings):
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY = "a-new-secret-key-" + "y" * 50
    settings.SECRET_KEY_FALLBACKS = [old_key]
    assert token(creds.client_id, creds.client_secret).status_code == 200
    settings.SECRET_KEY_FALLBACKS = []
    assert token(creds.client_id, creds.client_secret, address="10.0.3.1").status_code == 401


def test_requests_in_flight_count_before_any_secret_is_checked(settings):
    """Sent at once, N+1 guesses cannot all pass while the counters are still under N: each is
    counted as a tentative failure before it is handled, and a success takes its count back."""
    settings.INTEGRATIONS_TOKEN_FAILURE_RATE = "3/hour"
    in_flight = [TokenThrottle(client_id="sis", address="10.0.3.1") for _ in range(4)]
    assert [t.admit() for t in in_flight[:3]] == [None, None, None]
    assert in_flight[3].admit() is not None  # the fourth, before any of the three has finished
    in_flight[0].succeeded()  # one of them had the right secret
    assert TokenThrottle(client_id="sis", address="10.0.3.1").admit() is None

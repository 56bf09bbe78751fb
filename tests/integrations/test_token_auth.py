"""Bearer tokens that no longer work say why (expired or invalid), in the API's error format."""

from datetime import timedelta

from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken

from integrations.services import clients

from .conftest import Api


def test_an_expired_token_is_refused_as_expired_in_the_api_error_format(org):
    api = Api(org)
    token = AccessToken.objects.get(application=api.client_model.application)
    token.expires = timezone.now() - timedelta(seconds=1)
    token.save()

    resp = api.get("courses")

    assert resp.status_code == 401
    error = resp.json()["error"]
    assert error["code"] == "token_expired" and error["status"] == 401
    assert "expired" in error["message"] and "not provided" not in error["message"]
    challenge = resp["WWW-Authenticate"]
    assert challenge.startswith("Bearer ") and 'error="invalid_token"' in challenge
    assert AccessToken.objects.filter(pk=token.pk).exists()  # nothing else changed


def test_an_unknown_token_is_refused_as_invalid(org):
    resp = Client(headers={"authorization": "Bearer not-a-token"}).get("/api/v1/courses")
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == "invalid_token"
    assert 'error="invalid_token"' in resp["WWW-Authenticate"]


def test_a_revoked_clients_token_is_refused_as_invalid(org):
    api = Api(org)
    token = AccessToken.objects.get(application=api.client_model.application)
    # Revocation deletes the tokens; a token row that survived (a race) still gets no answer.
    clients.api_client_revoke(client=api.client_model)
    assert not AccessToken.objects.filter(pk=token.pk).exists()
    resp = api.get("courses")
    assert resp.status_code == 401 and resp.json()["error"]["code"] == "invalid_token"


def test_no_token_still_says_credentials_were_not_provided(org):
    resp = Client().get("/api/v1/courses")
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == "not_authenticated"
    assert resp["WWW-Authenticate"].startswith("Bearer ")

import base64

import pytest
from django.core.cache import cache
from django.test import Client

from integrations.models import Scope
from integrations.services.clients import api_client_create
from tests.factories import OrganizationFactory

ALL_SCOPES = list(Scope.values)


def get_token(client_id: str, secret: str, scope: str | None = None):
    """The OAuth 2 client-credentials grant, as a university's system does it."""
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    data = {"grant_type": "client_credentials"}
    if scope:
        data["scope"] = scope
    return Client().post("/o/token/", data, headers={"authorization": f"Basic {basic}"})


class Api:
    """A university's API client over HTTP (Django's test client), with a real bearer token."""

    def __init__(self, organization, scopes=None):
        self.organization = organization
        self.creds = api_client_create(organization=organization, name="SIS", scopes=scopes or ALL_SCOPES)
        self.client_model = self.creds.client
        resp = get_token(self.creds.client_id, self.creds.client_secret)
        assert resp.status_code == 200, resp.content
        self.token = resp.json()["access_token"]
        self.http = Client(headers={"authorization": f"Bearer {self.token}"})

    def get(self, path, params=None, **kw):
        return self.http.get(f"/api/v1/{path}", params or {}, **kw)

    def post(self, path, data=None, **kw):
        return self.http.post(
            f"/api/v1/{path}", data if data is not None else {}, content_type="application/json", **kw
        )

    def delete(self, path, **kw):
        return self.http.delete(f"/api/v1/{path}", **kw)


@pytest.fixture(autouse=True)
def _local_receivers(settings):
    """Our test receivers listen on 127.0.0.1, which production refuses."""
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = True


@pytest.fixture(autouse=True)
def _clear_throttle_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def org(db):
    return OrganizationFactory(slug="univ-a", name="Université A")


@pytest.fixture
def other_org(db):
    return OrganizationFactory(slug="univ-b", name="Université B")


@pytest.fixture
def api(org):
    return Api(org)


@pytest.fixture
def other_api(other_org):
    return Api(other_org)


def row(ext, course, status="active", email=None, given="Amina", family="Alaoui"):
    return {
        "external_id": ext,
        "email": email or f"{ext}@univ.example.ma",
        "given_name": given,
        "family_name": family,
        "course_code": course,
        "status": status,
    }

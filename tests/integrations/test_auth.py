import pytest
from django.core.management import call_command
from oauth2_provider.models import Application

from integrations.models import ApiClient
from integrations.services import clients
from tests.factories import CourseFactory

from .conftest import Api, get_token


def test_create_api_client_prints_the_secret_once_and_stores_it_hashed(org, capsys):
    call_command("create_api_client", "--org", org.slug, "--scopes", "catalog:read,grades:read", "enrollments:read")
    out = capsys.readouterr().out
    client_id = out.split("client_id: ")[1].split()[0]
    secret = out.split("client_secret: ")[1].split()[0]
    app = Application.objects.get(client_id=client_id)
    assert app.client_secret != secret and secret not in app.client_secret  # hashed
    assert app.api_client.organization == org
    assert app.api_client.scope_list == ["catalog:read", "enrollments:read", "grades:read"]

    token = get_token(client_id, secret)
    assert token.status_code == 200
    assert set(token.json()["scope"].split()) == {"catalog:read", "enrollments:read", "grades:read"}


def test_create_api_client_refuses_unknown_scopes_and_orgs(org):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="Unknown scopes"):
        call_command("create_api_client", "--org", org.slug, "--scopes", "admin")
    with pytest.raises(CommandError, match="No organization"):
        call_command("create_api_client", "--org", "nope", "--scopes", "catalog:read")


def test_token_needs_the_right_secret_and_only_grants_the_clients_scopes(org):
    creds = clients.api_client_create(organization=org, name="SIS", scopes=["catalog:read"])
    assert get_token(creds.client_id, "wrong").status_code == 401
    refused = get_token(creds.client_id, creds.client_secret, scope="catalog:read enrollments:write")
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_scope"
    assert get_token(creds.client_id, creds.client_secret, scope="catalog:read").status_code == 200


def test_a_request_without_a_token_or_scope_is_refused_in_the_api_error_format(org):
    CourseFactory()
    api = Api(org, scopes=["catalog:read"])
    anonymous = api.http.get("/api/v1/courses", headers={"authorization": ""})
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "not_authenticated"
    assert "Bearer" in anonymous.headers["WWW-Authenticate"]
    forbidden = api.post("enrollments/sync", {"rows": []})
    assert forbidden.status_code == 403
    assert forbidden.json()["error"]["code"] == "permission_denied"
    assert api.get("courses").status_code == 200


def test_rotating_the_secret_revokes_old_tokens_and_the_old_secret(org):
    api = Api(org)
    old_secret = api.creds.client_secret
    new = clients.api_client_rotate_secret(client=api.client_model)
    assert api.get("courses").status_code == 401
    assert get_token(api.creds.client_id, old_secret).status_code == 401
    assert get_token(new.client_id, new.client_secret).status_code == 200


def test_a_revoked_client_can_do_nothing(org):
    api = Api(org)
    clients.api_client_revoke(client=api.client_model)
    assert api.get("courses").status_code == 401
    assert get_token(api.creds.client_id, api.creds.client_secret).status_code == 401
    assert ApiClient.objects.get().is_active is False


def test_staff_rotate_and_revoke_from_the_admin(org, client, admin_user):
    from tests.twofactor import login_with_2fa

    login_with_2fa(client, admin_user)
    admin_client = client
    api = Api(org)
    url = "/admin/integrations/apiclient/"
    resp = admin_client.post(url, {"action": "rotate_secret", "_selected_action": [api.client_model.pk]}, follow=True)
    assert "New secret" in resp.content.decode()
    assert api.get("courses").status_code == 401
    admin_client.post(url, {"action": "revoke", "_selected_action": [api.client_model.pk]})
    assert ApiClient.objects.get().revoked_at is not None

"""API clients: create, rotate the secret, revoke. The secret is shown once and stored hashed
by django-oauth-toolkit (Application.hash_client_secret)."""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import AccessToken, Application, RefreshToken

from accounts.models import Organization
from kernel.errors import ApplicationError

from ..models import ApiClient, Scope


class ApiClientRefused(ApplicationError):
    pass


@dataclass
class Credentials:
    client: ApiClient
    client_id: str
    client_secret: str


def _check_scopes(scopes: list[str]) -> list[str]:
    unknown = sorted(set(scopes) - set(Scope.values))
    if unknown:
        raise ApiClientRefused(
            _("Unknown scopes: %(scopes)s. Known: %(known)s.")
            % {"scopes": ", ".join(unknown), "known": ", ".join(Scope.values)},
            field="scopes",
        )
    if not scopes:
        raise ApiClientRefused(_("Give at least one scope."), field="scopes")
    return sorted(set(scopes), key=Scope.values.index)


def api_client_create(*, organization: Organization, name: str, scopes: list[str]) -> Credentials:
    """Create an OAuth 2 client-credentials application for a university. Returns the secret
    in clear, the only time it exists outside a hash."""
    scopes = _check_scopes(scopes)
    secret = generate_client_secret()
    with transaction.atomic():
        app = Application.objects.create(
            name=f"{organization.slug}: {name}"[:255],
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
            client_secret=secret,
            hash_client_secret=True,
        )
        client = ApiClient.objects.create(
            organization=organization, application=app, name=name, scopes=" ".join(scopes)
        )
    return Credentials(client=client, client_id=app.client_id, client_secret=secret)


def _revoke_tokens(app: Application) -> None:
    RefreshToken.objects.filter(application=app).delete()
    AccessToken.objects.filter(application=app).delete()


def api_client_rotate_secret(*, client: ApiClient) -> Credentials:
    """Give the client a new secret (returned once) and revoke every token issued so far."""
    secret = generate_client_secret()
    with transaction.atomic():
        app = Application.objects.select_for_update().get(pk=client.application_id)
        app.client_secret = secret
        app.save()
        _revoke_tokens(app)
        client.secret_rotated_at = timezone.now()
        client.save(update_fields=["secret_rotated_at"])
    return Credentials(client=client, client_id=app.client_id, client_secret=secret)


def api_client_revoke(*, client: ApiClient) -> None:
    """Switch the client off for good: tokens deleted, secret replaced by one nobody knows."""
    with transaction.atomic():
        app = Application.objects.select_for_update().get(pk=client.application_id)
        app.client_secret = generate_client_secret()
        app.save()
        _revoke_tokens(app)
        client.is_active = False
        client.revoked_at = timezone.now()
        client.save(update_fields=["is_active", "revoked_at"])

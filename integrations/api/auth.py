"""Who is calling the API, and what it may do: the one place the API decides authorization.

A token comes from the OAuth 2 client-credentials grant. Its application belongs to exactly one
ApiClient, hence one organization; every selector and service is then scoped to that
organization, so another university's records simply do not exist for the caller (404)."""

from oauth2_provider.contrib.rest_framework import OAuth2Authentication, TokenHasScope
from oauth2_provider.scopes import SettingsScopes

from ..models import ApiClient


class ApiClientScopes(SettingsScopes):
    """A client may only ask for (and by default gets) the scopes granted to its ApiClient."""

    def _client_scopes(self, application) -> list[str]:
        client = getattr(application, "api_client", None) if application is not None else None
        if client is None or not client.is_active:
            return []
        return [s for s in client.scope_list if s in self.get_all_scopes()]

    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        if application is None:
            return super().get_available_scopes(application, request, *args, **kwargs)
        return self._client_scopes(application)

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        if application is None:
            return []
        return self._client_scopes(application)


class ApiClientAuthentication(OAuth2Authentication):
    """Bearer tokens of active API clients. Sets request.auth to the AccessToken and
    request.api_client to its ApiClient."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        _user, token = result
        client = (
            ApiClient.objects.select_related("organization").filter(application_id=token.application_id).first()
            if token.application_id
            else None
        )
        if client is None or not client.is_active:
            return None
        request.api_client = client
        return None, token


class ClientHasScope(TokenHasScope):
    """The token is a live API client's token and carries the view's `required_scopes`."""

    def has_permission(self, request, view):
        if getattr(request, "api_client", None) is None:
            return False
        return super().has_permission(request, view)


def api_client_of(request) -> ApiClient:
    return request.api_client

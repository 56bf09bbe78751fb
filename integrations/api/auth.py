"""Who is calling the API, and what it may do: the one place the API decides authorization.

A token comes from the OAuth 2 client-credentials grant. Its application belongs to exactly one
ApiClient, hence one organization; every selector and service is then scoped to that
organization, so another university's records simply do not exist for the caller (404)."""

import base64
import binascii
import functools
import hashlib
import secrets
from collections import OrderedDict
from urllib.parse import unquote_plus

from django.contrib.auth.hashers import check_password, get_hasher, identify_hasher, make_password
from django.utils import timezone
from django.utils.translation import gettext as _
from oauth2_provider.contrib.rest_framework import OAuth2Authentication, TokenHasScope
from oauth2_provider.models import AccessToken
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.scopes import SettingsScopes
from oauth2_provider.settings import oauth2_settings
from rest_framework import exceptions

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


class InvalidToken(exceptions.AuthenticationFailed):
    """A bearer token was sent but does not work: 401 with code `token_expired` or
    `invalid_token`, and `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750)."""

    def __init__(self, *, expired: bool):
        self.api_code = "token_expired" if expired else "invalid_token"
        message = (
            _("The access token has expired: ask for a new one.") if expired else _("The access token is invalid.")
        )
        super().__init__(message, code=self.api_code)


def _bearer_token(request) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _sep, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


def _is_expired(token: str) -> bool:
    # Tokens are stored by their SHA-256 checksum (RFC 9700 token storage).
    checksum = hashlib.sha256(token.encode()).hexdigest()
    expires = AccessToken.objects.filter(token_checksum=checksum).values_list("expires", flat=True).first()
    return expires is not None and expires <= timezone.now()


class ApiClientAuthentication(OAuth2Authentication):
    """Bearer tokens of active API clients. Sets request.auth to the AccessToken and
    request.api_client to its ApiClient. A request without a token is anonymous (refused later
    as "not authenticated"); one with a token that does not work is refused here, saying why."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            token = _bearer_token(request)
            if token is None:
                return None
            expired = _is_expired(token)
            request.oauth2_error = OrderedDict(
                [
                    ("error", "invalid_token"),
                    (
                        "error_description",
                        "The access token has expired." if expired else "The access token is invalid.",
                    ),
                ]
            )
            raise InvalidToken(expired=expired)
        _user, token = result
        client = (
            ApiClient.objects.select_related("organization").filter(application_id=token.application_id).first()
            if token.application_id
            else None
        )
        if client is None or not client.is_active:
            request.oauth2_error = OrderedDict([("error", "invalid_token")])
            raise InvalidToken(expired=False)
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


class ApiClientOAuth2Validator(OAuth2Validator):
    """The token endpoint's client check, with two changes to django-oauth-toolkit's:
    - an unknown client id costs the same hash as a known one with a wrong secret (a dummy
      verification), so the answer's timing does not tell which ids exist, and each request is
      checked by one method (HTTP Basic, else the body), one hash;
    - a secret still hashed the old way (Argon2) is rehashed with CLIENT_SECRET_HASHER at its
      first successful use."""

    def authenticate_client(self, request, *args, **kwargs):
        # One method per request (RFC 6749 2.3): the toolkit tries the body after a failed HTTP
        # Basic check, which hashed a known id's wrong secret twice (once with an empty secret).
        if self._extract_basic_auth(request):
            authenticated = self._authenticate_basic_auth(request)
        else:
            authenticated = self._authenticate_request_body(request)
        secret = _provided_secret(request)
        if not authenticated:
            if request.client is None and secret is not None:
                check_password(secret, _dummy_hash())
            return authenticated
        app = request.client
        if secret is not None and app.hash_client_secret:
            try:
                algorithm = identify_hasher(app.client_secret).algorithm
            except ValueError:
                algorithm = None
            if algorithm != get_hasher(oauth2_settings.CLIENT_SECRET_HASHER).algorithm:
                app.client_secret = secret  # hashed by the field on save
                app.save(update_fields=["client_secret"])
        return authenticated


def _provided_secret(request) -> str | None:
    """The secret the client sent: HTTP Basic (preferred) or the request body."""
    auth = request.headers.get("HTTP_AUTHORIZATION", "") or ""
    scheme, _sep, value = auth.partition(" ")
    if scheme == "Basic" and value:
        try:
            decoded = base64.b64decode(value).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        _client_id, sep, secret = decoded.partition(":")
        return unquote_plus(secret) if sep else None
    return getattr(request, "client_secret", None) or None


@functools.cache
def _dummy_hash() -> str:
    return make_password(secrets.token_urlsafe(32), hasher=oauth2_settings.CLIENT_SECRET_HASHER)

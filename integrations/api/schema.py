"""drf-spectacular hooks: the committed schema covers the university API only."""


def only_api_v1(endpoints):
    return [e for e in endpoints if e[0].startswith("/api/v1/") and "/schema" not in e[0] and "/docs" not in e[0]]


# Imported by integrations.apps.ready so drf-spectacular knows our authentication class.
from drf_spectacular.contrib.django_oauth_toolkit import DjangoOAuthToolkitScheme  # noqa: E402


class ApiClientScheme(DjangoOAuthToolkitScheme):
    target_class = "integrations.api.auth.ApiClientAuthentication"
    name = "oauth2"

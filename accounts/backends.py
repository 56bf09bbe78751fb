"""Login throttling (django-axes) wired to log-in by e-mail."""

from axes.backends import AxesStandaloneBackend


class ThrottleBackend(AxesStandaloneBackend):
    """Refuses a locked-out e-mail address before any password is checked. Calls without a
    request (management commands, the test client's login()) are not throttled: every web login
    goes through a form that passes the request."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def throttle_username(request, credentials) -> str | None:
    """The throttle counts per e-mail address, whatever its case."""
    if credentials and credentials.get("username"):
        value = credentials["username"]
    else:
        value = getattr(request, "POST", {}).get("username")
    return value.strip().lower() if value else None

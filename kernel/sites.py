"""The site's public address, for links that leave the request (e-mails, signed credentials)."""

from django.conf import settings


def absolute_url(path: str) -> str:
    """`path` (from reverse()) as a full URL on SITE_URL."""
    return settings.SITE_URL.rstrip("/") + path

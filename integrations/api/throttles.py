"""Per-client throttling. Rates come from settings at request time (so an operator's change,
or a test's override, applies without a restart). A refused request gets 429 and Retry-After."""

from django.conf import settings
from django.core.cache import caches
from rest_framework.throttling import SimpleRateThrottle


class ClientRateThrottle(SimpleRateThrottle):
    scope = "client"
    setting = "INTEGRATIONS_API_RATE"

    def get_rate(self):
        return getattr(settings, self.setting)

    @property
    def cache(self):
        # Counters must be shared by every web process for the rate to hold across them: point
        # INTEGRATIONS_THROTTLE_CACHE at a shared cache (Redis, database) in production.
        return caches[settings.INTEGRATIONS_THROTTLE_CACHE]

    def get_cache_key(self, request, view):
        client = getattr(request, "api_client", None)
        if client is None:
            return None  # unauthenticated requests are refused before any work
        return f"throttle_{self.scope}_{client.pk}"


class ClientWriteThrottle(ClientRateThrottle):
    scope = "client_write"
    setting = "INTEGRATIONS_API_WRITE_RATE"

    def allow_request(self, request, view):
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return True
        return super().allow_request(request, view)

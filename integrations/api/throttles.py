"""Per-client throttling. Rates come from settings at request time (so an operator's change,
or a test's override, applies without a restart). A refused request gets 429 and Retry-After."""

import hashlib
import time

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


class TokenThrottle:
    """The token endpoint's limits (it is no DRF view): every request per remote address, and
    failed client authentications per client id and per address, each in a fixed window counted
    in the shared throttle cache. `refusal()` says how many seconds to wait, or None."""

    def __init__(self, *, client_id: str | None, address: str):
        self.keys = {"address": [f"token_req_{address}"], "failure": [f"token_fail_addr_{address}"]}
        if client_id:
            self.keys["failure"].append(f"token_fail_id_{hashlib.sha256(client_id.encode()).hexdigest()[:32]}")

    @staticmethod
    def _rate(setting: str) -> tuple[int, int]:
        count, _slash, period = getattr(settings, setting).partition("/")
        return int(count), {"s": 1, "m": 60, "h": 3600, "d": 86400}[period[0]]

    def _window(self, key: str, duration: int) -> tuple[str, int]:
        now = int(time.time())
        start = now - now % duration
        return f"{key}_{start}", start + duration - now

    def refusal(self) -> int | None:
        cache = caches[settings.INTEGRATIONS_THROTTLE_CACHE]
        waits = []
        for kind, setting in (("failure", "INTEGRATIONS_TOKEN_FAILURE_RATE"), ("address", "INTEGRATIONS_TOKEN_RATE")):
            limit, duration = self._rate(setting)
            for key in self.keys[kind]:
                window, wait = self._window(key, duration)
                if (cache.get(window) or 0) >= limit:
                    waits.append(wait)
        return max(waits) if waits else None

    def count(self, *, failed: bool) -> None:
        cache = caches[settings.INTEGRATIONS_THROTTLE_CACHE]
        kinds = [("address", "INTEGRATIONS_TOKEN_RATE")]
        if failed:
            kinds.append(("failure", "INTEGRATIONS_TOKEN_FAILURE_RATE"))
        for kind, setting in kinds:
            _limit, duration = self._rate(setting)
            for key in self.keys[kind]:
                window, wait = self._window(key, duration)
                cache.add(window, 0, timeout=wait + 1)
                try:
                    cache.incr(window)
                except ValueError:  # expired between add and incr
                    cache.add(window, 1, timeout=wait + 1)

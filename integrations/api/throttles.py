"""Per-client throttling. Rates come from settings at request time (so an operator's change,
or a test's override, applies without a restart). A refused request gets 429 and Retry-After."""

import hashlib
import time

from django.conf import settings
from django.core.cache import caches
from rest_framework.throttling import SimpleRateThrottle


def window_hit(*, cache, key: str, duration: int) -> tuple[int, int]:
    """Count one hit in the fixed window of `duration` seconds holding now. Returns the hits in
    it so far (this one included) and the seconds until it ends. Atomic in a shared cache
    (add, then incr: Redis's INCR, or config.cache.DatabaseCache's locked row)."""
    now = int(time.time())
    start = now - now % duration
    window = f"{key}_{start}"
    wait = start + duration - now
    cache.add(window, 0, timeout=wait + 1)
    try:
        return cache.incr(window), wait
    except ValueError:  # expired between add and incr
        cache.add(window, 1, timeout=wait + 1)
        return 1, wait


class ClientRateThrottle(SimpleRateThrottle):
    """N requests per client per period, in fixed windows counted in the shared cache, so the
    limit holds across every web process (DRF's own throttle keeps a list of timestamps, read
    then written back: two processes at once both fit under the limit)."""

    scope = "client"
    setting = "INTEGRATIONS_API_RATE"

    def get_rate(self):
        return getattr(settings, self.setting)

    @property
    def cache(self):
        return caches[settings.INTEGRATIONS_THROTTLE_CACHE]

    def get_cache_key(self, request, view):
        client = getattr(request, "api_client", None)
        if client is None:
            return None  # unauthenticated requests are refused before any work
        return f"throttle_{self.scope}_{client.pk}"

    def allow_request(self, request, view):
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        hits, self._wait = window_hit(cache=self.cache, key=key, duration=self.duration)
        return hits <= self.num_requests

    def wait(self):
        return self._wait


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
                window_hit(cache=cache, key=key, duration=duration)

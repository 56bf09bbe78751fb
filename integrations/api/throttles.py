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
    in the shared throttle cache. `admit()` says how many seconds to wait, or None."""

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

    def admit(self) -> int | None:
        """Count this request before it is handled, atomically: one hit per address, and one
        *tentative* failure per client id and per address (taken back by `succeeded()`). So N
        requests sent at once cannot all pass while the counters are still under the limit.
        Returns the seconds to wait when a limit is passed (nothing stays counted as a failure
        then: a refused request tried no secret), else None."""
        cache = caches[settings.INTEGRATIONS_THROTTLE_CACHE]
        waits, self._tentative = [], []
        for kind, setting in (("address", "INTEGRATIONS_TOKEN_RATE"), ("failure", "INTEGRATIONS_TOKEN_FAILURE_RATE")):
            limit, duration = self._rate(setting)
            for key in self.keys[kind]:
                hits, wait = window_hit(cache=cache, key=key, duration=duration)
                if kind == "failure":
                    self._tentative.append(self._window(key, duration)[0])
                if hits > limit:
                    waits.append(wait)
        if waits:
            self.succeeded()
            return max(waits)
        return None

    def succeeded(self) -> None:
        """The client authenticated: its tentative failures are taken back."""
        cache = caches[settings.INTEGRATIONS_THROTTLE_CACHE]
        for window in getattr(self, "_tentative", []):
            try:
                cache.decr(window)
            except ValueError:  # the window ended meanwhile
                pass
        self._tentative = []

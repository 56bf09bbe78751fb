"""Whole-page cache for anonymous visitors (issue 20): the catalogue and a course page show every
visitor who is not signed in the same HTML for minutes at a time, so it is rendered once per
page, language and content version, and kept in the shared cache (settings.CACHES["default"]:
Redis or the database cache, seen by every web process).

What keeps one visitor's page from another:
- Only anonymous GETs without a query string, with no message waiting, are served from or
  stored in the cache. A signed-in user's page (enrollment, Continue/Start, the user menu) is
  always rendered for them.
- The one per-request value an anonymous page holds, the CSRF token of its forms (the language
  switch), is stored as a placeholder and replaced on every hit by this visitor's own token
  (get_token: the CSRF middleware then sets their cookie and `Vary: Cookie`, as on a rendered
  page). A page whose token cannot be found with certainty is not stored.
- A page that used the request's CSP nonce is not stored (the nonce must be new on each
  response). Headers (CSP, Vary, cookies, X-Frame-Options) are the middleware's, per request: the
  cache holds the view's body and Content-Type only.

Invalidation: the key carries the page, the active language and a build stamp (templates,
compiled translations, the static manifest: a deploy changes it); the stored entry carries the
content version it was rendered under, a token every process reads with the page in one round
trip. `content_changed()` (courses' signals, on commit) replaces the token: every page is rendered
again on its next visit. Entries also expire after KAFAAT_PAGE_CACHE_SECONDS.

Each process also keeps the pages it served in its own memory (`_local`, a few hundred at most),
with the content version they were rendered under. A hit then reads only the version from the
shared cache (one small row: the catalogue's 30 KB body is neither fetched nor unpickled); a
page this process does not hold is read with the version in the same round trip.

The version a process read is trusted for KAFAAT_PAGE_VERSION_SECONDS (1 s; 0: read on every
request): a hit within it costs no round trip at all (with the database cache, that round trip
was a third of a hit's cost). So a change shows at once in the process that committed it
(invalidate() forgets the version it read), and within that second in every other process.
"""

import functools
import hashlib
import logging
import re
import threading
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.utils import translation

logger = logging.getLogger(__name__)

VERSION_KEY = "kafaat:pages:content-version"
# PostgreSQL text cannot hold NUL, so no course title or summary can forge the placeholder.
CSRF_PLACEHOLDER = b"\x00kafaat-csrf\x00"
_CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="([A-Za-z0-9]{64})"')
# Whether this thread stored or served a page since it last bumped the version (content_changed).
_thread = threading.local()
# This process's copies of the entries it served: page key -> entry (module docstring). A copy is
# used until the shared entry's own expiry (its "expires", a wall-clock time), never longer.
LOCAL_ENTRIES = 256
_local: dict[str, dict] = {}
_local_lock = threading.Lock()


def _keep_local(key: str, entry: dict) -> None:
    with _local_lock:
        _local.pop(key, None)
        while len(_local) >= LOCAL_ENTRIES:
            _local.pop(next(iter(_local)))  # the oldest stored
        _local[key] = entry


# The content version this process last read from the shared cache, and when it asked for it
# (time.monotonic()); None after invalidate().
_seen: tuple[str, float] | None = None


def _seen_version(now: float) -> str | None:
    """The version read within the KAFAAT_PAGE_VERSION_SECONDS before `now`, if any."""
    seen = _seen
    if seen is not None and now - seen[1] < settings.KAFAAT_PAGE_VERSION_SECONDS:
        return seen[0]
    return None


def _saw(version: str, asked_at: float) -> str:
    global _seen
    _seen = (version, asked_at)
    return version


def _local_entry(key: str) -> dict | None:
    entry = _local.get(key)
    if entry is None or entry.get("expires", 0) <= time.time():
        return None
    return entry


def _read(key: str) -> tuple[dict | None, str]:
    """The entry for `key` (this process's copy if current, else the shared cache's) and the
    current content version: no round trip to the shared cache for a page this process holds
    while the version it read is trusted (_seen_version), else one, two when this process's
    copy is stale and another process may have stored a newer one."""
    local = _local_entry(key)
    asked_at = time.monotonic()
    version = _seen_version(asked_at)
    if local is not None:
        if version is None:
            version = _saw(cache.get(VERSION_KEY) or content_version(), asked_at)
        if local["version"] == version:
            return local, version
        entry = cache.get(key)
    elif version is not None:
        entry = cache.get(key)
    else:
        found = cache.get_many([key, VERSION_KEY])
        version = _saw(found.get(VERSION_KEY) or content_version(), asked_at)
        entry = found.get(key)
    if entry is not None and entry["version"] == version:
        _keep_local(key, entry)
    return entry, version


def _seconds() -> int:
    return settings.KAFAAT_PAGE_CACHE_SECONDS


@functools.cache
def build_stamp() -> str:
    """Changes when what renders the pages changes on disk: templates, compiled translations and
    the static files' manifest (hashed asset names). Computed once per process."""
    digest = hashlib.sha256()
    roots = [Path(d) for t in settings.TEMPLATES for d in t.get("DIRS", [])]
    files = [f for root in roots for f in root.rglob("*.html")]
    files += [f for root in map(Path, settings.LOCALE_PATHS) for f in root.rglob("*.mo")]
    files.append(Path(settings.STATIC_ROOT) / "staticfiles.json")
    for f in sorted(files):
        try:
            stat = f.stat()
        except OSError:
            continue
        digest.update(f"{f}:{stat.st_mtime_ns}:{stat.st_size}\n".encode())
    return digest.hexdigest()[:16]


def content_version() -> str:
    """The current content version (made if the cache has none: a fresh or flushed cache)."""
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, uuid.uuid4().hex, timeout=None)
        version = cache.get(VERSION_KEY)
    return version


def invalidate() -> None:
    """Every cached page is stale from now on: in this process at once, in every other within
    KAFAAT_PAGE_VERSION_SECONDS. Prefer content_changed()."""
    global _seen
    _thread.cached_a_page = False
    _seen = None
    with _local_lock:
        _local.clear()  # stale from now on: free them
    try:
        cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)
    except Exception:  # a cache outage must not fail a write that is already committed
        logger.exception("page cache: the content version could not be bumped; pages stay stale "
                         "until they expire (KAFAAT_PAGE_CACHE_SECONDS)")  # fmt: skip


def content_changed() -> None:
    """What public pages show has changed: every cached page is stale once the current
    transaction commits (at once outside one); once per transaction, however many rows changed.

    A thread that has cached a page since its last bump also bumps at once: a page it caches
    later in this same transaction (which sees the change before the commit) must not be served
    under the version it had before. Other processes only see the change at the commit, and the
    commit's bump makes stale whatever they cached in between."""
    if getattr(_thread, "cached_a_page", False):
        invalidate()
    connection = transaction.get_connection()
    if connection.in_atomic_block and any(item[1] is invalidate for item in connection.run_on_commit):
        return
    transaction.on_commit(invalidate, robust=True)


def page_key_for(path: str, language: str) -> str:
    raw = f"{path}|{language}|anonymous|{build_stamp()}"
    return "kafaat:pages:" + hashlib.sha256(raw.encode()).hexdigest()


def page_key(request) -> str:
    return page_key_for(request.path, translation.get_language())


def _cacheable_request(request) -> bool:
    return (
        _seconds() > 0
        and request.method == "GET"
        and not request.META.get("QUERY_STRING")
        and not request.user.is_authenticated
        and len(get_messages(request)) == 0  # loads waiting messages without consuming them
    )


def _storable_body(request, response) -> bytes | None:
    """The response's body with its CSRF token replaced by the placeholder, or None if it must
    not be stored."""
    if (
        response.status_code != 200
        or response.streaming
        or response.cookies
        or not response.get("Content-Type", "").startswith("text/html")
        or response.has_header("Cache-Control")
        or hasattr(response, "_csp_config")
        or hasattr(response, "_csp_ro_config")
        or getattr(request, "_csp_nonce", None)  # the nonce was used: it is this response's own
        or len(get_messages(request)) != 0
    ):
        return None
    body = response.content
    if CSRF_PLACEHOLDER in body:
        return None
    tokens = set(_CSRF_INPUT.findall(body))
    if len(tokens) > 1 or body.count(b"csrfmiddlewaretoken") != len(_CSRF_INPUT.findall(body)):
        return None
    if tokens:
        body = body.replace(tokens.pop(), CSRF_PLACEHOLDER)
    return body


def cache_anonymous_page(view):
    """Serve `view`'s page to anonymous visitors from the shared cache (module docstring)."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not _cacheable_request(request):
            return view(request, *args, **kwargs)
        key = page_key(request)
        try:
            entry, version = _read(key)
        except Exception:  # the cache is down: the page is rendered, as without a cache
            logger.warning("page cache: the cache cannot be read; rendering %s", request.path, exc_info=True)
            return view(request, *args, **kwargs)
        _thread.cached_a_page = True
        if entry is not None and entry["version"] == version:
            body = entry["body"]
            if CSRF_PLACEHOLDER in body:
                body = body.replace(CSRF_PLACEHOLDER, get_token(request).encode())
            return HttpResponse(body, content_type=entry["content_type"])
        response = view(request, *args, **kwargs)
        body = _storable_body(request, response)
        if body is not None:
            entry = {"version": version, "body": body, "content_type": response["Content-Type"],
                     "expires": time.time() + _seconds()}  # fmt: skip
            try:
                cache.set(key, entry, timeout=_seconds())
                _keep_local(key, entry)
            except Exception:
                logger.warning("page cache: %s could not be stored", request.path, exc_info=True)
        return response

    return wrapper

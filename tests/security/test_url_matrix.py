"""Walk every URL of the project as every role: the status must be the one url_matrix.py says, and
every HTML page must load nothing from outside the server and carry no inline script. The
privileged roles are walked with a two-factor-verified session and with a password-only one
(which must act as a learner's), and their state-changing POSTs are refused without two-factor."""

import hashlib
import re

import pytest
from django.apps import apps
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse

from tests.twofactor import login_with_2fa, login_with_password_only

from .url_matrix import MATRIX, PRIVILEGED_POSTS, PRIVILEGED_ROLES, ROLES
from .urlwalk import iter_urls, rule_for, url_for

pytestmark = pytest.mark.django_db
VERIFY = "/accounts/2fa/verify/"
ADMIN_LOGIN = "/admin/login/"  # Django's admin refuses a session that is not staff's by sending it there


def test_every_url_of_the_project_has_an_entry_in_the_matrix():
    missing = sorted(name for name, _p in iter_urls() if rule_for(name) is None)
    assert not missing, f"add these URLs to tests/security/url_matrix.py: {missing}"
    stale = sorted(set(MATRIX) - {name for name, _p in iter_urls()})
    assert not stale, f"these matrix entries name no URL any more: {stale}"
    named = {name for name, _p in iter_urls()}
    assert not set(PRIVILEGED_POSTS) - named, "PRIVILEGED_POSTS names URLs that do not exist"


def _verified_clients(world):
    clients = {"anonymous": Client()}
    for role in ROLES[1:]:
        clients[role] = Client()
        login_with_2fa(clients[role], world.users[role])
    return clients


def _password_only_clients(world):
    clients = {}
    for role in PRIVILEGED_ROLES:
        clients[role] = Client()
        login_with_password_only(clients[role], world.users[role])
    return clients


LOADING = re.compile(
    r"<(script|link|img|source|iframe|video|audio|embed|object)\b[^>]*?\b(src|href|srcset|data)\s*=\s*[\"']([^\"']*)",
    re.IGNORECASE,
)
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
ON_HANDLER = re.compile(r"<[a-z][^>]*\s(on[a-z]+)\s*=", re.IGNORECASE)
EXTERNAL = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)


def page_problems(html: str) -> list[str]:
    """What in a page would load something from outside, or run script inline."""
    problems = []
    for tag, attr, value in LOADING.findall(html):
        for candidate in value.split(","):
            if EXTERNAL.match(candidate.strip()):
                problems.append(f"<{tag} {attr}={value!r}> loads from outside the server")
    problems += [f"inline script: {m}" for m in INLINE_SCRIPT.findall(html)]
    problems += [f"inline handler: {m}" for m in ON_HANDLER.findall(html)]
    return problems


def _as_set(expected):
    return expected if isinstance(expected, set) else {expected}


def _walk(world):
    """(name, url, rule, pattern) for every URL the walk requests."""
    for name, pattern in iter_urls():
        rule = rule_for(name)
        url = url_for(name, pattern, rule, world)
        if url is not None:  # an unnamed pattern inside a namespace rule (admin's catch-all)
            yield name, url, rule, pattern


def test_every_role_gets_the_expected_status_on_every_url_and_pages_load_nothing_from_outside(url_world):
    clients = _verified_clients(url_world)
    failures, pages = [], 0
    for name, url, rule, _pattern in _walk(url_world):
        for role in ROLES:
            expected = _as_set(rule["expect"][role])
            response = clients[role].get(url, HTTP_ACCEPT_LANGUAGE="en")
            if response.status_code not in expected:
                failures.append(f"{name} {url} as {role}: {response.status_code}, expected {sorted(expected)}")
            content_type = response.get("Content-Type", "")
            if response.status_code == 200 and content_type.startswith("text/html"):
                pages += 1
                for problem in page_problems(response.content.decode()):
                    failures.append(f"{name} {url} as {role}: {problem}")
    assert not failures, "\n".join(failures)
    assert pages > 50


def _gated(url: str, pattern) -> bool:
    """Whether a privileged user's password-only session is sent to verify on this URL."""
    return url.startswith(tuple(settings.KAFAAT_2FA_REQUIRED_PATHS)) or getattr(
        pattern.callback, "kafaat_requires_2fa", False
    )


def _walk_password_only(world) -> list[str]:
    clients = _password_only_clients(world)
    failures = []
    for name, url, rule, pattern in _walk(world):
        for role in PRIVILEGED_ROLES:
            response = clients[role].get(url, HTTP_ACCEPT_LANGUAGE="en")
            where = f"{name} {url} as {role} (password only): {response.status_code}"
            if "password_only" in rule:
                if response.status_code not in _as_set(rule["password_only"]):
                    failures.append(f"{where}, expected {rule['password_only']}")
            elif _gated(url, pattern):
                if response.status_code != 302 or not response["Location"].startswith(VERIFY):
                    failures.append(f"{where} {response.get('Location')}, expected the redirect to {VERIFY}")
            elif response.status_code not in _as_set(rule["expect"]["newcomer"]):
                failures.append(f"{where}, expected what a newcomer gets: {rule['expect']['newcomer']}")
    return failures


def test_a_password_only_session_of_a_privileged_role_gets_what_a_learner_gets_on_every_url(url_world):
    failures = _walk_password_only(url_world)
    assert not failures, "\n".join(failures)


@override_settings(KAFAAT_2FA_REQUIRED_PATHS=[])
def test_without_gated_prefixes_a_password_only_session_still_gets_what_a_learner_gets(url_world):
    failures = _walk_password_only(url_world)
    assert not failures, "\n".join(failures)


# Rows a refused request may write: its session, and the throttle's log of the login.
UNCHANGED_EXCEPT = {"django_session", "axes_accesslog", "axes_accessattempt", "axes_accessfailurelog"}


def _database_digest() -> dict[str, str]:
    """A digest of every row of every table (but the session and throttle tables)."""
    digest = {}
    for model in apps.get_models(include_auto_created=True):
        table = model._meta.db_table
        if table in UNCHANGED_EXCEPT or model._meta.proxy or not model._meta.managed:
            continue
        rows = list(model._base_manager.order_by("pk").values_list())
        digest[table] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return digest


def _post(client, url, case, world):
    return client.post(url, case["data"](world), HTTP_ACCEPT_LANGUAGE="en")


@pytest.mark.parametrize("gated_paths", ["default", "none"])
def test_privileged_posts_with_a_password_only_session_are_refused_and_change_nothing(url_world, gated_paths):
    overrides = {} if gated_paths == "default" else {"KAFAAT_2FA_REQUIRED_PATHS": []}
    with override_settings(**overrides):
        password_only = _password_only_clients(url_world)
        verified = {role: Client() for role in {case["by"] for case in PRIVILEGED_POSTS.values()}}
        for role, client in verified.items():
            login_with_2fa(client, url_world.users[role])
        failures = []
        for name, case in PRIVILEGED_POSTS.items():
            url = reverse(name, kwargs=case["kwargs"](url_world)) if "kwargs" in case else reverse(name)
            before = _database_digest()
            for role in PRIVILEGED_ROLES:
                response = _post(password_only[role], url, case, url_world)
                refused = response.status_code in {403, 404} or (
                    response.status_code == 302 and response["Location"].startswith((VERIFY, ADMIN_LOGIN))
                )
                if not refused:
                    failures.append(f"POST {url} as {role} (password only): {response.status_code} "
                                    f"{response.get('Location', '')}")  # fmt: skip
            changed = sorted(t for t, d in _database_digest().items() if before.get(t) != d)
            if changed:
                failures.append(f"POST {name} with a password-only session changed {changed}")
            # The same POST from a verified session of the role it is for does change the database.
            response = _post(verified[case["by"]], url, case, url_world)
            if response.status_code >= 400 or _database_digest() == before:
                failures.append(f"POST {url} as verified {case['by']}: {response.status_code}, changed nothing")
        assert not failures, "\n".join(failures)

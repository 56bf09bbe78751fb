"""Ids past the range of their column name nothing: a 404 at URL resolution, on every route."""

import json
import subprocess
import sys

import pytest
from django.urls.converters import IntConverter

from kernel.converters import IdConverter
from tests.processes import ROOT, base_env
from tests.twofactor import login_with_2fa

from .urlwalk import iter_urls, rule_for, url_for

pytestmark = pytest.mark.django_db
PAST_BIGINT = "99999999999999999999"


EMBEDDED = """
import django, json, sys; django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.test import Client
from tests.factories import CourseFactory, UserFactory, enroll, make_quiz
from tests.twofactor import login_with_2fa
course = CourseFactory(code="ds-101"); quiz = make_quiz(course=course); enroll(UserFactory(), course)
client = Client(raise_request_exception=False); login_with_2fa(client, UserFactory(is_staff=True, is_superuser=True))
urls = [u.format(quiz=quiz.pk, huge=sys.argv[1]) for u in sys.argv[2:]]
print(json.dumps({u: client.get(u).status_code for u in urls}))
"""


def test_in_embedded_mode_an_id_past_the_column_is_a_404_not_an_overflow(tmp_path):
    """SQLite cannot bind a number past 64 bits (OverflowError): the reported 500 on the gradebook's
    override page, on the embedded database `make run` uses."""
    env = base_env(DJANGO_SETTINGS_MODULE="config.settings.test", DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    urls = ["/teach/ds-101/gradebook/override/{huge}/{quiz}/", "/teach/ds-101/gradebook/override/1/{huge}/",
            "/teach/ds-101/analytics/assignments/{huge}/", "/submissions/{huge}/"]  # fmt: skip
    out = subprocess.run(
        [sys.executable, "-c", EMBEDDED, PAST_BIGINT, *urls], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    statuses = json.loads(out.stdout.strip().splitlines()[-1])
    assert set(statuses.values()) == {404}, (statuses, out.stderr[-3000:])


def _int_params(pattern) -> list[str]:
    return [name for name, conv in pattern.pattern.converters.items() if conv.regex in {"[0-9]+", IdConverter.regex}]


def test_every_route_refuses_an_id_past_its_column_with_a_404(client, url_world):
    """Each id parameter of every page, one at a time, past the bigint range, for verified staff
    (who may open everything): 404 at URL resolution, whatever the method the view takes. The
    university API answers its own 404 after authentication (tests/integrations/test_limits.py)."""
    login_with_2fa(client, url_world.users["staff"])
    failures, walked = [], 0
    for name, pattern in iter_urls():
        if name.startswith("api_v1:"):
            continue
        for param in _int_params(pattern):
            # Reversing checks the pattern, which refuses the value itself: put it in afterwards.
            placeholder = 7_654_321_987_654
            url = url_for(name, pattern, rule_for(name), url_world, **{param: placeholder})
            url = url.replace(str(placeholder), PAST_BIGINT)
            walked += 1
            for method in (client.get, client.post):
                response = method(url)
                if response.status_code != 404:
                    failures.append(f"{method.__name__.upper()} {url}: {response.status_code}")
    assert not failures, "\n".join(failures)
    assert walked >= 22  # every id parameter of the pages (analytics:override has two)


def test_no_page_route_uses_djangos_unbounded_int_converter():
    unbounded = sorted(
        name
        for name, pattern in iter_urls()
        if not name.startswith("api_v1:")
        and any(isinstance(c, IntConverter) for c in getattr(pattern.pattern, "converters", {}).values())
    )
    assert not unbounded, f"use <id:...> (kernel.converters), not <int:...>: {unbounded}"


@pytest.mark.parametrize(
    ("value", "ok"), [("0", True), (str(2**63 - 1), True), (str(2**63), False), (PAST_BIGINT, False)]
)
def test_the_id_converter_takes_exactly_the_bigint_range(value, ok):
    converter = IdConverter()
    if ok:
        assert converter.to_python(value) == int(value)
    else:
        with pytest.raises(ValueError):
            converter.to_python(value)

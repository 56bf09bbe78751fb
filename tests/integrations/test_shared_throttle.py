"""The read limit holds across web processes: two real processes reading at once, counting in the
database cache (the default outside tests), together get no more than the limit."""

import json
import subprocess
import sys

import pytest
from django.core.cache import caches
from django.core.management import call_command

from tests.factories import CourseFactory, OrganizationFactory
from tests.processes import ROOT, base_env
from tests.processes import test_database_url as shared_database_url

from .conftest import Api

READER = """
import json, pathlib, sys, time
import django
django.setup()
from django.test import Client
token, n, barrier, me = sys.argv[1], int(sys.argv[2]), pathlib.Path(sys.argv[3]), sys.argv[4]
http = Client(headers={"authorization": f"Bearer {token}"})
http.get("/healthz")  # warm up outside the API: nothing counted
(barrier / me).touch()
while len(list(barrier.iterdir())) < 2:  # both processes begin together
    time.sleep(0.001)
first = time.time()
codes = [http.get("/api/v1/courses").status_code for _ in range(n)]
ok, throttled = codes.count(200), codes.count(429)
span = [first, time.time()]
print(json.dumps({"ok": ok, "throttled": throttled, "other": len(codes) - ok - throttled, "span": span}))
"""

DB_CACHE = {"default": {"BACKEND": "config.cache.DatabaseCache", "LOCATION": "kafaat_cache"}}


@pytest.mark.django_db(transaction=True)
def test_two_web_processes_together_never_exceed_the_read_limit(settings, tmp_path):
    CourseFactory()
    api = Api(OrganizationFactory())
    settings.CACHES = DB_CACHE
    call_command("createcachetable", verbosity=0)  # what every `migrate` does (integrations' post_migrate)
    caches["default"].clear()

    limit, per_process = 40, 60
    env = base_env(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        DATABASE_URL=shared_database_url(),
        CACHE_URL="dbcache://kafaat_cache",
        INTEGRATIONS_API_RATE=f"{limit}/day",
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", READER, api.token, str(per_process), str(tmp_path), f"p{i}"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err[-2000:]
        results.append(json.loads(out.strip().splitlines()[-1]))

    assert all(r["other"] == 0 for r in results), results
    assert sum(r["ok"] for r in results) == limit, results  # not one more, however they interleave
    assert sum(r["throttled"] for r in results) == 2 * per_process - limit
    (a_start, a_end), (b_start, b_end) = (r["span"] for r in results)
    assert a_start < b_end and b_start < a_end, results  # they really read at the same time

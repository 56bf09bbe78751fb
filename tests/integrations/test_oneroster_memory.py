"""A OneRoster upload cannot take a web worker's memory: a few kilobytes of zip holding millions
of bad lines are answered with the first errors and a count of the rest, and the process that
reads them (a real gunicorn worker behind a real token, or the real `import_oneroster` command)
grows by a bounded amount whatever the number of lines.

Memory is measured from outside the process under test: the gunicorn worker's peak resident set
(VmHWM in /proc) before and after the upload, and the command's peak (ru_maxrss of a waited-for
child) against the same command on a one-line package."""

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import requests

from courses.models import Enrollment
from tests import processes
from tests.factories import CourseFactory
from tests.processes import ARTIFACTS, ROOT, VENV_BIN, base_env, wait_for

from .test_oneroster import MANIFEST_12, H

BAD_LINES = 2_000_000
GROWTH_LIMIT_KB = 200 * 1024  # generous: the unbounded reader needed about 1 GB for these lines


def bad_package(lines: int) -> bytes:
    """Every line of users.csv has one field where the header has 22: one error per line."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.csv", MANIFEST_12 + "file.users,bulk\nfile.enrollments,bulk\n")
        zf.writestr("users.csv", H["users"] + "\r\n" + "x\r\n" * lines)
        zf.writestr("enrollments.csv", H["enrollments"] + "\r\n")
    return buf.getvalue()


def _peak_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


@pytest.fixture
def gunicorn(transactional_db):
    """The web process as the Procfile starts it, with one sync worker, on the test database."""
    port = processes.free_port()  # any free port: two checkouts may run this at once
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / "gunicorn-oneroster.log", "w")  # noqa: SIM115 - closed below
    env = base_env(DATABASE_URL=processes.test_database_url(), DJANGO_SETTINGS_MODULE="config.settings.test")
    proc = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--timeout", "120"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"

        def up():
            try:
                return requests.get(f"{base}/healthz", timeout=2).status_code == 200
            except requests.RequestException:  # not listening yet, or still starting
                return False

        wait_for(up, timeout=60, message="gunicorn")
        [worker] = processes.children(proc.pid)
        yield base, worker
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(20)
        log.close()


def test_an_api_upload_of_millions_of_bad_lines_gets_the_first_errors_and_the_count(api, gunicorn):
    base, worker = gunicorn
    CourseFactory(code="ds-101")
    headers = {"Authorization": f"Bearer {api.token}"}
    url = f"{base}/api/v1/oneroster/imports"
    # A first upload loads every module the second one needs: only the reading is measured.
    warm = requests.post(url, files={"file": ("roster.zip", bad_package(10))}, headers=headers, timeout=60)
    assert warm.status_code == 400, warm.text
    before = _peak_kb(worker)

    data = bad_package(BAD_LINES)
    assert len(data) < 20_000  # what the finding uploaded: a few kilobytes
    resp = requests.post(url, files={"file": ("roster.zip", data)}, headers=headers, timeout=120)
    growth = _peak_kb(worker) - before

    assert resp.status_code == 400, resp.text[:2000]
    err = resp.json()["error"]
    assert err["code"] == "invalid_package"
    assert err["errors_total"] == BAD_LINES
    assert len(err["details"]) == 100
    assert err["details"][0] == {
        "file": "users.csv", "line": 2, "column": None, "field": None, "code": "columns",
        "message": err["details"][0]["message"],
    }  # fmt: skip
    assert f"{BAD_LINES - 100} more" in err["message"]
    assert growth < GROWTH_LIMIT_KB, f"the worker grew by {growth // 1024} MB"
    assert not Enrollment.objects.exists()


# Runs the real command as a child and reports its exit status, its stderr and its peak memory.
_MEASURE = """
import json, resource, subprocess, sys
proc = subprocess.run(sys.argv[1:], capture_output=True, text=True)
print(json.dumps({"rc": proc.returncode, "stderr": proc.stderr,
                  "peak_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""


def _import_oneroster(path: Path, org) -> dict:
    env = base_env(DATABASE_URL=processes.test_database_url(), DJANGO_SETTINGS_MODULE="config.settings.test")
    cmd = [
        sys.executable,
        "-c",
        _MEASURE,
        sys.executable,
        "manage.py",
        "import_oneroster",
        str(path),
        "--org",
        org.slug,
    ]
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=True)
    return json.loads(out.stdout)


def test_the_command_on_millions_of_bad_lines_prints_the_first_errors_and_the_count(org, transactional_db, tmp_path):
    CourseFactory(code="ds-101")
    small, big = tmp_path / "small.zip", tmp_path / "big.zip"
    small.write_bytes(bad_package(1))
    big.write_bytes(bad_package(BAD_LINES))

    baseline = _import_oneroster(small, org)
    result = _import_oneroster(big, org)

    assert baseline["rc"] == result["rc"] == 1
    lines = result["stderr"].splitlines()
    named = [line for line in lines if line.startswith("users.csv:")]
    assert len(named) == 100 and named[0].startswith("users.csv:2: ")
    assert f"{BAD_LINES - 100} more" in result["stderr"]
    growth = result["peak_kb"] - baseline["peak_kb"]
    assert growth < GROWTH_LIMIT_KB, f"the command grew by {growth // 1024} MB"

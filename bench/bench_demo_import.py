"""Loading the demo curriculum on a fresh database (issue 17: under 60 s): for PostgreSQL (a new
database next to the bench's, dropped after) and for the embedded SQLite of `make run`, migrate,
then time `load_demo_content` (every course folder zipped and imported through the archive
importer, then the paths) in a fresh process. Also prints what was loaded (content_stats)."""

import os
import subprocess
import sys
import tempfile
import time

import environ
import psycopg

from bench.common import ROOT, figure

PY = sys.executable
LOAD = """
import time, django
django.setup()
from courses.demo import load_demo_content
t0 = time.perf_counter()
problems = []
courses = load_demo_content(report=problems.append)
print(len(courses), time.perf_counter() - t0, len(problems))
for p in problems:
    print(p)
"""


def load(url: str, label: str) -> None:
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": f"{ROOT / 'platform'}:{ROOT}"}
    t0 = time.perf_counter()
    subprocess.run([PY, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    figure(f"{label}: migrate a fresh database", f"{time.perf_counter() - t0:.1f}", "s")
    out = subprocess.run([PY, "-c", LOAD], cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout
    first, *problems = out.splitlines()
    courses, seconds, refused = first.split()
    figure(f"{label}: load the demo ({courses} courses)", f"{float(seconds):.1f}", "s")
    for p in problems:
        figure(f"{label}: refused", p)
    if label == "PostgreSQL":
        stats = subprocess.run([PY, "manage.py", "content_stats"], cwd=ROOT, env=env, check=True, capture_output=True,
                               text=True).stdout  # fmt: skip
        sys.stdout.write(stats + "\n")


def main() -> None:
    cfg = environ.Env.db_url_config(os.environ["DATABASE_URL"])
    name = f"{cfg['NAME']}_demo"
    admin = {"host": cfg["HOST"], "port": cfg["PORT"] or 5432, "user": cfg["USER"], "dbname": "postgres"}
    with psycopg.connect(**admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        load(f"postgres://{cfg['USER']}@{cfg['HOST']}:{cfg['PORT'] or 5432}/{name}", "PostgreSQL")
    finally:
        with psycopg.connect(**admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    with tempfile.TemporaryDirectory() as tmp:
        load(f"sqlite:///{tmp}/demo.sqlite3", "SQLite")


if __name__ == "__main__":
    main()

"""Pages under load (issue 20): gunicorn with 2 sync workers on the bench database holding the demo
curriculum, then `wrk -c50` for a few seconds on `/healthz` (the floor: plain JSON, no middleware
looks its caller up), the catalogue `/` and a demo course page, in French and Arabic, as an
anonymous visitor (a language cookie, no session). Prints req/s and the ratio to `/healthz`
measured just before, on the same server.

It runs with the page cache off (every page rendered: the figures before issue 20), then on with
the cache the settings configure (CACHE_URL, else REDIS_URL, else the database cache), then, if
that is not Redis, on with the bench's Redis as CACHE_URL. Set
BENCH_PAGES_SECONDS to change each wrk run's length (default 5)."""

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

from bench.common import ROOT, VENV_BIN, figure

SECONDS = int(os.environ.get("BENCH_PAGES_SECONDS", "5"))
SETTINGS = "config.settings.local"  # debug off, a real secret key: as `make run` serves

SEED = """
import django
django.setup()
from courses.demo import demo_course_dirs, load_demo_content
from courses.models import Course, PublicationStatus
load_demo_content(report=lambda message: None)
published = Course.objects.filter(status=PublicationStatus.PUBLISHED)
# A demo course (other benches may leave their own courses in this database).
course = published.filter(code__in=[d.name for d in demo_course_dirs()]).order_by("code").first()
print(published.count(), course.code)
"""

# CPU time per request in one process (Django's test client, no HTTP server): steadier than wrk's
# req/s on a machine whose other cores are busy, though without gunicorn's own cost per request.
CPU = """
import sys, time, django
django.setup()
from django.test import Client
for url, lang in [("/healthz", "fr")] + [(u, l) for l in ("fr", "ar") for u in sys.argv[1:]]:
    client = Client()
    client.cookies["django_language"] = lang
    for _ in range(5):
        client.get(url)
    n = 200 if url == "/healthz" else 100
    t0 = time.process_time()
    for _ in range(n):
        assert client.get(url).status_code == 200
    print(url, lang, 1000 * (time.process_time() - t0) / n)
"""


def cpu_per_request(env: dict, urls: list[str]) -> None:
    env = {**env, "ALLOWED_HOSTS": "testserver,127.0.0.1"}
    out = subprocess.run([sys.executable, "-c", CPU, *urls], cwd=ROOT, env=env, check=True, capture_output=True,
                         text=True).stdout  # fmt: skip
    for line in out.splitlines():
        url, lang, ms = line.split()
        figure(f"  CPU per request, in process: {url} [{lang}]", f"{float(ms):.2f}", "ms")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited ({proc.returncode}): see var/bench-gunicorn.log")
        try:
            urllib.request.urlopen(url, timeout=2).read()  # noqa: S310 - our own local server
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not answer")


def wrk(url: str, *, lang: str | None) -> float:
    cmd = ["wrk", "-t2", "-c50", f"-d{SECONDS}s", "--latency"]
    if lang:
        # A language cookie, as the language switch sets it: the page in that language.
        cmd += ["-H", f"Cookie: django_language={lang}"]
    out = subprocess.run([*cmd, url], check=True, capture_output=True, text=True).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"{url}: {errors.group(1)} error responses\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def serve_and_measure(env: dict, code: str, label: str) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(ROOT / "var" / "bench-gunicorn.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--worker-class", "sync"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        wait_up(f"{base}/healthz", proc)
        pages = [("/healthz", None)]
        for lang in ("fr", "ar"):
            pages += [("/", lang), (f"/courses/{code}/", lang)]
        for path, lang in pages:  # warm both workers: imports, templates, translations, the cache
            for _ in range(20):
                req = urllib.request.Request(  # noqa: S310
                    base + path, headers={"Cookie": f"django_language={lang or 'fr'}"}
                )
                urllib.request.urlopen(req, timeout=10).read()  # noqa: S310
        print(f"  cache: {label}")
        cpu_per_request(env, ["/", f"/courses/{code}/"])
        for path, lang in pages[1:]:
            # The floor just before each page: the machine's load drifts between runs.
            floor = wrk(f"{base}/healthz", lang=None)
            rate = wrk(base + path, lang=lang)
            figure(f"{path} [{lang}]", f"{rate:,.0f} req/s",
                   f"({100 * rate / floor:.0f} % of /healthz: {floor:,.0f} req/s just before)")  # fmt: skip
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(30)


def main() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing (Debian package wrk; scripts/bench.sh installs it as root)")
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'platform'}:{ROOT}", "DJANGO_SETTINGS_MODULE": SETTINGS}
    out = subprocess.run([sys.executable, "-c", SEED], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    published, code = out.stdout.split()
    subprocess.run([sys.executable, "manage.py", "createcachetable"], cwd=ROOT, env=env, check=True)
    print(f"  demo catalogue: {published} published courses; course page /courses/{code}/")
    configured = env.get("CACHE_URL") or env.get("REDIS_URL") or "dbcache://kafaat_cache (the default)"
    runs = [
        ("page cache off (KAFAAT_PAGE_CACHE_SECONDS=0: every page rendered, as before)",
         {**env, "KAFAAT_PAGE_CACHE_SECONDS": "0"}),
        (f"page cache on, {configured}", env),
    ]  # fmt: skip
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if broker.startswith("redis://") and not configured.startswith("redis://"):
        # The same pages with the bench's Redis as the shared cache (CACHE_URL=redis://...).
        runs.append((f"page cache on, {broker}", {**env, "CACHE_URL": broker}))
    for label, run_env in runs:
        serve_and_measure(run_env, code, label)


if __name__ == "__main__":
    main()

"""Helpers for benchmarks: a real worker subprocess, percentiles, figure printing."""

import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def start_worker(
    *, queues="grading,sandbox,events", concurrency=2, name="bench", include: str = "", env: dict | None = None
) -> subprocess.Popen:
    """A worker subprocess on a flushed broker; `include` names extra task modules for it alone
    (bench-only tasks such as bench.noop_tasks, kept out of the platform's own task modules), `env`
    adds to its environment (e.g. CONN_MAX_AGE: the test settings close connections after each task)."""
    import redis

    redis.Redis.from_url(os.environ["CELERY_BROKER_URL"]).flushdb()
    log = open(ROOT / "var" / f"bench-worker-{name}.log", "w")  # noqa: SIM115
    env = {**os.environ, "PYTHONPATH": "platform", **(env or {})}
    proc = subprocess.Popen(
        [str(VENV_BIN / "celery"), "-A", "config", "worker", "-Q", queues, "-n", f"{name}@%h",
         "--concurrency", str(concurrency), "--without-mingle", "--without-gossip", "--loglevel", "WARNING",
         *(["-I", include] if include else [])],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    time.sleep(0.5)
    return proc


def wait_ready(predicate, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.005)
    raise SystemExit("benchmark timed out")


def stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(30)


def percentile(values, p):
    values = sorted(values)
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def figure(name: str, value, unit: str = "") -> None:
    print(f"  {name:48} {value}{(' ' + unit) if unit else ''}")


def summary(name, values_ms):
    figure(f"{name} p50", f"{percentile(values_ms, 50):.1f}", "ms")
    figure(f"{name} p95", f"{percentile(values_ms, 95):.1f}", "ms")
    figure(f"{name} mean", f"{statistics.mean(values_ms):.1f}", "ms")

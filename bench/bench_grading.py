"""Grading throughput and latency for a quiz and a pandas code assignment, one worker
(concurrency 2) over Redis on PostgreSQL; and the sandbox's overhead against a plain
`python -c` with the same imports. Prints figures, asserts nothing.

The code assignment is measured twice in the same run, each with a fresh worker: with a fresh
sandboxed interpreter per run (KAFAAT_SANDBOX_ZYGOTE=0, the path before the zygote) and with the
per-slot zygote (the default); next to the floor, a bare `python -c "import pandas"`."""

import os
import statistics
import subprocess
import sys
import time

import django

django.setup()

from assessment.sandbox.runner import run_python  # noqa: E402
from bench.common import figure, start_worker, stop, summary, wait_ready  # noqa: E402
from courses.models import Course  # noqa: E402
from grading import services  # noqa: E402
from grading.models import Submission  # noqa: E402
from tests.factories import UserFactory, enroll, make_quiz  # noqa: E402
from tests.grading.helpers import PANDAS_SPEC, make_assignment  # noqa: E402

QUIZ_ANSWER = {"q1": ["a"], "q2": ["a", "c"]}
CODE_ANSWER = {"code": "def solve(df):\n    return df.groupby('ward', as_index=False)['stay'].mean()\n"}


WARM = 2  # the worker's concurrency


def measure(label, assignment, answer, *, sequential: int, burst: int) -> dict:
    learners = [UserFactory(email=f"bench-{time.time_ns()}-{i}@example.org") for i in range(sequential + burst + WARM)]
    for learner in learners:
        enroll(learner, assignment.course)
    # Warm-up: one submission per pool child at once, so that each child has graded once (its
    # imports, its connection, its sandbox zygote) and the figures below are a running worker's.
    warm = [services.submission_create(user=u, assignment=assignment, answer=answer).pk for u in learners[:WARM]]
    wait_ready(lambda: Submission.objects.filter(pk__in=warm, status="graded").count() == WARM, timeout=300)
    learners = learners[WARM - 1 :]
    seq = []
    for learner in learners[1 : sequential + 1]:
        sub = services.submission_create(user=learner, assignment=assignment, answer=answer)
        wait_ready(lambda pk=sub.pk: Submission.objects.filter(pk=pk, status="graded").exists(), timeout=300)
        seq.append(sub.pk)
    latencies = [
        (g - s).total_seconds() * 1000
        for s, g in Submission.objects.filter(pk__in=seq).values_list("submitted_at", "graded_at")
    ]
    t0 = time.perf_counter()
    ids = [
        services.submission_create(user=u, assignment=assignment, answer=answer).pk for u in learners[sequential + 1 :]
    ]
    wait_ready(lambda: Submission.objects.filter(pk__in=ids, status="graded").count() == len(ids), timeout=900)
    elapsed = time.perf_counter() - t0
    burst_lat = [
        (g - s).total_seconds() * 1000
        for s, g in Submission.objects.filter(pk__in=ids).values_list("submitted_at", "graded_at")
    ]
    print(f"{label}: 1 worker (concurrency 2)")
    summary(f"submit->graded, one at a time ({len(latencies)})", latencies)
    summary(f"submit->graded, burst of {len(ids)}", burst_lat)
    figure(f"burst of {len(ids)}: graded per second", f"{len(ids) / elapsed:.1f}", "submissions/s")
    return {"rate": len(ids) / elapsed, "latency": statistics.median(latencies)}


def import_pandas_floor(runs=7) -> float:
    """Median ms of a bare `python -c "import pandas"`: the floor of one fresh interpreter."""
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import pandas"], check=True)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def measure_code(code, *, zygote: str) -> dict:
    os.environ["KAFAAT_SANDBOX_ZYGOTE"] = zygote
    worker = start_worker(name=f"bench-grading-zygote-{zygote}")
    try:
        label = "zygote fork per run" if zygote != "0" else "fresh interpreter per run"
        return measure(f"pandas code assignment (2 sandbox runs per submission, {label})", code, CODE_ANSWER,
                       sequential=10, burst=20)  # fmt: skip
    finally:
        stop(worker)
        os.environ.pop("KAFAAT_SANDBOX_ZYGOTE", None)


def sandbox_overhead(runs=7):
    code = "import numpy, pandas\n"
    plain, boxed = [], []
    os.environ["KAFAAT_SANDBOX_ZYGOTE"] = "0"  # a fresh sandboxed interpreter per run, except below
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-I", "-c", code], check=True)
        plain.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        result = run_python({"main.py": code}, script="main.py")
        assert result.returncode == 0, result.stderr
        boxed.append((time.perf_counter() - t) * 1000)
    os.environ["KAFAAT_SANDBOX_ZYGOTE"] = "require"
    forked = []
    try:
        run_python({"main.py": code}, script="main.py")  # starts this process's zygote
        for _ in range(runs):
            t = time.perf_counter()
            result = run_python({"main.py": code}, script="main.py")
            assert result.returncode == 0 and result.zygote, result.stderr
            forked.append((time.perf_counter() - t) * 1000)
    finally:
        os.environ.pop("KAFAAT_SANDBOX_ZYGOTE", None)
    print("sandbox overhead, `import numpy, pandas` (median of 7)")
    figure("plain python -c", f"{statistics.median(plain):.0f}", "ms")
    figure("sandboxed (bwrap + seccomp + rlimits + slot)", f"{statistics.median(boxed):.0f}", "ms")
    figure("overhead", f"{statistics.median(boxed) - statistics.median(plain):.0f}", "ms")
    figure("sandboxed, forked from the slot's zygote", f"{statistics.median(forked):.0f}", "ms")
    os.environ["KAFAAT_SANDBOX_ZYGOTE"] = "0"
    plain, boxed = [], []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-I", "-c", "pass"], check=True)
        plain.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        run_python({"main.py": "pass\n"}, script="main.py")
        boxed.append((time.perf_counter() - t) * 1000)
    figure(
        "python -c pass: plain / sandboxed", f"{statistics.median(plain):.0f} / {statistics.median(boxed):.0f}", "ms"
    )
    os.environ.pop("KAFAAT_SANDBOX_ZYGOTE", None)


def main():
    tag = time.time_ns()
    course = Course.objects.create(code=f"bench-grading-{tag}", title="Bench", language="en", status="published")
    quiz = make_quiz(course=course)
    code = make_assignment("code", PANDAS_SPEC, course=course)
    worker = start_worker(name="bench-grading")
    try:
        measure("quiz", quiz, QUIZ_ANSWER, sequential=50, burst=200)
    finally:
        stop(worker)
    floor_before = import_pandas_floor()
    fresh = measure_code(code, zygote="0")
    zygote = measure_code(code, zygote="1")
    floor = statistics.median([floor_before, import_pandas_floor()])
    print("pandas code grading against the floor (same run; other processes share the 2 cores)")
    figure('floor: bare python -c "import pandas"', f"{floor:.0f}", "ms")
    figure("floor as a rate (concurrency 2 / floor)", f"{2000 / floor:.1f}", "imports/s")
    for name, m in (("fresh interpreter (before)", fresh), ("zygote (after)", zygote)):
        figure(
            f"{name}: burst of 20 graded/s", f"{m['rate']:.1f}", f"({m['rate'] / (2000 / floor):.2f}x the floor rate)"
        )
        figure(f"{name}: submit->graded p50", f"{m['latency']:.0f}", f"ms ({m['latency'] / floor:.2f}x the floor)")
    figure("zygote / fresh interpreter, graded/s", f"{zygote['rate'] / fresh['rate']:.1f}", "x")
    sandbox_overhead()


if __name__ == "__main__":
    main()

"""Quiz grading against its Celery floor, in one run: one worker (concurrency 2) over Redis on
PostgreSQL.

- Floor: a burst of 200 no-op tasks (bench.noop_tasks, loaded by this bench's worker only) on the
  grading queue, timed from the first publish until the broker holds none of them (queued or
  unacknowledged).
- Kafaat: p50/p95 submit -> graded, one submission at a time; then a burst of 200 quiz grades.
  The burst's 200 submissions are stored first (their tasks held back); what is timed is
  publishing their 200 grading tasks until the database shows all 200 graded (and, printed too,
  until the broker holds none of the 200 grading tasks). The CPU figure counts every task of the
  burst, the side effects' batches (notifications, completion) included. The burst's
  learners already passed the quiz (their course is complete), as in a resubmission.

The worker keeps its database connections (CONN_MAX_AGE=60, as in production). Floor and burst
alternate three times; the ratio uses the medians (and the best of each). The worker's CPU time per
task (its main and pool processes) is printed too: other processes on the machine disturb it less
than the rates, whose absolute figures are noisy (read the ratio)."""

import json
import os
import statistics
import time
from pathlib import Path

import django

django.setup()

import redis  # noqa: E402
from django.conf import settings  # noqa: E402

from bench.common import figure, start_worker, stop, summary, wait_ready  # noqa: E402
from bench.noop_tasks import noop  # noqa: E402
from courses.models import Course  # noqa: E402
from grading import services  # noqa: E402
from grading.models import Submission  # noqa: E402
from tests.factories import UserFactory, enroll, make_quiz  # noqa: E402

N = 200
ROUNDS = 3
ANSWER = {"q1": ["a"], "q2": ["a", "c"]}
QUEUE = "grading"


def worker_cpu_seconds(worker) -> float:
    """CPU time (user + system) of every process of the worker's session (main + pool) so far."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[3]) == worker.pid:  # the session id (start_new_session)
            total += int(fields[11]) + int(fields[12])
    return total / tick


def _broker_idle(r) -> bool:
    return r.llen(QUEUE) == 0 and r.hlen("unacked") == 0


def _grading_tasks_idle(r) -> bool:
    """The broker holds no task of the grading queue (queued or unacknowledged); the events
    queue's batch consumer, sent with a countdown of the batch window, may still wait."""
    if r.llen(QUEUE):
        return False
    return not any(json.loads(v)[2] == QUEUE for v in r.hvals("unacked"))


def floor_burst(r) -> float:
    """No-op tasks per second: publish N, wait until the broker holds none of them."""
    wait_ready(lambda: _broker_idle(r))
    t0 = time.perf_counter()
    for _ in range(N):
        noop.apply_async()
    wait_ready(lambda: _broker_idle(r))
    return N / (time.perf_counter() - t0)


def stored_without_tasks(quiz, learners) -> list[int]:
    """Store one submission per learner; their grading tasks are held back (not published)."""
    real, held = services.enqueue_grading, []
    services.enqueue_grading = lambda *, submission_id, kind: held.append(submission_id)
    try:
        for learner in learners:
            services.submission_create(user=learner, assignment=quiz, answer=ANSWER)
    finally:
        services.enqueue_grading = real
    assert len(held) == len(learners)
    return held


def grading_burst(r, quiz, learners) -> tuple[float, float]:
    """Quiz grades per second: publish the grading tasks of N stored submissions, wait until the
    database shows all N graded; then until the broker holds none of their tasks either (a task
    whose quiz was graded in another's batch still has to be taken and seen done). Returns both
    rates; it returns once the side effects' batches ran too."""
    ids = stored_without_tasks(quiz, learners)
    wait_ready(lambda: _broker_idle(r))
    t0 = time.perf_counter()
    for pk in ids:
        services.enqueue_grading(submission_id=pk, kind="quiz")
    wait_ready(lambda: Submission.objects.filter(pk__in=ids, status="graded").count() == len(ids))
    graded = time.perf_counter() - t0
    wait_ready(lambda: _grading_tasks_idle(r))
    taken = time.perf_counter() - t0
    wait_ready(lambda: _broker_idle(r))  # the side effects' batches too, for the CPU figure
    return N / graded, N / taken


def main():
    code = f"bench-quiz-{time.time_ns()}"
    quiz = make_quiz(course=Course.objects.create(code=code, title="Bench", language="en", status="published"))
    learners = [UserFactory(email=f"bench-{time.time_ns()}-{i}@example.org") for i in range(N)]
    for learner in learners:
        enroll(learner, quiz.course)
    r = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    # Persistent database connections, as production's workers keep them (the test settings the
    # benches run under close them after every task).
    worker = start_worker(include="bench.noop_tasks", env={"CONN_MAX_AGE": "60"})
    try:
        # Warm-up: the first tasks pay for imports and connections.
        noop.apply_async()
        first = services.submission_create(user=learners[0], assignment=quiz, answer=ANSWER)
        wait_ready(lambda: Submission.objects.filter(pk=first.pk, status="graded").exists())
        wait_ready(lambda: _broker_idle(r))

        sequential = []
        for learner in learners[1:]:
            sub = services.submission_create(user=learner, assignment=quiz, answer=ANSWER)
            wait_ready(lambda pk=sub.pk: Submission.objects.filter(pk=pk, status="graded").exists())
            sequential.append(sub.pk)
        # Latency from the database's own clocks: stored (submitted_at) to graded (graded_at).
        latencies = [
            (graded - submitted).total_seconds() * 1000
            for submitted, graded in Submission.objects.filter(pk__in=sequential).values_list(
                "submitted_at", "graded_at"
            )
        ]
        floors, bursts, drained, floor_cpu, burst_cpu = [], [], [], [], []
        for _ in range(ROUNDS):
            cpu = worker_cpu_seconds(worker)
            floors.append(floor_burst(r))
            floor_cpu.append(worker_cpu_seconds(worker) - cpu)
            cpu = worker_cpu_seconds(worker)
            rate, drain = grading_burst(r, quiz, learners)
            bursts.append(rate)
            drained.append(drain)
            burst_cpu.append(worker_cpu_seconds(worker) - cpu)  # every task of the burst taken
    finally:
        stop(worker)

    floor, burst = statistics.median(floors), statistics.median(bursts)
    print(f"quiz grading, 1 worker (concurrency 2) over Redis, bursts of {N}, {ROUNDS} rounds")
    summary("submit->graded (one at a time)", latencies)
    figure("floor: no-op task, burst of 200", " / ".join(f"{x:.0f}" for x in floors), "tasks/s")
    figure("Kafaat: quiz grading, burst of 200", " / ".join(f"{x:.0f}" for x in bursts), "graded/s")
    figure("ratio (medians)", f"{100 * burst / floor:.1f}", "% of the floor")
    figure("ratio (best of each)", f"{100 * max(bursts) / max(floors):.1f}", "% of the floor")
    figure("Kafaat: the burst's 200 grading tasks all taken", " / ".join(f"{x:.0f}" for x in drained), "tasks/s")
    figure("ratio (medians)", f"{100 * statistics.median(drained) / floor:.1f}", "% of the floor")
    # CPU of the worker's processes per task (grading's own tasks and what they send: the batch
    # consumer, e-mails...): less disturbed by other processes on the machine than rates are.
    figure("worker CPU per no-op task", f"{1000 * statistics.median(floor_cpu) / N:.2f}", "ms")
    figure(
        "worker CPU per quiz graded (all its tasks, side effects too)",
        f"{1000 * statistics.median(burst_cpu) / N:.2f}",
        "ms",
    )


if __name__ == "__main__":
    main()

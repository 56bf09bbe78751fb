"""Recovery times of grading under faults, on Redis and RabbitMQ, with the production defaults of
the lease, the sweep interval and the resend delay (not the test suite's short ones): how long
after the fault ends a submission is graded, for
- a killed worker (SIGKILL mid-grade, a new worker started at once),
- a broker outage (10 s; submissions made during it, measured from the broker's return),
- a dropped database connection (pg_terminate_backend on the worker's connections mid-grade).

Each broker is the bench's own: a Redis server it starts, and a RabbitMQ vhost (BENCH_RABBITMQ_URL,
default vhost `kafaat_bench`) reached through a TCP proxy it stops and starts. A worker and a beat
process run beside each other as the Procfile runs them. Prints figures, asserts nothing.

    make bench ARGS=faults"""

import os
import statistics
import sys
import time
from urllib.parse import urlsplit, urlunsplit

import django

# The production defaults (platform/config/settings/base.py), whatever the bench settings say;
# each can be set in the environment (to measure other values, or the code before leases). This
# process takes them too: it writes the submissions, with their first resend time.
PRODUCTION = {
    name: os.environ.setdefault(name, str(default))
    for name, default in {
        "GRADING_LEASE_SECONDS": 30,
        "GRADING_SWEEP_INTERVAL_SECONDS": 10,
        "GRADING_QUEUED_RESEND_SECONDS": 30,
        "GRADING_MAX_ATTEMPTS": 5,
        # What the code before leases read: the sweeper's single deadline.
        "GRADING_STUCK_AFTER_SECONDS": 180,
    }.items()
}
django.setup()

from django.db import connection  # noqa: E402

from bench.common import figure  # noqa: E402
from courses.models import Course  # noqa: E402
from grading import tasks  # noqa: E402
from grading.models import Submission  # noqa: E402
from tests.factories import UserFactory, enroll, make_quiz  # noqa: E402
from tests.grading.helpers import make_assignment  # noqa: E402
from tests.processes import (  # noqa: E402
    RedisServer,
    TcpProxy,
    Worker,
    base_env,
    publishing_to,
    purge_queues,
    rabbitmq_vhost,
    test_database_url,
)

GIVE_UP = float(os.environ.get("BENCH_FAULTS_GIVE_UP_SECONDS", 400))
RUNS = int(os.environ.get("BENCH_FAULTS_RUNS", 2))
SPEC = {
    "entrypoint": "solve",
    "reference_solution": "def solve(x):\n    return x + 1\n",
    "public_tests": [{"id": "t1", "args": [1]}],
}
SLOW = {"code": "import time\ndef solve(x):\n    time.sleep(3)\n    return x + 1\n"}
RIGHT = {"q1": ["a"], "q2": ["a", "c"]}


class Broker:
    def __init__(self, kind: str):
        self.kind = kind
        self.redis = RedisServer().start() if kind == "redis" else None
        self.proxy = None
        if self.redis:
            self.url = self.redis.url
        else:
            real = os.environ.get("BENCH_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/kafaat_bench")
            rabbitmq_vhost(real)
            parts = urlsplit(real)
            self.proxy = TcpProxy((parts.hostname or "127.0.0.1", parts.port or 5672)).start()
            self.url = urlunsplit(parts._replace(netloc=f"{parts.netloc.rsplit(':', 1)[0]}:{self.proxy.port}"))

    def down(self):
        (self.redis or self.proxy).stop()

    def up(self):
        (self.redis or self.proxy).start()


def worker(broker, name, **kw) -> Worker:
    env = base_env(
        DATABASE_URL=test_database_url(),
        DJANGO_SETTINGS_MODULE=os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings.test"),
        CELERY_BROKER_URL=broker.url,
        **PRODUCTION,
    )
    return Worker(name=f"bench-{name}-{broker.kind}", env=env, **kw).start()


def graded_after(ids, since: float) -> float | None:
    """Seconds from `since` (monotonic) until every submission is graded; None past GIVE_UP."""
    while time.monotonic() - since < GIVE_UP:
        if Submission.objects.filter(pk__in=ids, status="graded").count() == len(ids):
            return time.monotonic() - since
        time.sleep(0.2)
    return None


def new_sub(assignment, answer) -> Submission:
    """A queued submission whose task the bench publishes itself (runs on the code before leases
    too, for the "before" figures)."""
    return Submission.objects.create(
        user=_learner(assignment), assignment=assignment, version=assignment.current_version, attempt=1,
        answer=answer, max_score=assignment.points,
    )  # fmt: skip


def wait_running(pk) -> None:
    deadline = time.monotonic() + 120
    while Submission.objects.filter(pk=pk).values_list("status", flat=True).first() != "running":
        if time.monotonic() > deadline:
            raise SystemExit(f"submission {pk} never started")
        time.sleep(0.05)
    time.sleep(1)  # mid-grade


def killed_worker(broker, code) -> float | None:
    victim = worker(broker, "victim", concurrency=1, beat=True)
    sub = new_sub(code, SLOW)
    tasks.submission_grade_code.delay(sub.pk)
    wait_running(sub.pk)
    beat = victim.beat_proc
    victim.beat_proc = None  # the beat host lives on; only the worker dies
    victim.kill()
    killed = time.monotonic()
    rescuer = worker(broker, "rescuer", concurrency=2)  # restarted at once (systemd, a supervisor)
    try:
        return graded_after([sub.pk], killed)
    finally:
        rescuer.stop()
        beat.kill()
        beat.wait(10)


OUTAGES: list[float] = []


def broker_outage(broker, quiz) -> float | None:
    """The broker goes away for at least 10 s; three submissions are made meanwhile (each waits
    for its publish to fail: the outage lasts as long as that takes)."""
    from grading import services

    w = worker(broker, "outage", beat=True)
    try:
        broker.down()
        start = time.monotonic()
        try:
            subs = [services.submission_create(user=_learner(quiz), assignment=quiz, answer=RIGHT) for _ in range(3)]
            time.sleep(max(0.0, 10 - (time.monotonic() - start)))
        finally:
            broker.up()
        back = time.monotonic()
        OUTAGES.append(back - start)
        return graded_after([s.pk for s in subs], back)
    finally:
        w.stop()


def _learner(assignment):
    learner = UserFactory(email=f"bench-faults-{time.time_ns()}@example.org")
    enroll(learner, assignment.course)
    return learner


def dropped_connection(broker, code) -> float | None:
    w = worker(broker, "dbdrop", concurrency=1, beat=True)
    try:
        sub = new_sub(code, SLOW)
        tasks.submission_grade_code.delay(sub.pk)
        wait_running(sub.pk)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        dropped = time.monotonic()
        return graded_after([sub.pk], dropped)
    finally:
        w.stop()


def main():
    kinds = [k for k in os.environ.get("BENCH_FAULTS_BROKERS", "redis,rabbitmq").split(",") if k]
    tag = time.time_ns()
    course = Course.objects.create(code=f"bench-faults-{tag}", title="Bench", language="en", status="published")
    code = make_assignment("code", SPEC, course=course, points=10)
    quiz = make_quiz(course=course, points=4)
    print(f"grading recovery, production lease/sweep settings, {RUNS} run(s) each (median), give up at {GIVE_UP:.0f} s")
    for kind in kinds:
        broker = Broker(kind)
        try:
            with publishing_to(broker.url):
                purge_queues(broker.url)
                for label, scenario, assignment in [
                    ("killed worker (SIGKILL, restarted): kill -> graded", killed_worker, code),
                    ("broker outage (>= 10 s): broker back -> graded", broker_outage, quiz),
                    ("dropped DB connection: drop -> graded", dropped_connection, code),
                ]:
                    times = [scenario(broker, assignment) for _ in range(RUNS)]
                    done = [t for t in times if t is not None]
                    value = f"{statistics.median(done):.1f}" if done else f"> {GIVE_UP:.0f}"
                    missed = len(times) - len(done)
                    lost = f" ({missed} of {len(times)} not graded in time)" if missed else ""
                    figure(f"{kind}: {label}", value + lost, "s")
                    if scenario is broker_outage:
                        figure(f"{kind}: the outages lasted", ", ".join(f"{o:.1f}" for o in OUTAGES), "s")
                        OUTAGES.clear()
                    sys.stdout.flush()
        finally:
            (broker.redis or broker.proxy).stop()


if __name__ == "__main__":
    main()

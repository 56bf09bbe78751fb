"""The fault suite (issue 11): real Celery worker subprocesses, on Redis and on RabbitMQ, with
faults injected while they grade and regrade. Every scenario ends with the audit: each submission
has exactly one automatic grade (or failed with a reason, after the attempt cap), and at most one
regrade record per (regrade job, submission), with as many `submission.graded` events.

Each broker is the test's own: a Redis server it starts (so it can stop it: a broker outage) and a
RabbitMQ virtual host it creates (TEST_RABBITMQ_URL, default vhost `kafaat_test`), reached through a
TCP proxy that the outage stops. The test settings shorten the lease (6 s), the sweep interval (1 s) and the attempt
cap (3); workers started here get them, or the values a scenario sets, from the environment.

Recovery times are printed by `make bench ARGS=faults`, never asserted here."""

import os
import signal
import time
from decimal import Decimal
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from courses.models import AssignmentVersion
from grading import services, tasks
from grading.models import GradeRecord, RegradeJob, Submission
from kernel.models import OutboxEvent
from learning.models import Notification
from tests.factories import UserFactory, enroll, make_quiz
from tests.grading.helpers import make_assignment
from tests.processes import (
    RedisServer,
    TcpProxy,
    Worker,
    base_env,
    children,
    publishing_to,
    purge_queues,
    rabbitmq_vhost,
    wait_for,
)
from tests.processes import test_database_url as database_url

pytestmark = pytest.mark.worker

RIGHT = {"q1": ["a"], "q2": ["a", "c"]}
SLOW_SPEC = {
    "entrypoint": "solve",
    "reference_solution": "def solve(x):\n    return x + 1\n",
    "public_tests": [{"id": "t1", "args": [1]}],
}


def slow_code(seconds: float) -> dict:
    return {"code": f"import time\ndef solve(x):\n    time.sleep({seconds})\n    return x + 1\n"}


RABBITMQ_URL = os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/kafaat_test")


class Broker:
    """A broker of this test module's own, with an outage switch: a Redis server it stops and
    starts, or its RabbitMQ vhost reached through a TCP proxy it stops and starts (RabbitMQ itself
    is shared)."""

    def __init__(self, kind: str):
        self.kind = kind
        self.redis = RedisServer().start() if kind == "redis" else None
        self.proxy = None
        if self.redis:
            self.url = self.redis.url
        else:
            rabbitmq_vhost(RABBITMQ_URL)
            parts = urlsplit(RABBITMQ_URL)
            self.proxy = TcpProxy((parts.hostname or "127.0.0.1", parts.port or 5672)).start()
            self.url = urlunsplit(parts._replace(netloc=f"{parts.netloc.rsplit(':', 1)[0]}:{self.proxy.port}"))

    def down(self) -> None:
        (self.redis or self.proxy).stop()

    def up(self) -> None:
        (self.redis or self.proxy).start()

    def purge(self) -> None:
        purge_queues(self.url)

    def close(self) -> None:
        (self.redis or self.proxy).stop()


@pytest.fixture(scope="module", params=["redis", "rabbitmq"])
def broker(request):
    b = Broker(request.param)
    yield b
    b.close()


@pytest.fixture
def fault_broker(broker, transactional_db):
    """The broker, empty, with this process publishing to it (services enqueue through it)."""
    broker.purge()
    with publishing_to(broker.url):
        yield broker
    broker.purge()


_workers: list[Worker] = []


@pytest.fixture
def spawn(fault_broker):
    """Start workers on the test's broker; every one of them is stopped at the end."""

    def start(name: str, *, beat: bool = False, concurrency: int = 2, queues="grading,sandbox,events", **env):
        w = Worker(
            name=f"{name}-{fault_broker.kind}",
            queues=queues,
            concurrency=concurrency,
            beat=beat,
            env=base_env(
                DATABASE_URL=database_url(),
                DJANGO_SETTINGS_MODULE="config.settings.test",
                CELERY_BROKER_URL=fault_broker.url,
                **env,
            ),
        )
        _workers.append(w)
        return w.start()

    yield start
    while _workers:
        _workers.pop().stop(sig=signal.SIGKILL)


# --- the audit -------------------------------------------------------------------------------


def audit(sub_ids, jobs=()) -> None:
    """Every submission has exactly one automatic grade, or failed with a reason staff see; every
    regrade job gave at most one regrade record per submission (exactly one per item done), and
    each grade record has its one submission.graded event."""
    subs = list(Submission.objects.filter(pk__in=sub_ids))
    assert len(subs) == len(set(sub_ids))
    for sub in subs:
        autos = GradeRecord.objects.filter(submission=sub, source=GradeRecord.Source.AUTO).count()
        if sub.status == Submission.Status.FAILED:
            assert autos == 0 and sub.failure_code, (sub.pk, sub.failure_code, sub.staff_log[-500:])
        else:
            assert (sub.status, autos) == (Submission.Status.GRADED, 1), (sub.pk, sub.status, sub.staff_log[-500:])
        records = GradeRecord.objects.filter(submission=sub).exclude(source=GradeRecord.Source.REVIEW).count()
        events = [
            e
            for e in OutboxEvent.objects.filter(event_type="submission.graded", user_id=sub.user_id)
            if e.payload.get("submission_id") == sub.pk
        ]
        assert len(events) == records, (sub.pk, len(events), records)
    for job in jobs:
        job.refresh_from_db()
        per_sub = (
            GradeRecord.objects.filter(source=GradeRecord.Source.REGRADE, reason_params__job=job.pk)
            .values("submission")
            .annotate(n=Count("id"))
        )
        assert all(row["n"] == 1 for row in per_sub), list(per_sub)
        progress = job.progress()
        assert progress.done == len(per_sub) and progress.done + progress.failed <= job.total


def _graded(sub_ids) -> bool:
    return Submission.objects.filter(pk__in=sub_ids, status=Submission.Status.GRADED).count() == len(sub_ids)


def _queued(assignment, user, answer, attempt=1) -> Submission:
    """A stored, queued submission whose task the test publishes itself."""
    return Submission.objects.create(
        user=user, assignment=assignment, version=assignment.current_version, attempt=attempt, answer=answer,
        max_score=assignment.points,
    )  # fmt: skip


def _graded_subs(assignment, n: int, answer) -> list[Submission]:
    """n submissions already graded once (as yesterday's workers left them), ready for a regrade."""
    subs = []
    for _ in range(n):
        learner = UserFactory()
        enroll(learner, assignment.course)
        sub = _queued(assignment, learner, answer)
        Submission.objects.filter(pk=sub.pk).update(
            status=Submission.Status.GRADED, score=0, graded_at=timezone.now(), grading_attempts=1
        )
        GradeRecord.objects.create(submission=sub, score=0, max_score=assignment.points, source="auto")
        OutboxEvent.objects.create(
            event_type="submission.graded", user=learner, payload={"submission_id": sub.pk, "score": "0"}
        )
        subs.append(sub)
    return subs


def _teacher(assignment):
    teacher = UserFactory()
    assignment.course.instructors.add(teacher)
    return teacher


def _regraded(job) -> int:
    """Regrade records written since the job started (each test runs one job)."""
    return GradeRecord.objects.filter(
        source=GradeRecord.Source.REGRADE, submission__assignment=job.assignment_id, created_at__gte=job.created_at
    ).count()


# --- submissions -----------------------------------------------------------------------------


def test_a_pool_child_killed_mid_grade_the_submission_is_graded_once(spawn):
    assignment = make_assignment("code", SLOW_SPEC, points=10)
    sub = _queued(assignment, UserFactory(), slow_code(4))
    worker = spawn("child", beat=True, concurrency=1)
    tasks.submission_grade_code.delay(sub.pk)
    child = wait_for(lambda: _grading_child(worker), timeout=60, message="a pool child running the sandbox")
    worker.kill_pool_child(child)
    wait_for(lambda: _graded([sub.pk]), timeout=120, message="graded after the child was killed")
    audit([sub.pk])
    assert Submission.objects.get(pk=sub.pk).score == 10


def _grading_child(worker: Worker) -> int | None:
    """The pool child that runs the sandbox now (it has a bwrap/setpriv descendant), if any."""
    for pid in worker.pool_children():
        if children(pid):
            return pid
    return None


def test_the_whole_worker_killed_mid_grade_another_grades_it_once(spawn):
    assignment = make_assignment("code", SLOW_SPEC, points=10)
    sub = _queued(assignment, UserFactory(), slow_code(4))
    victim = spawn("victim", concurrency=1)
    tasks.submission_grade_code.delay(sub.pk)
    wait_for(lambda: Submission.objects.get(pk=sub.pk).status == "running", timeout=60, message="running")
    victim.kill()
    spawn("rescuer", beat=True)
    wait_for(lambda: _graded([sub.pk]), timeout=120, message="graded by the rescuer")
    audit([sub.pk])
    assert Submission.objects.get(pk=sub.pk).grading_attempts == 2


def test_the_same_task_delivered_twice_while_it_runs_grades_once(spawn):
    assignment = make_assignment("code", SLOW_SPEC, points=10)
    sub = _queued(assignment, UserFactory(), slow_code(2))
    spawn("twice", concurrency=2)
    tasks.submission_grade_code.apply_async((sub.pk,), task_id=f"grade-{sub.pk}")
    tasks.submission_grade_code.apply_async((sub.pk,), task_id=f"grade-{sub.pk}")
    wait_for(lambda: _graded([sub.pk]), timeout=90, message="graded")
    time.sleep(2)  # let the duplicate finish too
    audit([sub.pk])
    assert Submission.objects.get(pk=sub.pk).grading_attempts == 1


def test_a_pool_child_killed_mid_batch_of_quizzes_every_quiz_is_graded_once(spawn):
    quiz = make_quiz(points=10)
    subs = [_queued(quiz, UserFactory(), RIGHT) for _ in range(20)]
    worker = spawn("batch", beat=True, concurrency=1)
    with transaction.atomic(), connection.cursor() as cursor:
        # Hold the batch at its outbox INSERT: its scores and history are written, not committed.
        cursor.execute(f"LOCK TABLE {OutboxEvent._meta.db_table} IN EXCLUSIVE MODE")
        for sub in subs:
            tasks.submission_grade.delay(sub.pk)

        def blocked_batch() -> bool:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE relation = %s::regclass AND NOT granted",
                [OutboxEvent._meta.db_table],
            )
            return cursor.fetchone()[0] == 1

        wait_for(blocked_batch, timeout=60, message="a batch of quiz grades waiting to write its outbox rows")
        assert Submission.objects.filter(pk__in=[s.pk for s in subs], status="queued").count() == len(subs)
        (child,) = worker.pool_children()
        worker.kill_pool_child(child)
    wait_for(lambda: _graded([s.pk for s in subs]), timeout=120, message="every quiz graded after the kill")
    time.sleep(1)  # the killed batch's task, redelivered, finishes too
    audit([s.pk for s in subs])
    assert GradeRecord.objects.filter(submission__in=subs).count() == len(subs)


def test_a_long_grade_keeps_its_claim_by_heartbeat_while_the_sweeper_runs(spawn):
    """A grade that runs past the lease is not handed to another worker: its heartbeat renews
    the lease, so the sweeper (every second here) leaves it alone."""
    assignment = make_assignment("code", SLOW_SPEC, points=10)
    sub = _queued(assignment, UserFactory(), slow_code(8))
    spawn("heartbeat", beat=True, concurrency=2, GRADING_LEASE_SECONDS=3)
    tasks.submission_grade_code.delay(sub.pk)
    wait_for(lambda: _graded([sub.pk]), timeout=90, message="graded")
    audit([sub.pk])
    assert Submission.objects.get(pk=sub.pk).grading_attempts == 1


def test_a_broker_outage_delays_grades_and_loses_none(spawn, fault_broker):
    quiz = make_quiz(points=4)
    spawn("outage", beat=True)
    first = services.submission_create(user=_learner(quiz), assignment=quiz, answer=RIGHT)
    wait_for(lambda: _graded([first.pk]), timeout=60, message="graded before the outage")
    fault_broker.down()
    try:
        during = [services.submission_create(user=_learner(quiz), assignment=quiz, answer=RIGHT) for _ in range(3)]
    finally:
        fault_broker.up()
    ids = [first.pk] + [s.pk for s in during]
    wait_for(lambda: _graded(ids), timeout=120, message="graded after the broker came back")
    audit(ids)


def _learner(assignment):
    learner = UserFactory()
    enroll(learner, assignment.course)
    return learner


def test_a_database_connection_dropped_mid_grade_the_tasks_own_retry_grades_it(spawn):
    """No sweeper runs here: only the task's own retry can finish the grade, so it must be able to
    re-claim the submission it holds."""
    assignment = make_assignment("code", SLOW_SPEC, points=10)
    sub = _queued(assignment, UserFactory(), slow_code(3))
    spawn("dbdrop", concurrency=1)
    tasks.submission_grade_code.delay(sub.pk)
    wait_for(lambda: Submission.objects.get(pk=sub.pk).status == "running", timeout=60, message="running")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    wait_for(lambda: _graded([sub.pk]), timeout=90, message="graded by the task's retry")
    audit([sub.pk])
    assert Submission.objects.get(pk=sub.pk).grading_attempts == 2


def test_a_grade_that_raises_while_written_fails_at_the_cap_and_staff_are_told(spawn, client):
    quiz = make_quiz(points=4)
    teacher = _teacher(quiz)
    spec = quiz.current_version.spec
    for q in spec["questions"]:
        q["points"] = 1.0e308  # bypasses validation, as an old spec or a bad import might
    AssignmentVersion.objects.filter(pk=quiz.current_version_id).update(spec=spec)
    learner = _learner(quiz)
    spawn("poison", beat=True)
    sub = services.submission_create(user=learner, assignment=quiz, answer=RIGHT)
    wait_for(lambda: Submission.objects.get(pk=sub.pk).status == "failed", timeout=120, message="failed at the cap")
    sub.refresh_from_db()
    assert sub.grading_attempts == settings.GRADING_MAX_ATTEMPTS
    assert sub.failure_code == Submission.Failure.ATTEMPTS_EXHAUSTED
    assert "InvalidOperation" in sub.staff_log
    audit([sub.pk])
    told = Notification.objects.filter(user=teacher, kind="submission_failed")
    assert told.count() == 1
    from tests.twofactor import login_with_2fa

    login_with_2fa(client, learner)
    page = client.get(f"/submissions/{sub.pk}/status/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "could not be graded" in page and "Cette soumission" not in page


# --- regrades --------------------------------------------------------------------------------


def test_a_regrade_delivered_twice_while_it_runs_regrades_each_submission_once(spawn, client):
    quiz = make_quiz(points=4)
    teacher = _teacher(quiz)
    subs = _graded_subs(quiz, 40, RIGHT)
    spawn("regrade-twice", concurrency=2)
    job = services.regrade_start(user=teacher, assignment=quiz)
    tasks.regrade_run.apply_async((job.pk,))  # the same job delivered again, while it runs
    wait_for(lambda: RegradeJob.objects.get(pk=job.pk).status == "done", timeout=120, message="regrade done")
    time.sleep(1)
    assert _regraded(job) == 40
    audit([s.pk for s in subs], [job])
    for s in subs:  # one "graded" per regrade (completing the course also tells of a certificate)
        assert Notification.objects.filter(user=s.user, kind__in=["graded", "needs_revision"]).count() == 1
    from tests.twofactor import login_with_2fa

    login_with_2fa(client, teacher)
    assert "40 of 40 regraded" in client.get(f"/grading/regrades/{job.pk}/").content.decode()


def test_a_regrade_longer_than_the_visibility_timeout_is_not_redelivered_twice(transactional_db):
    """Redis hands an unacknowledged message to another consumer after the visibility timeout,
    running or not (RabbitMQ has none: its consumer_timeout closes the channel instead). Here the
    timeout is 6 s and the regrade takes longer: each submission is still regraded once."""
    redis = RedisServer().start()
    try:
        with publishing_to(redis.url):
            assignment = make_assignment("code", SLOW_SPEC, points=10)
            teacher = _teacher(assignment)
            subs = _graded_subs(assignment, 8, slow_code(1))
            env = base_env(
                DATABASE_URL=database_url(), DJANGO_SETTINGS_MODULE="config.settings.test",
                CELERY_BROKER_URL=redis.url, CELERY_VISIBILITY_TIMEOUT=6,
            )  # fmt: skip
            worker = Worker(name="visibility", concurrency=2, env=env).start()
            try:
                job = services.regrade_start(user=teacher, assignment=assignment)
                wait_for(lambda: RegradeJob.objects.get(pk=job.pk).status == "done", timeout=180, message="done")
                time.sleep(8)  # past another visibility timeout: a redelivery would show now
            finally:
                worker.stop()
    finally:
        redis.stop()
    assert _regraded(job) == 8
    audit([s.pk for s in subs], [job])


def test_a_warm_shutdown_stops_a_regrade_between_submissions(spawn):
    assignment = make_assignment("code", SLOW_SPEC, points=10)
    teacher = _teacher(assignment)
    subs = _graded_subs(assignment, 12, slow_code(1))
    worker = spawn("sigterm", concurrency=1)
    job = services.regrade_start(user=teacher, assignment=assignment)
    wait_for(lambda: _regraded(job) >= 2, timeout=120, message="two regraded")
    os.kill(worker.proc.pid, signal.SIGTERM)  # the main process only: a warm shutdown, not the pool's death
    at_term = _regraded(job)
    worker.proc.wait(120)  # a warm shutdown finishes the submission it grades, no more
    stopped_at = _regraded(job)
    assert stopped_at <= at_term + 1 < 12
    assert RegradeJob.objects.get(pk=job.pk).status != "done"
    spawn("after-sigterm", beat=True)
    wait_for(lambda: RegradeJob.objects.get(pk=job.pk).status == "done", timeout=180, message="resumed")
    assert _regraded(job) == 12
    audit([s.pk for s in subs], [job])


def test_a_regrade_whose_worker_is_killed_resumes_on_the_next_worker(spawn):
    """After a SIGKILL the next worker goes on at once with what was never started, and the
    sweeper hands over the submission that the dead worker held once its lease expires."""
    assignment = make_assignment("code", SLOW_SPEC, points=10)
    teacher = _teacher(assignment)
    subs = _graded_subs(assignment, 8, slow_code(1))
    worker = spawn("sigkill", concurrency=1)
    job = services.regrade_start(user=teacher, assignment=assignment)
    wait_for(lambda: _regraded(job) >= 2, timeout=120, message="two regraded")
    worker.kill()
    at_kill = _regraded(job)
    spawn("after-sigkill", concurrency=2)  # no beat: what resumes is what was waiting in the queue
    wait_for(lambda: _regraded(job) >= at_kill + 3, timeout=120, message="resumed without a sweeper")
    # The beat would do this every second: the item the dead worker held comes back once its
    # lease (6 s) expires.
    wait_for(lambda: services.regrade_sweep() >= 0 and _regraded(job) == 8, timeout=120, interval=1, message="all")
    wait_for(lambda: RegradeJob.objects.get(pk=job.pk).status == "done", timeout=30, message="done")
    audit([s.pk for s in subs], [job])


def test_a_regrade_scores_from_the_grader_of_today(spawn):
    quiz = make_quiz(points=4)
    teacher = _teacher(quiz)
    subs = _graded_subs(quiz, 3, RIGHT)
    spawn("regrade-score")
    job = services.regrade_start(user=teacher, assignment=quiz)
    wait_for(lambda: RegradeJob.objects.get(pk=job.pk).status == "done", timeout=60, message="done")
    assert {Submission.objects.get(pk=s.pk).score for s in subs} == {Decimal("4.00")}
    audit([s.pk for s in subs], [job])


# --- the sandbox itself failing ----------------------------------------------------------------


def test_a_sandbox_that_breaks_while_the_worker_runs_leaves_code_queued_and_tells_staff_once(spawn, tmp_path):
    """bwrap goes missing after the worker's start-up self-test passed: each code submission is
    retried, then left queued (never a score), the worker tests its sandbox again, records why and
    stops consuming the sandbox queue, and the course staff are told once."""
    import shutil

    from grading.models import SandboxHealth

    bwrap = tmp_path / "bwrap"
    bwrap.symlink_to(shutil.which("bwrap"))
    assignment = make_assignment("code", SLOW_SPEC, points=10)
    teacher = _teacher(assignment)
    worker = spawn("breaks", concurrency=1, KAFAAT_SANDBOX_BWRAP=bwrap)
    wait_for(lambda: SandboxHealth.objects.filter(hostname__startswith="breaks-", is_ok=True).exists(), timeout=60)
    bwrap.unlink()  # the sandbox breaks under the running worker
    subs = [_queued(assignment, _learner(assignment), slow_code(0)) for _ in range(2)]
    for sub in subs:
        tasks.submission_grade_code.delay(sub.pk)
    wait_for(
        lambda: SandboxHealth.objects.filter(hostname__startswith="breaks-", is_ok=False).exists(),
        timeout=90,
        message="the sandbox found broken again",
    )
    wait_for(lambda: "sandbox" not in _consumed(worker), timeout=60, message="the sandbox queue cancelled")
    # A task the worker had already taken may still be handing its submission back: wait for it.
    wait_for(
        lambda: not Submission.objects.filter(pk__in=[s.pk for s in subs], status=Submission.Status.RUNNING).exists(),
        timeout=60,
        message="every submission handed back",
    )
    for sub in Submission.objects.filter(pk__in=[s.pk for s in subs]):
        assert (sub.status, sub.score, sub.grading_attempts) == (Submission.Status.QUEUED, None, 0)
        assert not sub.grades.exists() and "bubblewrap not found" in sub.staff_log
    assert Notification.objects.filter(user=teacher, kind="grading_unavailable").count() == 1


def _consumed(worker: Worker) -> set[str]:
    """The queues the worker consumes now, as it answers (remote control over the broker)."""
    import socket

    from config.celery import app

    node = f"{worker.name}@{socket.gethostname()}"
    answer = app.control.inspect(destination=[node], timeout=2).active_queues() or {}
    return {q["name"] for q in answer.get(node, [])} if node in answer else {"sandbox"}

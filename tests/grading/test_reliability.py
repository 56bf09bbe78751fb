"""Reliability with real Celery worker processes over Redis: a dead broker at submit time, a
worker SIGKILLed mid-grade, the same task delivered twice, two workers on 500 submissions, and a
worker whose sandbox self-test fails (code submissions stay queued; /readyz and admin say why).

Tasks are published to queues of this module's own workers, so the session worker, if any
other test started it, cannot take them first."""

import subprocess
import sys
import time

import pytest
from django.utils import timezone

from grading import services, tasks
from grading.models import GradeRecord, SandboxHealth, Submission
from tests.factories import UserFactory, enroll, make_quiz
from tests.grading.helpers import make_assignment
from tests.processes import ROOT, Worker, base_env, free_port, wait_for
from tests.processes import test_database_url as database_url
from tests.twofactor import login_with_2fa

pytestmark = pytest.mark.worker

RIGHT = {"q1": ["a"], "q2": ["a", "c"]}


def _env(**extra):
    return base_env(DATABASE_URL=database_url(), DJANGO_SETTINGS_MODULE="config.settings.test", **extra)


def _queued(assignment, user, answer, attempt=1) -> Submission:
    """A stored, queued submission whose task this test publishes itself."""
    return Submission.objects.create(
        user=user,
        assignment=assignment,
        version=assignment.current_version,
        attempt=attempt,
        answer=answer,
        max_score=assignment.points,
    )


def test_broker_down_at_submit_time_the_submission_is_saved_then_graded_once(worker):
    quiz = make_quiz(points=4)
    learner = UserFactory()
    enroll(learner, quiz.course)
    script = (
        "import django, sys; django.setup()\n"
        "from courses.models import Assignment; from accounts.models import User\n"
        "from grading import services\n"
        "a = Assignment.objects.get(pk=int(sys.argv[1])); u = User.objects.get(pk=int(sys.argv[2]))\n"
        "s = services.submission_create(user=u, assignment=a, answer={'q1': ['a'], 'q2': ['a', 'c']})\n"
        "print(s.pk)\n"
    )
    dead = f"redis://127.0.0.1:{free_port()}/0"
    proc = subprocess.run(
        [sys.executable, "-c", script, str(quiz.pk), str(learner.pk)],
        cwd=ROOT,
        env=_env(CELERY_BROKER_URL=dead),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    sub = Submission.objects.get(pk=int(proc.stdout.strip().splitlines()[-1]))
    assert sub.status == Submission.Status.QUEUED
    time.sleep(1)
    assert Submission.objects.get(pk=sub.pk).status == Submission.Status.QUEUED  # nobody got the message

    Submission.objects.filter(pk=sub.pk).update(lease_expires_at=timezone.now() - timezone.timedelta(minutes=10))
    assert services.submissions_sweep_stuck() >= 1  # the broker is back: the sweeper enqueues it
    wait_for(lambda: Submission.objects.get(pk=sub.pk).status == "graded", timeout=90, message="grading")
    assert GradeRecord.objects.filter(submission=sub).count() == 1
    assert str(Submission.objects.get(pk=sub.pk).score) == "4.00"


def test_worker_killed_mid_grade_the_submission_is_graded_exactly_once(transactional_db):
    spec = {
        "entrypoint": "solve",
        "reference_solution": "def solve(x):\n    return x + 1\n",
        "public_tests": [{"id": "t1", "args": [1]}],
    }
    assignment = make_assignment("code", spec, points=10)
    learner = UserFactory()
    enroll(learner, assignment.course)
    slow = "import time\ndef solve(x):\n    time.sleep(5)\n    return x + 1\n"
    sub = _queued(assignment, learner, {"code": slow})

    victim = Worker(name="victim", queues="reliability-victim", concurrency=1, env=_env()).start()
    try:
        tasks.submission_grade_code.apply_async((sub.pk,), queue="reliability-victim")
        wait_for(lambda: Submission.objects.get(pk=sub.pk).status == "running", timeout=90, message="running")
        time.sleep(1)
        victim.kill()  # SIGKILL to the whole worker, mid-grade
    finally:
        victim.stop()
    assert Submission.objects.get(pk=sub.pk).status == Submission.Status.RUNNING

    rescuer = Worker(name="rescuer", queues="sandbox", concurrency=1, env=_env()).start()
    try:
        # Once its lease expires (no heartbeat renews it: 6 s in tests) the sweeper hands it over.
        wait_for(
            lambda: Submission.objects.get(pk=sub.pk).lease_expires_at < timezone.now(),
            timeout=30,
            message="the lease to expire",
        )
        assert services.submissions_sweep_stuck() >= 1
        wait_for(lambda: Submission.objects.get(pk=sub.pk).status == "graded", timeout=120, message="regrading")
    finally:
        rescuer.stop()
    sub.refresh_from_db()
    assert sub.score == 10
    assert sub.grading_attempts == 2
    assert GradeRecord.objects.filter(submission=sub).count() == 1


def test_two_workers_grade_500_submissions_each_exactly_once_even_when_delivered_twice(transactional_db):
    quiz = make_quiz(points=2)
    learners = UserFactory.create_batch(500)
    for learner in learners:
        enroll(learner, quiz.course)
    subs = Submission.objects.bulk_create(
        [
            Submission(user=u, assignment=quiz, version=quiz.current_version, attempt=1, answer=RIGHT, max_score=2)
            for u in learners
        ]
    )
    ids = [s.pk for s in subs]
    workers = [Worker(name=f"pair{i}", queues="reliability-pair", env=_env()).start() for i in range(2)]
    try:
        for pk in ids:
            # The same task, delivered twice (as a redelivery after a lost ack would).
            tasks.submission_grade.apply_async((pk,), queue="reliability-pair", task_id=f"grade-{pk}")
            tasks.submission_grade.apply_async((pk,), queue="reliability-pair", task_id=f"grade-{pk}")
        wait_for(
            lambda: Submission.objects.filter(pk__in=ids, status="graded").count() == len(ids),
            timeout=400,
            interval=1,
            message="500 submissions graded",
        )
        time.sleep(2)  # let the duplicate deliveries drain
    finally:
        for w in workers:
            w.stop()
    assert GradeRecord.objects.filter(submission_id__in=ids).count() == 500
    assert set(Submission.objects.filter(pk__in=ids).values_list("grading_attempts", flat=True)) == {1}
    logs = "".join(w.log_path.read_text() for w in workers)
    assert "succeeded" in logs


def test_a_worker_whose_sandbox_self_test_fails_leaves_code_submissions_queued(transactional_db, client):
    spec = {
        "entrypoint": "solve",
        "reference_solution": "def solve(x):\n    return x\n",
        "public_tests": [{"id": "t1", "args": [1]}],
    }
    assignment = make_assignment("code", spec)
    learner = UserFactory()
    enroll(learner, assignment.course)
    sub = _queued(assignment, learner, {"code": "def solve(x):\n    return x\n"})

    broken = Worker(
        name="broken",
        queues="sandbox,reliability-broken",
        concurrency=1,
        env=_env(KAFAAT_SANDBOX_BWRAP="/nonexistent/bwrap"),
    ).start()
    try:
        health = wait_for(
            lambda: SandboxHealth.objects.filter(hostname__startswith="broken@").first(), timeout=60, message="report"
        )
        assert not health.is_ok and "bubblewrap not found" in health.detail
        wait_for(lambda: "Canceling queue sandbox" in broken.log_path.read_text(), timeout=30, message="cancel")
        # Even a task that reaches it (here on its other queue) puts the submission back, untouched.
        tasks.submission_grade_code.apply_async((sub.pk,), queue="reliability-broken")
        wait_for(lambda: "waiting:" in Submission.objects.get(pk=sub.pk).staff_log, timeout=60, message="release")
    finally:
        broken.stop()
    sub.refresh_from_db()
    assert sub.status == Submission.Status.QUEUED and sub.score is None
    assert not GradeRecord.objects.filter(submission=sub).exists()

    assert client.get("/readyz").json()["checks"]["sandbox"] == "failing"  # anonymous: which check, not why
    staff = UserFactory(is_staff=True, is_superuser=True)
    login_with_2fa(client, staff)
    assert "bubblewrap not found" in client.get("/readyz").json()["checks"]["sandbox"]
    page = client.get("/admin/grading/submission/")
    assert "bubblewrap not found" in page.content.decode()

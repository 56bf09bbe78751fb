"""The sandbox in real Celery worker processes over Redis (issue 11): a pool child that billiard
replaces after a kill grades correct code right, run after run, and leaves no zombie; a sandbox
that cannot fork leaves the code submission queued, ungraded. Each test publishes to a queue of
its own worker, so no other worker can take its tasks."""

import os
import signal

import pytest

from grading import tasks
from grading.models import GradeRecord, SandboxHealth, Submission
from tests.assessment.sandbox_helpers import children_of, slot_uid, zombies_of, zombies_under
from tests.factories import UserFactory, enroll
from tests.grading.helpers import CODE_SPEC, make_assignment
from tests.processes import Worker, base_env, wait_for
from tests.processes import test_database_url as database_url

pytestmark = pytest.mark.worker

RIGHT = {"code": "def solve(a, b):\n    return a + b\n"}


def _env(**extra):
    return base_env(DATABASE_URL=database_url(), DJANGO_SETTINGS_MODULE="config.settings.test", **extra)


def _queued(assignment, user) -> Submission:
    return Submission.objects.create(
        user=user, assignment=assignment, version=assignment.current_version, attempt=1, answer=RIGHT, max_score=20
    )


def _pool(worker: Worker) -> list[int]:
    return sorted(p.pid for p in children_of(worker.proc.pid))


def test_a_replaced_pool_child_grades_every_correct_submission_and_leaves_no_zombie(transactional_db):
    assignment = make_assignment("code", CODE_SPEC, points=20)  # one public, two hidden: two runs a grade
    learners = UserFactory.create_batch(41)
    for learner in learners:
        enroll(learner, assignment.course)
    # One slot: every run uses the same uid, so leaked zombies add up against one RLIMIT_NPROC (32).
    worker = Worker(
        name="replaced", queues="sandbox,sandbox-replaced", concurrency=2, env=_env(KAFAAT_SANDBOX_SLOTS="1")
    ).start()
    try:
        # The self-test ran in the worker's main process (worker_ready) before the pool is used.
        wait_for(lambda: SandboxHealth.objects.filter(hostname__startswith="replaced@", is_ok=True).exists())
        first = _queued(assignment, learners[0])
        tasks.submission_grade_code.apply_async((first.pk,), queue="sandbox-replaced")
        wait_for(lambda: Submission.objects.get(pk=first.pk).status == "graded", timeout=90, message="first grade")

        pool = wait_for(lambda: p if len(p := _pool(worker)) == 2 else None, message="two pool children")
        os.kill(pool[0], signal.SIGKILL)  # one idle child, not the worker: billiard forks a new one
        wait_for(lambda: len(p := _pool(worker)) == 2 and pool[0] not in p, timeout=60, message="a replacement child")

        subs = [_queued(assignment, learner) for learner in learners[1:]]
        for sub in subs:
            tasks.submission_grade_code.apply_async((sub.pk,), queue="sandbox-replaced")
        ids = [s.pk for s in subs]
        wait_for(
            lambda: not Submission.objects.filter(pk__in=ids, status__in=["queued", "running"]).exists(),
            timeout=400,
            interval=0.5,
            message="40 grades",
        )
        zombies = zombies_under({worker.proc.pid, *_pool(worker)})
    finally:
        worker.stop()
    assert Submission.objects.get(pk=first.pk).score == 20
    outcomes = list(Submission.objects.filter(pk__in=ids).values_list("status", "score"))
    assert outcomes == [("graded", 20)] * 40
    assert zombies == []


def test_a_code_submission_whose_sandbox_cannot_fork_stays_queued_with_no_grade(transactional_db):
    assignment = make_assignment("code", CODE_SPEC, points=20)
    learner = UserFactory()
    enroll(learner, assignment.course)
    sub = _queued(assignment, learner)
    worker = Worker(name="nofork", queues="sandbox-nofork", concurrency=1, env=_env(KAFAAT_SANDBOX_SLOTS="1")).start()
    try:
        with zombies_of(slot_uid(0), 40):  # the slot uid has no process left to give
            tasks.submission_grade_code.apply_async((sub.pk,), queue="sandbox-nofork")
            wait_for(lambda: "waiting:" in Submission.objects.get(pk=sub.pk).staff_log, timeout=90, message="release")
    finally:
        worker.stop()
    sub.refresh_from_db()
    assert (sub.status, sub.score, sub.graded_at) == (Submission.Status.QUEUED, None, None)
    assert "Resource temporarily unavailable" in sub.staff_log
    assert not GradeRecord.objects.filter(submission=sub).exists()

"""What grading quizzes costs, and the side effects it leaves to a batch (kernel.events' deferred
handlers): a quiz is graded with the other queued quizzes (up to GRADING_BATCH_SIZE) in a constant
12 queries in one transaction, and each later task of a graded one is a single query; the
learner's notification and the course's completion follow from a batch of grades in a constant
number of queries, once each, and still happen end to end with a real worker."""

import dataclasses
import threading
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import DataError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from assessment.kinds import get_grader
from certificates.models import Certificate
from courses.models import Enrollment
from grading import attempts, selectors, services
from grading.models import GradeRecord, Submission
from kernel import events
from kernel.models import OutboxEvent
from learning.models import Notification
from tests.factories import UserFactory, enroll, make_quiz
from tests.processes import wait_for, worker_task_names

RIGHT = {"q1": ["a"], "q2": ["a", "c"]}
WRONG = {"q1": ["b"], "q2": ["a"]}


def _stored(quiz, learners, answer=RIGHT) -> list[int]:
    """One queued submission per learner (in the test's transaction: no grading task is sent, the
    test grades them itself)."""
    return [services.submission_create(user=learner, assignment=quiz, answer=answer).pk for learner in learners]


def _learners(quiz, n):
    learners = [UserFactory() for _ in range(n)]
    for learner in learners:
        enroll(learner, quiz.course)
    return learners


def _poison(monkeypatch, poisoned):
    """Course completion raises for any batch holding `poisoned`'s event; returns the real one."""
    real = services.completions_refresh

    def fails_for_one(*, events):
        if any(e.payload["submission_id"] == poisoned for e in events):
            raise RuntimeError("a bug")
        return real(events=events)

    monkeypatch.setattr(services, "completions_refresh", fails_for_one)
    return real


QUERIES_PER_BATCH = 12


@pytest.mark.django_db
def test_grading_one_quiz_takes_twelve_queries_in_one_transaction(django_assert_num_queries):
    quiz = make_quiz(points=10)
    (pk,) = _stored(quiz, _learners(quiz, 1))
    # See it waits; lock and claim the row; look for other queued quizzes; record the score, mark
    # the learner's latest graded attempt (the pair's lock, one update), its GradeRecord and its
    # outbox event, look for LTI links, in one transaction (BEGIN/COMMIT are savepoints inside the
    # test's own transaction).
    with django_assert_num_queries(QUERIES_PER_BATCH):
        services.submission_grade(submission_id=pk)
    sub = Submission.objects.get(pk=pk)
    assert sub.status == Submission.Status.GRADED and sub.score == 10 and sub.grading_attempts == 1
    assert sub.claim_token == "" and sub.lease_expires_at is None
    event = OutboxEvent.objects.get(event_type="submission.graded", payload__submission_id=pk)
    assert event.is_deferred_pending
    # Nothing of the deferred side effects yet: they wait for the batch.
    assert not Notification.objects.filter(user_id=sub.user_id).exists()
    assert Enrollment.objects.get(user_id=sub.user_id).completed_at is None


@pytest.mark.django_db
def test_a_quiz_grades_the_queued_ones_with_it_in_the_same_queries_as_one_alone(django_assert_num_queries):
    quiz = make_quiz(points=10, attempts_allowed=3)
    learners = _learners(quiz, 6)
    first, *others = _stored(quiz, learners[:3]) + _stored(quiz, learners[3:], answer=WRONG)
    with django_assert_num_queries(QUERIES_PER_BATCH):
        services.submission_grade(submission_id=first, token="task-1/0")
    subs = Submission.objects.filter(pk__in=[first, *others]).order_by("pk")
    assert [(s.status, s.score, s.grading_attempts) for s in subs] == [("graded", 10, 1)] * 3 + [("graded", 0, 1)] * 3
    assert all(s.claim_token == "" and s.lease_expires_at is None and s.started_at for s in subs)
    assert all(s.graded_at == subs[0].graded_at for s in subs)
    grade = get_grader("quiz")
    assert all(s.feedback == grade(attempts.submission_spec(s), s.answer).feedback for s in subs)
    records = GradeRecord.objects.filter(submission_id__in=[first, *others])
    assert sorted(records.values_list("submission_id", "score", "source")) == [(s.pk, s.score, "auto") for s in subs]
    graded = OutboxEvent.objects.filter(event_type="submission.graded").order_by("id")
    assert [(e.payload["submission_id"], e.user_id, e.is_deferred_pending) for e in graded] == [
        (s.pk, s.user_id, True) for s in subs
    ]
    assert graded[0].payload == {
        "submission_id": first, "assignment_id": quiz.pk, "course_code": quiz.course.code, "score": "10.00",
        "max_score": "10.00", "graded_at": subs[0].graded_at.isoformat(),
    }  # fmt: skip
    # Each is its learner's latest graded attempt, as the maintained flag and the definition agree.
    assert all(s.is_latest_graded for s in subs)
    assert set(selectors.latest_graded_computed().values_list("pk", flat=True)) == {s.pk for s in subs}
    # Their own tasks come later: one query each, and nothing written twice.
    for pk in others:
        with django_assert_num_queries(1):
            assert services.submission_grade(submission_id=pk) is None
    assert records.count() == 6 and graded.count() == 6
    # The deferred side effects are the same as for grades one by one.
    assert events.deferred_run() == 6
    assert Enrollment.objects.filter(course=quiz.course, completed_at__isnull=False).count() == 3
    assert Notification.objects.filter(kind="graded").count() == 3
    assert Notification.objects.filter(kind="needs_revision").count() == 3


@pytest.mark.django_db
def test_the_batch_stops_at_its_size_and_takes_the_oldest_first(settings):
    settings.GRADING_BATCH_SIZE = 3
    quiz = make_quiz(points=10)
    ids = _stored(quiz, _learners(quiz, 5))
    services.submission_grade(submission_id=ids[3])
    graded = set(Submission.objects.filter(status="graded").values_list("pk", flat=True))
    assert graded == {ids[3], ids[0], ids[1]}


@pytest.mark.django_db
def test_a_late_quiz_in_the_batch_gets_its_own_penalty():
    due = timezone.now() - timedelta(days=10)
    quiz = make_quiz(points=10, due_at=due, late_penalty_per_day=Decimal(10))
    on_time, late = _stored(quiz, _learners(quiz, 2))
    Submission.objects.filter(pk=on_time).update(submitted_at=due - timedelta(days=1))
    Submission.objects.filter(pk=late).update(submitted_at=due + timedelta(days=2, hours=12))
    services.submission_grade(submission_id=on_time)
    assert dict(Submission.objects.values_list("pk", "score")) == {on_time: 10, late: 7}  # 3 days: -30 %
    assert Submission.objects.get(pk=late).feedback["late"]["days"] == 3
    assert "late" not in Submission.objects.get(pk=on_time).feedback


@pytest.mark.django_db
def test_a_queued_quiz_the_batch_cannot_grade_is_left_untouched_for_its_own_task(monkeypatch):
    quiz = make_quiz(points=10)
    first, erring, reviewed, fine = _stored(quiz, _learners(quiz, 4))
    real = services._run_grader

    def run(sub):
        result, error = real(sub)
        if sub.pk == erring:
            return None, "a bug in the quiz"
        if sub.pk == reviewed:
            return dataclasses.replace(result, needs_review=True), None
        return result, error

    monkeypatch.setattr(services, "_run_grader", run)
    seen = ("status", "grading_attempts", "lease_expires_at", "updated_at", "claim_token", "started_at")
    before = {row[0]: row[1:] for row in Submission.objects.values_list("pk", *seen)}
    services.submission_grade(submission_id=first)
    after = {row[0]: row[1:] for row in Submission.objects.values_list("pk", *seen)}
    assert after[erring] == before[erring] and after[reviewed] == before[reviewed]
    assert after[first][0] == after[fine][0] == "graded"
    assert not GradeRecord.objects.filter(submission_id__in=[erring, reviewed]).exists()
    # Their own task grades them as before: a failure, a review.
    services.submission_grade(submission_id=erring)
    services.submission_grade(submission_id=reviewed)
    statuses = dict(Submission.objects.values_list("pk", "status"))
    assert (statuses[erring], statuses[reviewed]) == ("failed", "needs_review")


@pytest.mark.django_db
def test_a_batch_whose_write_fails_grades_the_asked_for_quiz_alone_and_leaves_the_others_queued(monkeypatch):
    quiz = make_quiz(points=10)
    first, other = _stored(quiz, _learners(quiz, 2))
    real = GradeRecord.objects.bulk_create

    def fails_for_a_batch(objs, **kwargs):
        if len(objs) > 1:
            raise DataError("value too long")
        return real(objs, **kwargs)

    monkeypatch.setattr(GradeRecord.objects, "bulk_create", fails_for_a_batch)
    services.submission_grade(submission_id=first, token="task-1/0")
    statuses = dict(Submission.objects.values_list("pk", "status"))
    assert statuses == {first: "graded", other: "queued"}
    assert Submission.objects.get(pk=first).grading_attempts == 1
    assert Submission.objects.get(pk=other).grading_attempts == 0
    assert OutboxEvent.objects.filter(event_type="submission.graded").count() == 1


@contextmanager
def _held_by_another_worker(pk: int):
    """Another worker's transaction holds submission `pk`'s row lock (and grades nothing) until
    the block ends."""
    locked, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                Submission.objects.select_for_update().get(pk=pk)
                locked.set()
                release.wait(30)
        finally:
            connection.close()

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert locked.wait(10)
        yield
    finally:
        release.set()
        thread.join(30)


@pytest.mark.django_db(transaction=True)
def test_a_queued_quiz_another_worker_holds_is_skipped_not_waited_for(monkeypatch):
    # Committed submissions: no grading task is sent (the session's worker would grade them).
    monkeypatch.setattr(services, "enqueue_grading", lambda **kwargs: True)
    quiz = make_quiz(points=10)
    first, held, free = _stored(quiz, _learners(quiz, 3))
    with _held_by_another_worker(held):
        services.submission_grade(submission_id=first)  # would block here if it waited for the lock
        statuses = dict(Submission.objects.values_list("pk", "status"))
    assert statuses == {first: "graded", held: "queued", free: "graded"}


@pytest.mark.django_db(transaction=True)
def test_a_task_whose_quiz_another_worker_holds_grades_the_queued_ones_then_waits_for_its_own(monkeypatch):
    monkeypatch.setattr(services, "enqueue_grading", lambda **kwargs: True)  # no task: this test grades
    quiz = make_quiz(points=10)
    held, *queued = _stored(quiz, _learners(quiz, 3))
    graded = []

    def task():
        try:
            graded.append(services.submission_grade(submission_id=held))
        finally:
            connection.close()

    thread = threading.Thread(target=task)
    with _held_by_another_worker(held):
        thread.start()
        wait_for(
            lambda: Submission.objects.filter(pk__in=queued, status="graded").count() == 2,
            timeout=20,
            message="the queued quizzes graded while the task's own is held",
        )
        assert Submission.objects.get(pk=held).status == "queued"
        assert thread.is_alive()  # it waits for its own
    thread.join(30)
    assert graded and graded[0].pk == held
    assert dict(Submission.objects.values_list("pk", "status")) == dict.fromkeys([held, *queued], "graded")
    assert GradeRecord.objects.count() == 3


@pytest.mark.django_db
def test_a_quiz_queued_again_after_its_grade_could_not_be_stored_is_left_to_its_own_task():
    quiz = make_quiz(points=10)
    first, retried, fresh = _stored(quiz, _learners(quiz, 3))
    Submission.objects.filter(pk=retried).update(grading_attempts=1)  # as _grade_not_recorded leaves it
    services.submission_grade(submission_id=first)
    assert dict(Submission.objects.values_list("pk", "status")) == {first: "graded", retried: "queued", fresh: "graded"}


@pytest.mark.django_db
def test_a_batch_size_of_one_grades_each_quiz_alone(settings):
    settings.GRADING_BATCH_SIZE = 1
    quiz = make_quiz(points=10)
    first, other = _stored(quiz, _learners(quiz, 2))
    services.submission_grade(submission_id=first)
    assert dict(Submission.objects.values_list("pk", "status")) == {first: "graded", other: "queued"}


@pytest.mark.django_db
def test_grading_a_quiz_again_is_a_no_op(django_assert_num_queries):
    quiz = make_quiz(points=10)
    (pk,) = _stored(quiz, _learners(quiz, 1))
    services.submission_grade(submission_id=pk)
    with django_assert_num_queries(1):  # see it graded, leave
        assert services.submission_grade(submission_id=pk) is None
    assert GradeRecord.objects.filter(submission_id=pk).count() == 1
    assert OutboxEvent.objects.filter(event_type="submission.graded").count() == 1


def _batch_queries(quiz, n: int) -> int:
    for pk in _stored(quiz, _learners(quiz, n), answer=WRONG):
        services.submission_grade(submission_id=pk)
    with CaptureQueriesContext(connection) as ctx:
        assert events.deferred_run() == n
    return len(ctx.captured_queries)


@pytest.mark.django_db
def test_the_batch_of_side_effects_takes_the_same_queries_for_one_grade_or_many():
    quiz = make_quiz(points=10, attempts_allowed=3)
    one, many = _batch_queries(quiz, 1), _batch_queries(quiz, 6)
    assert one == many
    assert Notification.objects.filter(kind="needs_revision").count() == 7
    assert not Enrollment.objects.filter(completed_at__isnull=False).exists()
    assert not OutboxEvent.objects.filter(is_deferred_pending=True).exists()


@pytest.mark.django_db
def test_a_batch_completes_each_course_once_and_tells_each_learner_once():
    quiz = make_quiz(points=10)
    learners = _learners(quiz, 3)
    for pk in _stored(quiz, learners) + _stored(quiz, learners[:1]):  # the first learner passes twice
        services.submission_grade(submission_id=pk)
    assert events.deferred_run() == 4
    assert events.deferred_run() == 0  # handled once
    assert Enrollment.objects.filter(course=quiz.course, completed_at__isnull=False).count() == 3
    completed = OutboxEvent.objects.filter(event_type="course.completed")
    assert sorted(completed.values_list("user_id", flat=True)) == sorted(u.pk for u in learners)
    assert not completed.filter(is_deferred_pending=True).exists()
    assert Notification.objects.filter(kind="graded").count() == 4  # one per grade
    first_graded = OutboxEvent.objects.filter(event_type="submission.graded").order_by("id").first()
    assert completed.order_by("id").first().pk > first_graded.pk  # universities hear the grade first


@pytest.mark.django_db
def test_a_batch_whose_handler_fails_is_tried_event_by_event_and_the_failing_one_stays_pending(monkeypatch):
    quiz = make_quiz(points=10)
    ids = _stored(quiz, _learners(quiz, 3))
    for pk in ids:
        services.submission_grade(submission_id=pk)
    poisoned = ids[1]
    real = _poison(monkeypatch, poisoned)
    assert events.deferred_run() == 2
    pending = OutboxEvent.objects.filter(is_deferred_pending=True)
    assert [e.payload["submission_id"] for e in pending] == [poisoned]
    # Nothing half-done for it: neither its notification nor its completion.
    poisoned_user = Submission.objects.get(pk=poisoned).user_id
    assert not Notification.objects.filter(user_id=poisoned_user).exists()
    monkeypatch.setattr(services, "completions_refresh", real)
    assert events.deferred_run() == 1
    assert Enrollment.objects.get(user_id=poisoned_user).completed_at is not None


@pytest.mark.django_db
def test_an_event_whose_handler_always_fails_leaves_the_queue_after_five_runs_and_blocks_nothing(monkeypatch):
    quiz = make_quiz(points=10)
    ids = _stored(quiz, _learners(quiz, 2))
    for pk in ids:
        services.submission_grade(submission_id=pk)
    poisoned, later = ids
    _poison(monkeypatch, poisoned)
    # One row per run: the poisoned one is the oldest, so it is all each run takes, until given up.
    for _ in range(events.DEFERRED_MAX_FAILURES - 1):
        assert events.deferred_run(limit=1) == 0
        assert OutboxEvent.objects.filter(is_deferred_pending=True).count() == 2
    assert events.deferred_run(limit=1) == 0
    pending = OutboxEvent.objects.filter(is_deferred_pending=True)
    assert [e.payload["submission_id"] for e in pending] == [later]
    assert events.deferred_run(limit=1) == 1
    assert Enrollment.objects.get(user=Submission.objects.get(pk=later).user).completed_at is not None


@pytest.mark.django_db
def test_a_grade_given_by_hand_runs_the_deferred_handlers_in_its_own_transaction():
    quiz = make_quiz(points=10)
    (learner,) = _learners(quiz, 1)
    sub = Submission.objects.get(pk=_stored(quiz, [learner], answer=WRONG)[0])
    services.submission_grade(submission_id=sub.pk)
    events.deferred_run()
    with transaction.atomic():
        locked = Submission.objects.select_for_update().select_related("assignment__course", "user").get(pk=sub.pk)
        services.grade_record(locked, source=GradeRecord.Source.OVERRIDE, score=Decimal(10))
    assert Enrollment.objects.get(user=learner).completed_at is not None
    assert not OutboxEvent.objects.filter(is_deferred_pending=True).exists()


@pytest.mark.worker
def test_a_burst_of_quizzes_gets_its_notifications_completions_and_certificates_through_the_worker(worker):
    quiz = make_quiz(points=10)
    learners = _learners(quiz, 5)
    for learner in learners:
        services.submission_create(user=learner, assignment=quiz, answer=RIGHT)

    wait_for(
        lambda: Certificate.objects.filter(course=quiz.course).count() == len(learners),
        timeout=90,
        message="a certificate for each learner",
    )
    assert Submission.objects.filter(assignment=quiz, status="graded").count() == len(learners)
    assert Enrollment.objects.filter(course=quiz.course, completed_at__isnull=False).count() == len(learners)
    assert OutboxEvent.objects.filter(event_type="course.completed").count() == len(learners)
    wait_for(
        lambda: Notification.objects.filter(kind="graded", emailed_at__isnull=False).count() == len(learners),
        timeout=90,
        message="the e-mailed grade notifications",
    )
    assert not OutboxEvent.objects.filter(is_deferred_pending=True).exists()


def test_the_batch_tasks_are_pinned_and_routed_to_the_events_queue():
    from django.conf import settings

    assert {"kernel.deferred_run", "learning.notification_emails"} <= worker_task_names()
    routes = settings.CELERY_TASK_ROUTES
    assert routes["kernel.*"] == {"queue": "events"} and routes["learning.*"] == {"queue": "events"}

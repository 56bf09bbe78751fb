"""What grading one quiz costs, and the side effects it leaves to a batch (kernel.events' deferred
handlers): a quiz grade is a constant 10 queries in one transaction; the learner's notification and
the course's completion follow from a batch of grades in a constant number of queries, once each,
and still happen end to end with a real worker."""

from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from certificates.models import Certificate
from courses.models import Enrollment
from grading import services
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


@pytest.mark.django_db
def test_grading_one_quiz_takes_ten_queries_in_one_transaction(django_assert_num_queries):
    quiz = make_quiz(points=10)
    (pk,) = _stored(quiz, _learners(quiz, 1))
    # Lock and claim the row, record the score, mark the learner's latest graded attempt (the
    # pair's lock, one update), its GradeRecord and its outbox event, look for LTI links, in one
    # transaction (BEGIN/COMMIT are savepoints inside the test's own transaction).
    with django_assert_num_queries(10):
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
def test_grading_a_quiz_again_is_a_no_op(django_assert_num_queries):
    quiz = make_quiz(points=10)
    (pk,) = _stored(quiz, _learners(quiz, 1))
    services.submission_grade(submission_id=pk)
    with django_assert_num_queries(3):  # lock, see it graded, leave
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

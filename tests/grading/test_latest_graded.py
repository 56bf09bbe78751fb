"""Submission.is_latest_graded, maintained by grading's writers, equals "the latest graded attempt"
computed from the attempts (`selectors.latest_graded_computed`) after every kind of write: a grade,
a later or an earlier attempt graded, a regrade, an override, an essay's review, a submission
deleted or edited by hand, a privacy erasure; the migration's backfill and the bulk backfill agree
too, and two attempts graded at once leave one latest."""

import importlib
import threading
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from analytics import services as analytics_services
from assessment.kinds import GradeResult
from grading import selectors, services
from grading.admin import SubmissionAdmin
from grading.models import GradeRecord, RegradeItem, Submission
from privacy.services import account_erase
from tests.factories import CourseFactory, UserFactory, enroll, make_quiz
from tests.grading.helpers import ESSAY_SPEC, make_assignment

RIGHT = {"q1": ["a"], "q2": ["a", "c"]}
WRONG = {"q1": ["b"], "q2": ["a"]}


def assert_agrees():
    maintained = set(Submission.objects.filter(is_latest_graded=True).values_list("pk", flat=True))
    computed = set(selectors.latest_graded_computed().values_list("pk", flat=True))
    assert maintained == computed


def _latest(user, assignment) -> list[int]:
    return list(
        Submission.objects.filter(user=user, assignment=assignment, is_latest_graded=True).values_list(
            "attempt", flat=True
        )
    )


def _quiz_and_learner(**fields):
    quiz = make_quiz(points=10, **fields)
    user = UserFactory()
    enroll(user, quiz.course)
    return quiz, user


def _graded(quiz, user, answer=RIGHT) -> Submission:
    sub = services.submission_create(user=user, assignment=quiz, answer=answer)
    services.submission_grade(submission_id=sub.pk)
    return Submission.objects.get(pk=sub.pk)


def _teacher(course):
    teacher = UserFactory()
    course.instructors.add(teacher)
    return teacher


@pytest.mark.django_db
def test_each_new_graded_attempt_becomes_the_latest_and_an_earlier_one_graded_later_does_not():
    quiz, user = _quiz_and_learner()
    _graded(quiz, user, WRONG)
    assert _latest(user, quiz) == [1]
    _graded(quiz, user, RIGHT)
    assert _latest(user, quiz) == [2]
    assert_agrees()
    # Attempt 3 waits queued, attempt 4 is graded first, then attempt 3: 4 stays the latest.
    third = services.submission_create(user=user, assignment=quiz, answer=WRONG)
    _graded(quiz, user, RIGHT)
    assert _latest(user, quiz) == [4]
    services.submission_grade(submission_id=third.pk)
    assert _latest(user, quiz) == [4]
    assert_agrees()


@pytest.mark.django_db
def test_a_queued_or_failed_newer_attempt_does_not_hide_the_latest_graded_one():
    quiz, user = _quiz_and_learner()
    _graded(quiz, user, WRONG)
    services.submission_create(user=user, assignment=quiz, answer=RIGHT)  # queued
    assert _latest(user, quiz) == [1]
    assert_agrees()


@pytest.mark.django_db
def test_a_regrade_of_an_earlier_attempt_keeps_the_latest():
    quiz, user = _quiz_and_learner()
    first = _graded(quiz, user, WRONG)
    _graded(quiz, user, RIGHT)
    job = services.regrade_start(user=_teacher(quiz.course), assignment=quiz, submission=first)
    services.regrade_run(job_id=job.pk)
    for item in RegradeItem.objects.filter(job=job):
        services.regrade_item_run(item_id=item.pk)
    assert GradeRecord.objects.filter(submission=first, source=GradeRecord.Source.REGRADE).exists()
    assert _latest(user, quiz) == [2]
    assert_agrees()


@pytest.mark.django_db
def test_an_override_of_a_failed_latest_attempt_makes_it_the_latest_graded():
    quiz, user = _quiz_and_learner()
    _graded(quiz, user, WRONG)
    second = services.submission_create(user=user, assignment=quiz, answer=RIGHT)
    Submission.objects.filter(pk=second.pk).update(status=Submission.Status.FAILED)
    assert _latest(user, quiz) == [1]
    analytics_services.grade_override(
        actor=_teacher(quiz.course), course=quiz.course, learner=user, assignment=quiz, score=7, reason="oral exam"
    )
    assert _latest(user, quiz) == [2]
    assert Submission.objects.get(pk=second.pk).score == Decimal("7.00")
    assert_agrees()


@pytest.mark.django_db
def test_an_override_of_a_queued_latest_attempt_leaves_the_latest_graded_one():
    quiz, user = _quiz_and_learner()
    _graded(quiz, user, WRONG)
    services.submission_create(user=user, assignment=quiz, answer=RIGHT)  # queued: its grade comes later
    analytics_services.grade_override(
        actor=_teacher(quiz.course), course=quiz.course, learner=user, assignment=quiz, score=7, reason="oral exam"
    )
    assert _latest(user, quiz) == [1]
    assert_agrees()


@pytest.mark.django_db
def test_an_essay_graded_by_review_becomes_the_latest_graded():
    essay = make_assignment("essay", ESSAY_SPEC)
    user = UserFactory()
    enroll(user, essay.course)
    sub = services.submission_create(user=user, assignment=essay, answer={"text": "a sound argument with sources"})
    services.submission_grade(submission_id=sub.pk)
    assert Submission.objects.get(pk=sub.pk).status == Submission.Status.NEEDS_REVIEW
    assert _latest(user, essay) == []
    services.submission_review(
        reviewer=_teacher(essay.course), submission=sub, levels={"c1": "l2", "c2": "l1"}, feedback="Good."
    )
    assert _latest(user, essay) == [1]
    assert_agrees()


@pytest.mark.django_db
def test_deleting_the_latest_graded_attempt_makes_the_previous_graded_one_the_latest():
    quiz, user = _quiz_and_learner()
    _graded(quiz, user, WRONG)
    _graded(quiz, user, RIGHT)
    latest = Submission.objects.get(user=user, assignment=quiz, attempt=2)
    with CaptureQueriesContext(connection) as ctx:
        assert services.submissions_delete(submissions=Submission.objects.filter(pk=latest.pk)) == 1
    assert sum("pg_advisory_xact_lock" in q["sql"] for q in ctx.captured_queries) == 1  # locked once
    assert _latest(user, quiz) == [1]
    assert_agrees()
    services.submissions_delete(submissions=Submission.objects.filter(user=user))
    assert_agrees()


@pytest.mark.django_db
def test_the_admin_deletes_and_edits_submissions_through_grading(rf):
    quiz, user = _quiz_and_learner()
    first = _graded(quiz, user, WRONG)
    second = _graded(quiz, user, RIGHT)
    admin = SubmissionAdmin(Submission, None)
    request = rf.post("/")
    admin.delete_queryset(request, Submission.objects.filter(pk=second.pk))
    assert _latest(user, quiz) == [1]
    first.status = Submission.Status.FAILED  # edited by hand
    admin.save_model(request, first, form=None, change=True)
    assert _latest(user, quiz) == []
    assert_agrees()


@pytest.mark.django_db
def test_a_privacy_erasure_keeps_the_latest_graded_attempts():
    quiz, user = _quiz_and_learner()
    _graded(quiz, user, WRONG)
    _graded(quiz, user, RIGHT)
    assert account_erase(user_id=user.pk)
    assert _latest(user, quiz) == [2]
    assert_agrees()


def _mixed_attempts():
    """Learners with every mix of statuses over three attempts, flags cleared."""
    quiz = make_quiz(points=10, course=CourseFactory())
    statuses = ["graded", "queued", "failed", "needs_review"]
    for i, combo in enumerate([(a, b, c) for a in statuses for b in statuses for c in statuses][::3]):
        user = UserFactory(email=f"mix{i}@example.org")
        for attempt, status in enumerate(combo, start=1):
            Submission.objects.create(
                user=user, assignment=quiz, version=quiz.current_version, attempt=attempt, answer={}, status=status,
                score=Decimal(attempt) if status == "graded" else None, max_score=Decimal(10),
            )  # fmt: skip
    Submission.objects.update(is_latest_graded=False)


@pytest.mark.django_db
def test_the_bulk_backfill_agrees_with_the_attempts():
    _mixed_attempts()
    marked = services.latest_graded_backfill()
    assert marked == selectors.latest_graded_computed().count() > 0
    assert_agrees()


@pytest.mark.django_db
def test_the_migrations_batched_backfill_agrees_with_the_attempts(monkeypatch):
    _mixed_attempts()
    migration = importlib.import_module("grading.migrations.0006_submission_is_latest_graded")
    monkeypatch.setattr(migration, "BATCH", 5)  # several batches on a few rows
    migration.backfill(apps, connection.schema_editor())
    assert_agrees()


@pytest.mark.django_db(transaction=True)
def test_two_attempts_graded_at_once_leave_one_latest(monkeypatch):
    """Two transactions grade attempts 1 and 2 of one learner at the same moment; each would see
    only its own grade without the pair's lock. One of them is the latest afterwards: attempt 2.
    (The suite runs on PostgreSQL, config.settings.test: the lock is PostgreSQL's.)"""
    # Committed submissions: no grading task is sent (the session's worker would grade them too).
    monkeypatch.setattr(services, "enqueue_grading", lambda **kwargs: True)
    quiz, user = _quiz_and_learner()
    subs = [services.submission_create(user=user, assignment=quiz, answer=RIGHT) for _ in range(2)]
    barrier = threading.Barrier(2)
    errors = []

    def grade(sub):
        try:
            with transaction.atomic():
                locked = (
                    Submission.objects.select_for_update(of=("self",))
                    .select_related("assignment__course", "user")
                    .get(pk=sub.pk)
                )
                locked.status = Submission.Status.RUNNING
                locked.save(update_fields=["status"])
                barrier.wait(timeout=10)
                services.grade_record(locked, source=GradeRecord.Source.AUTO, result=GradeResult(score=5, max_score=10))
        except Exception as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connections.close_all()

    for _ in range(5):
        Submission.objects.filter(pk__in=[s.pk for s in subs]).update(
            status=Submission.Status.QUEUED, is_latest_graded=False
        )
        threads = [threading.Thread(target=grade, args=(s,)) for s in subs]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert not errors
        assert _latest(user, quiz) == [2]
        assert_agrees()

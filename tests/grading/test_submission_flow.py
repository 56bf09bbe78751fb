from decimal import Decimal

import pytest

from grading import services
from grading.models import GradeRecord, Submission
from kernel.errors import PermissionDenied
from kernel.events import deferred_run
from kernel.models import OutboxEvent
from tests.factories import UserFactory, enroll, make_quiz
from tests.processes import worker_task_names

RIGHT = {"q1": ["a"], "q2": ["a", "c"]}
HALF = {"q1": ["a"], "q2": ["a"]}


@pytest.fixture
def learner_and_quiz(db):
    quiz = make_quiz(points=10)
    learner = UserFactory()
    enroll(learner, quiz.course)
    return learner, quiz


def test_task_names_are_pinned_so_queued_messages_never_orphan():
    names = worker_task_names()  # as a worker registers them, whatever this process imported
    pinned = {
        "grading.submission_grade",
        "grading.submission_grade_code",
        "grading.sweep_stuck_submissions",
        "grading.regrade_run",
        "grading.regrade_item",
    }
    assert pinned <= names


def test_submission_is_stored_queued_and_enqueued_only_after_commit(
    learner_and_quiz, django_capture_on_commit_callbacks
):
    learner, quiz = learner_and_quiz
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        submission = services.submission_create(user=learner, assignment=quiz, answer=RIGHT)
    assert submission.status == Submission.Status.QUEUED
    assert submission.version_id == quiz.current_version_id
    assert len(callbacks) == 1


def test_grading_scores_and_writes_history_and_an_outbox_event(learner_and_quiz):
    learner, quiz = learner_and_quiz
    submission = services.submission_create(user=learner, assignment=quiz, answer=HALF)
    services.submission_grade(submission_id=submission.pk)
    submission.refresh_from_db()
    assert submission.status == Submission.Status.GRADED
    assert submission.score == Decimal("5.00")
    assert [q["correct"] for q in submission.feedback["questions"]] == [True, False]
    assert GradeRecord.objects.filter(submission=submission).count() == 1
    assert OutboxEvent.objects.filter(event_type="submission.graded", user=learner).count() == 1


def test_grading_the_same_submission_twice_grades_it_once(learner_and_quiz):
    learner, quiz = learner_and_quiz
    submission = services.submission_create(user=learner, assignment=quiz, answer=RIGHT)
    services.submission_grade(submission_id=submission.pk)
    assert services.submission_grade(submission_id=submission.pk) is None
    assert GradeRecord.objects.filter(submission=submission).count() == 1
    submission.refresh_from_db()
    assert submission.grading_attempts == 1


def test_passing_every_required_assignment_completes_the_course(learner_and_quiz):
    learner, quiz = learner_and_quiz
    submission = services.submission_create(user=learner, assignment=quiz, answer=RIGHT)
    services.submission_grade(submission_id=submission.pk)
    # Completion follows the grade in a batch after its commit (a worker runs the consumer).
    assert learner.enrollments.get(course=quiz.course).completed_at is None
    assert deferred_run() == 1
    assert learner.enrollments.get(course=quiz.course).completed_at is not None
    assert OutboxEvent.objects.filter(event_type="course.completed").count() == 1


def test_a_learner_not_enrolled_cannot_submit(db):
    quiz = make_quiz()
    with pytest.raises(PermissionDenied):
        services.submission_create(user=UserFactory(), assignment=quiz, answer=RIGHT)
    assert not Submission.objects.exists()


def test_attempt_limit_refuses_the_extra_attempt(db):
    quiz = make_quiz(attempts_allowed=1)
    learner = UserFactory()
    enroll(learner, quiz.course)
    services.submission_create(user=learner, assignment=quiz, answer=RIGHT)
    with pytest.raises(services.SubmissionRefused):
        services.submission_create(user=learner, assignment=quiz, answer=RIGHT)
    assert Submission.objects.count() == 1


def test_sweeper_enqueues_submissions_left_queued_past_the_deadline(learner_and_quiz, settings, monkeypatch):
    learner, quiz = learner_and_quiz
    submission = services.submission_create(user=learner, assignment=quiz, answer=RIGHT)
    Submission.objects.filter(pk=submission.pk).update(lease_expires_at="2000-01-01T00:00Z")
    sent = []
    monkeypatch.setattr(services, "enqueue_grading", lambda *, submission_id, kind: sent.append(submission_id) or True)
    assert services.submissions_sweep_stuck() == 1
    assert sent == [submission.pk]
    # A fresh sweep right after does not send it again.
    assert services.submissions_sweep_stuck() == 0

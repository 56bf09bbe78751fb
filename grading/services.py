"""Grading: turning a learner's answer into a score, exactly once, in the background.

A submission is stored queued and enqueued on commit; a worker claims it under a row lock,
grades it outside any transaction, and writes the result only if its claim still holds. The
sweeper re-enqueues what a lost message or a dead worker left behind."""

import logging
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from certificates.services import certificate_issue_on_commit
from config.errors import ApplicationError, PermissionDenied
from courses import selectors as course_selectors
from courses.models import Assignment
from courses.services import enrollment_refresh_completion
from integrations.services import event_record
from learning.services import notification_for_submission

from .graders import GraderError, GradeResult, get_grader
from .models import GradeRecord, Submission

log = logging.getLogger(__name__)


class SubmissionRefused(ApplicationError):
    pass


def _validate_answer(*, assignment: Assignment, answer) -> None:
    if assignment.kind == Assignment.Kind.QUIZ:
        spec = assignment.current_version.spec
        if not isinstance(answer, dict):
            raise SubmissionRefused(_("The answer is not in the expected form."), field="answer")
        ids = {q["id"] for q in spec.get("questions", [])}
        unanswered = [qid for qid in ids if not answer.get(qid)]
        if unanswered:
            raise SubmissionRefused(_("Answer every question before submitting."), field="answer")


def submission_create(*, user, assignment: Assignment, answer) -> Submission:
    """Store a learner's answer as a queued submission and enqueue its grading after commit."""
    course = assignment.course
    if not course_selectors.can_access_course(user=user, course=course):
        raise PermissionDenied(_("Enroll in this course to submit assignments."))
    if assignment.current_version_id is None:
        raise SubmissionRefused(_("This assignment is not published yet."))
    _validate_answer(assignment=assignment, answer=answer)
    with transaction.atomic():
        # Serialize a learner's attempts on one assignment so the attempt limit holds under races.
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        last = Submission.objects.filter(user=user, assignment=assignment).aggregate(n=Max("attempt"))["n"] or 0
        if assignment.attempts_allowed is not None and last >= assignment.attempts_allowed:
            raise SubmissionRefused(
                _("You have used all %(n)d attempts for this assignment.") % {"n": assignment.attempts_allowed}
            )
        submission = Submission.objects.create(
            user=user,
            assignment=assignment,
            version_id=assignment.current_version_id,
            attempt=last + 1,
            answer=answer,
            max_score=assignment.points,
        )
        transaction.on_commit(lambda: enqueue_grading(submission_id=submission.pk, kind=assignment.kind))
    return submission


def enqueue_grading(*, submission_id: int, kind: str) -> bool:
    """Publish the grading task. A broker that is down is logged, not raised: the submission is
    already saved, and the sweeper enqueues it again later."""
    from . import tasks

    task = tasks.submission_grade_code if kind == Assignment.Kind.CODE else tasks.submission_grade
    try:
        task.delay(submission_id)
        return True
    except Exception:  # kombu raises OperationalError, redis ConnectionError, OSError...
        log.warning("broker unavailable: submission %s stays queued for the sweeper", submission_id, exc_info=True)
        return False


def _stale_before():
    return timezone.now() - timedelta(seconds=settings.GRADING_STUCK_AFTER_SECONDS)


def submission_claim(*, submission_id: int) -> Submission | None:
    """Take a submission for grading under a row lock: only a queued one, or a running one whose
    worker is presumed dead. Returns None when someone else has it or it is done (redelivery)."""
    with transaction.atomic():
        sub = Submission.objects.select_for_update().filter(pk=submission_id).first()
        if sub is None:
            return None
        stale = sub.status == Submission.Status.RUNNING and sub.started_at and sub.started_at < _stale_before()
        if sub.status != Submission.Status.QUEUED and not stale:
            return None
        sub.status = Submission.Status.RUNNING
        sub.started_at = timezone.now()
        sub.grading_attempts += 1
        sub.save(update_fields=["status", "started_at", "grading_attempts", "updated_at"])
        return sub


def _scaled(result: GradeResult, points: Decimal) -> Decimal:
    if result.max_score <= 0:
        return Decimal(0)
    share = Decimal(str(result.score)) / Decimal(str(result.max_score))
    return (share * points).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def submission_grade(*, submission_id: int) -> Submission | None:
    """Grade one submission exactly once; safe to call any number of times for the same id."""
    sub = submission_claim(submission_id=submission_id)
    if sub is None:
        return None
    claimed_at = sub.started_at
    version = sub.version
    assignment = sub.assignment
    try:
        result = get_grader(assignment.kind)(version.spec, sub.answer)
        error = None
    except GraderError as exc:
        result, error = None, str(exc)
    except Exception as exc:  # a bug in a grader must not leave the row running forever
        log.exception("grader crashed on submission %s", submission_id)
        result, error = None, f"grader crashed: {exc.__class__.__name__}: {exc}"

    with transaction.atomic():
        sub = Submission.objects.select_for_update().get(pk=submission_id)
        if sub.status != Submission.Status.RUNNING or sub.started_at != claimed_at:
            return None  # the sweeper gave it to another worker, which owns the result now
        now = timezone.now()
        if error is not None:
            sub.status = Submission.Status.FAILED
            sub.staff_log = error
            sub.feedback = {"message": _("This submission could not be graded. Staff have been told.")}
            sub.graded_at = now
            sub.save(update_fields=["status", "staff_log", "feedback", "graded_at", "updated_at"])
            return sub
        if result.needs_review:
            sub.status = Submission.Status.NEEDS_REVIEW
            sub.feedback = result.feedback
            sub.staff_log = result.staff_log
            sub.save(update_fields=["status", "feedback", "staff_log", "updated_at"])
            return sub
        sub.score = _scaled(result, assignment.points)
        sub.max_score = assignment.points
        sub.feedback = result.feedback
        sub.staff_log = result.staff_log
        sub.status = Submission.Status.GRADED
        sub.graded_at = now
        sub.save(update_fields=["score", "max_score", "feedback", "staff_log", "status", "graded_at", "updated_at"])
        GradeRecord.objects.create(
            submission=sub,
            score=sub.score,
            max_score=sub.max_score,
            source=GradeRecord.Source.AUTO,
            feedback=sub.feedback,
        )
        user = sub.user
        event_record(
            event_type="submission.graded",
            user=user,
            payload={
                "submission_id": sub.pk,
                "assignment_id": assignment.pk,
                "course_code": assignment.course.code,
                "score": str(sub.score),
                "max_score": str(sub.max_score),
                "graded_at": now.isoformat(),
            },
        )
        # Tell the learner (issue 7: learning notifications, certificates).
        notification_for_submission(submission=sub)
        if enrollment_refresh_completion(user_id=sub.user_id, course_id=assignment.course_id):
            event_record(
                event_type="course.completed",
                user=user,
                payload={"course_code": assignment.course.code, "completed_at": now.isoformat()},
            )
            certificate_issue_on_commit(user_id=sub.user_id, course_id=assignment.course_id)
    return sub


def submissions_sweep_stuck() -> int:
    """Enqueue again every submission left queued or running past the deadline. Returns how many."""
    cutoff = _stale_before()
    stuck = list(
        Submission.objects.filter(
            Q(status=Submission.Status.QUEUED, updated_at__lt=cutoff)
            | Q(status=Submission.Status.RUNNING, started_at__lt=cutoff)
        )
        .values_list("pk", "assignment__kind")
        .order_by("pk")[:1000]
    )
    sent = 0
    for pk, kind in stuck:
        if enqueue_grading(submission_id=pk, kind=kind):
            sent += 1
    if stuck:
        # Touch queued rows so the next sweep waits a full deadline before sending them again.
        Submission.objects.filter(pk__in=[pk for pk, _k in stuck], status=Submission.Status.QUEUED).update(
            updated_at=timezone.now()
        )
    return sent

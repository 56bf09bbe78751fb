"""Grading: turning a learner's answer into a score, exactly once, in the background.

A submission is stored queued and enqueued on commit; a worker claims it under a row lock,
grades it outside any transaction, and writes the result only if its claim still holds. The
sweeper re-enqueues what a lost message or a dead worker left behind. Instructors review essays,
staff retry failed submissions, and regrades keep every earlier grade in GradeRecord."""

import logging
import math
import socket
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from certificates.services import certificate_issue_on_commit
from config.errors import ApplicationError, PermissionDenied
from courses import selectors as course_selectors
from courses.models import Assignment, AssignmentVersion
from courses.services import enrollment_refresh_completion
from integrations.services import event_record
from learning.services import notification_for_submission

from .graders import GraderError, GradeResult, GraderUnavailable, get_grader
from .graders import essay as essay_grader
from .graders import flag as flag_grader
from .models import GradeRecord, RegradeJob, SandboxHealth, Submission

log = logging.getLogger(__name__)

MAX_CODE_CHARS = 64 * 1024
MAX_ESSAY_CHARS = 100 * 1024


class SubmissionRefused(ApplicationError):
    pass


# --- submitting ------------------------------------------------------------------------------


def _validate_answer(*, assignment: Assignment, spec: dict, answer) -> None:
    if not isinstance(answer, dict):
        raise SubmissionRefused(_("The answer is not in the expected form."), field="answer")
    kind = assignment.kind
    if kind == Assignment.Kind.QUIZ:
        ids = [q["id"] for q in spec.get("questions", [])]
        if any(answer.get(qid) in (None, "", []) for qid in ids):
            raise SubmissionRefused(_("Answer every question before submitting."), field="answer")
    elif kind == Assignment.Kind.FLAG:
        flag = answer.get("flag")
        if not isinstance(flag, str) or not flag.strip():
            raise SubmissionRefused(_("Enter the flag."), field="flag")
        if len(flag) > 500:
            raise SubmissionRefused(_("A flag is at most 500 characters."), field="flag")
    elif kind == Assignment.Kind.CODE:
        code = answer.get("code")
        if not isinstance(code, str) or not code.strip():
            raise SubmissionRefused(_("Write your code before submitting."), field="code")
        if len(code) > MAX_CODE_CHARS:
            raise SubmissionRefused(_("Your code is too long (64 KB at most)."), field="code")
    elif kind == Assignment.Kind.ESSAY:
        text = answer.get("text")
        if not isinstance(text, str) or not text.strip():
            raise SubmissionRefused(_("Write your essay before submitting."), field="text")
        words = essay_grader.word_count(text)
        lo, hi = spec.get("min_words", 0) or 0, spec.get("max_words")
        if len(text) > MAX_ESSAY_CHARS or (hi and words > hi):
            raise SubmissionRefused(
                _("Your essay has %(n)d words; the limit is %(max)d.") % {"n": words, "max": hi or 0}, field="text"
            )
        if words < lo:
            raise SubmissionRefused(
                _("Your essay has %(n)d words; write at least %(min)d.") % {"n": words, "min": lo}, field="text"
            )


def days_late(*, assignment: Assignment, at) -> int:
    """Whole days (started) after the due date; 0 when on time or without a due date."""
    if assignment.due_at is None or at <= assignment.due_at:
        return 0
    return math.ceil((at - assignment.due_at).total_seconds() / 86400)


def _check_flag_throttle(*, user, assignment: Assignment, spec: dict) -> None:
    """Refuse a flag when this learner already sent too many wrong (or ungraded) ones in the last
    hour on this assignment: brute force stays slow."""
    limit = flag_grader.max_wrong_per_hour(spec)
    since = timezone.now() - timedelta(hours=1)
    recent = Submission.objects.filter(user=user, assignment=assignment, submitted_at__gte=since).exclude(
        status=Submission.Status.GRADED, score__gte=F("max_score")
    )
    if recent.count() >= limit:
        oldest = recent.order_by("submitted_at").values_list("submitted_at", flat=True).first()
        minutes = max(1, math.ceil((oldest + timedelta(hours=1) - timezone.now()).total_seconds() / 60))
        raise SubmissionRefused(
            _("Too many wrong flags in the last hour (%(n)d). Try again in %(m)d minutes.")
            % {"n": limit, "m": minutes},
            field="flag",
        )


def submission_create(*, user, assignment: Assignment, answer) -> Submission:
    """Store a learner's answer as a queued submission and enqueue its grading after commit.
    Checks access, publication, the answer's shape, the deadline and cutoff, the attempt limit
    and, for flags, the wrong-attempt throttle."""
    course = assignment.course
    if not course_selectors.can_access_course(user=user, course=course):
        raise PermissionDenied(_("Enroll in this course to submit assignments."))
    if assignment.current_version_id is None:
        raise SubmissionRefused(_("This assignment is not published yet."))
    spec = assignment.current_version.spec
    _validate_answer(assignment=assignment, spec=spec, answer=answer)
    now = timezone.now()
    late = days_late(assignment=assignment, at=now)
    if late and assignment.late_cutoff_days is not None and late > assignment.late_cutoff_days:
        raise SubmissionRefused(
            _("The deadline has passed and late submissions closed %(n)d days after it.")
            % {"n": assignment.late_cutoff_days}
        )
    with transaction.atomic():
        # Serialize a learner's attempts on one assignment so the attempt limit holds under races.
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        last = Submission.objects.filter(user=user, assignment=assignment).aggregate(n=Max("attempt"))["n"] or 0
        if assignment.attempts_allowed is not None and last >= assignment.attempts_allowed:
            raise SubmissionRefused(
                _("You have used all %(n)d attempts for this assignment.") % {"n": assignment.attempts_allowed}
            )
        if assignment.kind == Assignment.Kind.FLAG:
            _check_flag_throttle(user=user, assignment=assignment, spec=spec)
        submission = Submission.objects.create(
            user=user,
            assignment=assignment,
            version_id=assignment.current_version_id,
            attempt=last + 1,
            answer=answer,
            max_score=assignment.points,
            is_late=bool(late),
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


# --- grading ---------------------------------------------------------------------------------


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


def _apply_late_policy(sub: Submission, score: Decimal, feedback: dict) -> Decimal:
    """Deduct the late penalty (percent of the points per day started late); say why."""
    assignment = sub.assignment
    late = days_late(assignment=assignment, at=sub.submitted_at)
    if not late or not assignment.late_penalty_per_day:
        return score
    percent = min(Decimal(100), assignment.late_penalty_per_day * late)
    deduction = (assignment.points * percent / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    feedback["late"] = {
        "days": late,
        "percent": str(percent),
        "deduction": str(deduction),
        "message": _("Submitted %(days)d day(s) late: %(percent)s%% of the points deducted (-%(deduction)s).")
        % {"days": late, "percent": percent.normalize(), "deduction": deduction},
    }
    return max(Decimal(0), score - deduction)


def _record_grade(
    sub: Submission, *, result: GradeResult, source: str, graded_by=None, reason: str = "", score=None
) -> None:
    """Write a final grade on a locked submission: score, feedback, history, event, completion."""
    assignment = sub.assignment
    now = timezone.now()
    feedback = dict(result.feedback)
    raw = _scaled(result, assignment.points) if score is None else score
    sub.score = _apply_late_policy(sub, raw, feedback)
    sub.max_score = assignment.points
    sub.feedback = feedback
    if result.staff_log:
        sub.staff_log = result.staff_log
    sub.status = Submission.Status.GRADED
    sub.graded_at = now
    sub.save(update_fields=["score", "max_score", "feedback", "staff_log", "status", "graded_at", "updated_at"])
    GradeRecord.objects.create(
        submission=sub,
        score=sub.score,
        max_score=sub.max_score,
        source=source,
        feedback=sub.feedback,
        reason=reason,
        graded_by=graded_by,
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


def _run_grader(kind: str, spec: dict, answer) -> tuple[GradeResult | None, str | None]:
    """(result, None) or (None, reason for staff). GraderUnavailable propagates."""
    try:
        return get_grader(kind)(spec, answer), None
    except GraderUnavailable:
        raise
    except GraderError as exc:
        return None, str(exc)
    except Exception as exc:  # a bug in a grader must not leave the row running forever
        log.exception("grader crashed")
        return None, f"grader crashed: {exc.__class__.__name__}: {exc}"


def submission_grade(*, submission_id: int) -> Submission | None:
    """Grade one submission exactly once; safe to call any number of times for the same id.
    When the grader is unavailable here (broken sandbox), the submission goes back to queued."""
    sub = submission_claim(submission_id=submission_id)
    if sub is None:
        return None
    claimed_at = sub.started_at
    assignment = sub.assignment
    try:
        result, error = _run_grader(assignment.kind, sub.version.spec, sub.answer)
    except GraderUnavailable as exc:
        log.warning("grader unavailable for submission %s: %s", submission_id, exc)
        Submission.objects.filter(pk=submission_id, status=Submission.Status.RUNNING, started_at=claimed_at).update(
            status=Submission.Status.QUEUED, started_at=None, staff_log=f"waiting: {exc}", updated_at=timezone.now()
        )
        return None

    with transaction.atomic():
        sub = Submission.objects.select_for_update().select_related("assignment__course", "user").get(pk=submission_id)
        if sub.status != Submission.Status.RUNNING or sub.started_at != claimed_at:
            return None  # the sweeper gave it to another worker, which owns the result now
        if error is not None:
            sub.status = Submission.Status.FAILED
            sub.staff_log = error
            sub.feedback = {"message": _("This submission could not be graded. Staff have been told.")}
            sub.graded_at = timezone.now()
            sub.save(update_fields=["status", "staff_log", "feedback", "graded_at", "updated_at"])
            return sub
        if result.needs_review:
            sub.status = Submission.Status.NEEDS_REVIEW
            sub.feedback = result.feedback
            sub.staff_log = result.staff_log
            sub.save(update_fields=["status", "feedback", "staff_log", "updated_at"])
            return sub
        _record_grade(sub, result=result, source=GradeRecord.Source.AUTO)
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


# --- staff actions ---------------------------------------------------------------------------


def _require_course_staff(*, user, assignment: Assignment) -> None:
    if not course_selectors.is_course_staff(user=user, course=assignment.course):
        raise PermissionDenied(_("Only the course's instructors and staff may do this."))


def submission_retry(*, user, submission: Submission) -> Submission:
    """Put a failed submission back in the queue (after a grader fix, a sandbox repair...)."""
    _require_course_staff(user=user, assignment=submission.assignment)
    with transaction.atomic():
        sub = Submission.objects.select_for_update().get(pk=submission.pk)
        if sub.status != Submission.Status.FAILED:
            raise SubmissionRefused(_("Only a submission that failed to grade can be retried."))
        sub.status = Submission.Status.QUEUED
        sub.staff_log = f"retried by {user}\n{sub.staff_log}"[:20000]
        sub.feedback = {}
        sub.started_at = None
        sub.graded_at = None
        sub.save(update_fields=["status", "staff_log", "feedback", "started_at", "graded_at", "updated_at"])
        kind = sub.assignment.kind
        transaction.on_commit(lambda: enqueue_grading(submission_id=sub.pk, kind=kind))
    return sub


def submission_review(*, reviewer, submission: Submission, levels: dict, feedback: str = "") -> Submission:
    """An instructor grades an essay: one level per rubric criterion, plus written feedback."""
    _require_course_staff(user=reviewer, assignment=submission.assignment)
    with transaction.atomic():
        sub = (
            Submission.objects.select_for_update()
            .select_related("assignment__course", "version", "user")
            .get(pk=submission.pk)
        )
        if sub.assignment.kind != Assignment.Kind.ESSAY:
            raise SubmissionRefused(_("Only essays are graded by review."))
        if sub.status not in {Submission.Status.NEEDS_REVIEW, Submission.Status.GRADED}:
            raise SubmissionRefused(_("This submission is not ready for review."))
        spec = sub.version.spec
        for c in spec["rubric"]["criteria"]:
            if levels.get(c["id"]) not in {lv["id"] for lv in c["levels"]}:
                raise SubmissionRefused(_("Choose a level for “%(c)s”.") % {"c": c["title"]}, field=f"c_{c['id']}")
        earned, detail = essay_grader.score_levels(spec, levels)
        result = GradeResult(
            score=earned,
            max_score=essay_grader.max_points(spec),
            feedback={"rubric": detail, "comment": feedback.strip()[:10000], "reviewer": reviewer.get_short_name()},
        )
        _record_grade(sub, result=result, source=GradeRecord.Source.REVIEW, graded_by=reviewer)
    return sub


def regrade_start(
    *, user, assignment: Assignment, version: AssignmentVersion | None = None, submission: Submission | None = None
) -> RegradeJob:
    """Regrade one submission, or every graded/failed submission to a version, in the background."""
    _require_course_staff(user=user, assignment=assignment)
    if assignment.kind == Assignment.Kind.ESSAY:
        raise SubmissionRefused(_("Essays are regraded by review, not automatically."))
    if submission is None and version is None:
        version = assignment.current_version
    with transaction.atomic():
        job = RegradeJob.objects.create(
            assignment=assignment, version=version, submission=submission, requested_by=user
        )
        job.total = len(_regrade_targets(job))
        job.save(update_fields=["total"])
        queue = "sandbox" if assignment.kind == Assignment.Kind.CODE else "grading"
        transaction.on_commit(lambda: _enqueue_regrade(job_id=job.pk, queue=queue))
    return job


def _enqueue_regrade(*, job_id: int, queue: str) -> None:
    from . import tasks

    try:
        tasks.regrade_run.apply_async((job_id,), queue=queue)
    except Exception:
        log.warning("broker unavailable: regrade %s not enqueued", job_id, exc_info=True)


def _regrade_targets(job: RegradeJob) -> list[int]:
    done = [Submission.Status.GRADED, Submission.Status.FAILED]
    if job.submission_id:
        return list(Submission.objects.filter(pk=job.submission_id, status__in=done).values_list("pk", flat=True))
    return list(
        Submission.objects.filter(version_id=job.version_id, status__in=done)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def regrade_run(*, job_id: int) -> RegradeJob | None:
    """Regrade each target submission with the grader of today, keeping the earlier grades."""
    with transaction.atomic():
        job = RegradeJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status == RegradeJob.Status.DONE:
            return None
        job.status = RegradeJob.Status.RUNNING
        job.save(update_fields=["status"])
    targets = _regrade_targets(job)
    already = job.done + job.failed  # a redelivered job resumes where it stopped
    for pk in targets[already:]:
        sub = Submission.objects.select_related("version", "assignment").get(pk=pk)
        try:
            result, error = _run_grader(sub.assignment.kind, sub.version.spec, sub.answer)
        except GraderUnavailable as exc:
            result, error = None, str(exc)
        with transaction.atomic():
            locked = Submission.objects.select_for_update().select_related("assignment__course", "user").get(pk=pk)
            if error is None and locked.status in {Submission.Status.GRADED, Submission.Status.FAILED}:
                reason = _("Regrade #%(n)d") % {"n": job.pk}
                _record_grade(
                    locked, result=result, source=GradeRecord.Source.REGRADE, graded_by=job.requested_by, reason=reason
                )
                RegradeJob.objects.filter(pk=job.pk).update(done=F("done") + 1)
            else:
                if error:
                    locked.staff_log = f"regrade #{job.pk} failed: {error}\n{locked.staff_log}"[:20000]
                    locked.save(update_fields=["staff_log", "updated_at"])
                RegradeJob.objects.filter(pk=job.pk).update(failed=F("failed") + 1)
    RegradeJob.objects.filter(pk=job.pk).update(status=RegradeJob.Status.DONE, finished_at=timezone.now())
    job.refresh_from_db()
    return job


# --- sandbox health --------------------------------------------------------------------------


def sandbox_health_record(*, hostname: str | None = None, problem: str | None) -> SandboxHealth:
    """Store a worker's sandbox self-test outcome for /readyz and the admin."""
    health, _created = SandboxHealth.objects.update_or_create(
        hostname=hostname or socket.gethostname(),
        defaults={"is_ok": problem is None, "detail": problem or "", "checked_at": timezone.now()},
    )
    return health

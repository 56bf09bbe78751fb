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
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import BooleanField, ExpressionWrapper, F, Max, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Concat, Greatest, Substr
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from assessment import kinds, sandbox
from assessment.kinds import GraderError, GradeResult, GraderUnavailable, get_grader
from assessment.kinds.essay import grader as essay_grader
from assessment.kinds.flag import grader as flag_grader
from courses import selectors as course_selectors
from courses.models import Assignment, AssignmentVersion, Course
from courses.services import assignment_version_derived_store, enrollments_complete
from kernel.errors import ApplicationError, PermissionDenied
from kernel.events import announce, announce_many
from kernel.tasks import enqueue

from . import attempts, leases, messages, selectors
from .models import GradeRecord, RegradeItem, RegradeJob, SandboxHealth, Submission

log = logging.getLogger(__name__)


class SubmissionRefused(ApplicationError):
    pass


# --- course completion -------------------------------------------------------------------------


def completions_refresh(*, events) -> int:
    """For `submission.graded` outbox events (a deferred handler of grading's own event, see
    grading.handlers): mark complete every enrollment of their learners and courses whose required
    assignments are all passed now, in a constant number of queries for the whole batch, and
    announce `course.completed` for each (its outbox row; certificates issue after commit).
    Returns how many courses became complete. Call inside a transaction."""
    by_assignment = {e.payload.get("assignment_id") for e in events} - {None}
    course_of = dict(Assignment.objects.filter(pk__in=by_assignment).values_list("pk", "course_id"))
    pairs = {
        (e.user_id, course_of[e.payload["assignment_id"]])
        for e in events
        if e.user_id is not None and e.payload.get("assignment_id") in course_of
    }
    done = enrollments_complete(pairs=pairs, complete=selectors.enrollments_completed)
    if not done:
        return 0
    users = get_user_model().objects.select_related("organization").in_bulk({u for _e, u, _c in done})
    courses = Course.objects.in_bulk({c for _e, _u, c in done})
    now = timezone.now()
    for _enrollment, user_id, course_id in done:
        course = courses[course_id]
        announce(
            "course.completed",
            user=users[user_id],
            course=course,
            outbox={"course_code": course.code, "completed_at": now.isoformat()},
        )
    return len(done)


# --- submitting ------------------------------------------------------------------------------


def _validate_answer(*, assignment: Assignment, spec: dict, answer) -> None:
    """The answer's shape, by the rules of the assignment's kind."""
    try:
        kinds.validate_answer(assignment.kind, spec, answer)
    except kinds.AnswerRefused as exc:
        raise SubmissionRefused(exc.message, field=exc.field) from exc


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
            ngettext(
                "Too many wrong flags in the last hour (%(n)d). Try again in %(m)d minute.",
                "Too many wrong flags in the last hour (%(n)d). Try again in %(m)d minutes.",
                minutes,
            )
            % {"n": limit, "m": minutes},
            field="flag",
        )


# "Run the public tests": a learner's code on the public tests only, in the sandbox, in the request;
# no submission, no attempt, no grade. Bounded per learner: one run at a time and
# PUBLIC_RUNS_PER_MINUTE runs a minute (counted in the default cache, per web process).
PUBLIC_RUNS_PER_MINUTE = 6


class RunRefused(ApplicationError):
    pass


def public_tests_run(*, user, assignment: Assignment, answer) -> dict:
    """Run `answer` (a code answer) on the assignment's public tests and return the feedback a
    graded attempt would show for them (each test's input, expected and actual output). Writes
    nothing. RunRefused (field "code") when the learner may not run it now; the sandbox being
    unavailable is a refusal too, saying so."""
    if assignment.kind != Assignment.Kind.CODE or assignment.current_version is None:
        raise RunRefused(_("Only code assignments have public tests to run."))
    if not course_selectors.can_access_course(user=user, course=assignment.course):
        raise PermissionDenied(_("Enroll in this course to run its tests."))
    spec = assignment.current_version.spec
    if not spec.get("public_tests"):
        raise RunRefused(_("This assignment has no public test."), field="code")
    _validate_answer(assignment=assignment, spec=spec, answer=answer)
    minute = f"kafaat:public-run:{user.pk}:{int(timezone.now().timestamp() // 60)}"
    cache.add(minute, 0, timeout=90)
    if cache.incr(minute) > PUBLIC_RUNS_PER_MINUTE:
        raise RunRefused(_("You ran the tests often in the last minute: wait a moment, then run them again."),
                         field="code")  # fmt: skip
    lock = f"kafaat:public-run-lock:{user.pk}"
    if not cache.add(lock, 1, timeout=120):
        raise RunRefused(_("Your previous run is still going: wait for it to finish."), field="code")
    try:
        result = kinds.get("code").grade({**spec, "hidden_tests": []}, answer)
    except GraderUnavailable:
        raise RunRefused(
            _("The tests cannot run right now (the sandbox is unavailable). Submitting still works: your attempt "
              "waits until grading is back."), field="code",
        ) from None  # fmt: skip
    finally:
        cache.delete(lock)
    return result.feedback


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
    # A kind whose attempts answer their own questions (grading.attempts) checks the answer once
    # the attempt's number is settled, under the lock below.
    found = kinds.find(assignment.kind)
    per_attempt = found is not None and found.attempt_spec is not None
    if not per_attempt:
        _validate_answer(assignment=assignment, spec=spec, answer=answer)
    now = timezone.now()
    late = days_late(assignment=assignment, at=now)
    if late and assignment.late_cutoff_days is not None and late > assignment.late_cutoff_days:
        raise SubmissionRefused(
            ngettext(
                "The deadline has passed and late submissions closed %(n)d day after it.",
                "The deadline has passed and late submissions closed %(n)d days after it.",
                assignment.late_cutoff_days,
            )
            % {"n": assignment.late_cutoff_days}
        )
    with transaction.atomic():
        # Serialize a learner's attempts on one assignment so the attempt limit holds under races.
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        last = Submission.objects.filter(user=user, assignment=assignment).aggregate(n=Max("attempt"))["n"] or 0
        if assignment.attempts_allowed is not None and last >= assignment.attempts_allowed:
            raise SubmissionRefused(
                ngettext(
                    "You have used your only attempt for this assignment.",
                    "You have used all %(n)d attempts for this assignment.",
                    assignment.attempts_allowed,
                )
                % {"n": assignment.attempts_allowed}
            )
        if per_attempt:  # the questions of this attempt, now that its number is settled
            attempt_spec = attempts.attempt_spec(
                kind=assignment.kind, version=assignment.current_version, user_id=user.pk, attempt=last + 1
            )
            _validate_answer(assignment=assignment, spec=attempt_spec, answer=answer)
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
            # Sent on commit; sent again by the sweeper if no worker took it by then.
            lease_expires_at=leases.resend_at(now=now, since=now),
        )
        transaction.on_commit(lambda: enqueue_grading(submission_id=submission.pk, kind=assignment.kind))
    return submission


def enqueue_grading(*, submission_id: int, kind: str) -> bool:
    """Publish the grading task. A broker that is down is logged, not raised: the submission is
    already saved, and the sweeper enqueues it again later."""
    from . import tasks  # grading.tasks imports these services

    task = tasks.submission_grade_code if kinds.uses_sandbox(kind) else tasks.submission_grade
    return enqueue(task, submission_id)


# --- grading ---------------------------------------------------------------------------------

TRANSIENT_DB_ERRORS = (OperationalError, InterfaceError)
MAX_STAFF_LOG = 20000


class GradeNotWritable(ValueError):
    """The grade computed for a submission cannot be stored (not finite, or too large for the
    column): counted as a failed attempt, never written."""


def _staff_log(entry: str, log_text: str) -> str:
    return f"{entry}\n{log_text}"[:MAX_STAFF_LOG] if log_text else entry[:MAX_STAFF_LOG]


def _locked_for_grading(submission_id: int, *, skip_locked: bool = False) -> Submission | None:
    """The submission, locked (None when gone, or with `skip_locked` when another holds it)."""
    return (
        Submission.objects.select_for_update(of=("self",), skip_locked=skip_locked)
        .select_related("assignment__course", "user__organization", "version")  # the version: for the grader
        .filter(pk=submission_id)
        .first()
    )


def _claim_locked(sub: Submission, *, token: str) -> bool:
    """Claim a locked submission (see submission_claim), inside the caller's transaction."""
    now = timezone.now()
    if not leases.claimable(sub, token=token, pending=Submission.Status.QUEUED, now=now):
        return False
    if sub.grading_attempts >= settings.GRADING_MAX_ATTEMPTS:
        _fail(sub, code=Submission.Failure.ATTEMPTS_EXHAUSTED, log_entry=f"attempt cap reached at {now:%c}")
        return False
    sub.status = Submission.Status.RUNNING
    sub.started_at = now
    sub.claim_token = token
    sub.lease_expires_at = leases.lease_until(now)
    sub.grading_attempts += 1
    sub.save(
        update_fields=["status", "started_at", "claim_token", "lease_expires_at", "grading_attempts", "updated_at"]
    )
    return True


def submission_claim(*, submission_id: int, token: str = "") -> Submission | None:
    """Take a submission for grading under a row lock: a queued one, a running one whose lease
    expired (its worker is presumed dead), or one that this task's earlier try holds (`token`,
    see grading.leases). Returns None when someone else holds it or it is done (redelivery).
    Past GRADING_MAX_ATTEMPTS takes, it fails instead, with a reason staff see."""
    token = token or leases.new_token()
    with transaction.atomic():
        sub = _locked_for_grading(submission_id)
        if sub is None or not _claim_locked(sub, token=token):
            return None
        return sub


def _holds(sub: Submission, token: str) -> bool:
    return sub.status == Submission.Status.RUNNING and sub.claim_token == token


def _fail(sub: Submission, *, code: str, log_entry: str) -> None:
    """Mark a locked submission failed with a reason code, tell the learner (in their language,
    at display time) and the course staff (notification). Call inside the transaction."""
    sub.status = Submission.Status.FAILED
    sub.failure_code = code
    sub.staff_log = _staff_log(log_entry, sub.staff_log)
    sub.feedback = {"code": messages.GRADING_FAILED}
    sub.graded_at = timezone.now()
    sub.claim_token = ""
    sub.lease_expires_at = None
    sub.save(
        update_fields=[
            "status", "failure_code", "staff_log", "feedback", "graded_at", "claim_token", "lease_expires_at",
            "updated_at",
        ]
    )  # fmt: skip
    # Learning tells the course staff.
    announce("submission.failed", submission=sub)


# Submission.score and GradeRecord.score are Decimal(7, 2).
MAX_SCORE = Decimal("99999.99")


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
    # Numbers and a code, never words: each reader gets them in their own language (messages.late_text).
    feedback["late"] = {
        "code": messages.LATE_PENALTY,
        "days": late,
        "percent": str(percent),
        "deduction": str(deduction),
    }
    return max(Decimal(0), score - deduction)


# --- the latest graded attempt (Submission.is_latest_graded) --------------------------------------
# Which attempt of a learner at an assignment is their latest graded one changes only when an
# attempt becomes graded (grade_record), or when attempts are deleted or edited by hand (the
# admin, through submissions_delete and submission_admin_save); a regrade or an override of a
# graded attempt, or an erasure (scores kept), changes no status and no attempt. Each of those
# writes calls latest_graded_refresh for its (learner, assignment) pairs in its transaction.


def _latest_graded_lock(pairs) -> None:
    """Serialize the refreshes of these (user_id, assignment_id) pairs until the transaction ends
    (PostgreSQL; SQLite runs one writer at a time): two attempts of one learner graded at once
    each see only their own grade, and would both mark themselves the latest. Taken in one order,
    before the pair's rows are written where the caller can, so two refreshes never deadlock."""
    if connection.vendor != "postgresql":
        return
    keys = sorted({(user_id % 2**31, assignment_id % 2**31) for user_id, assignment_id in pairs})
    with connection.cursor() as cursor:  # one query, the locks taken in the keys' order
        cursor.execute(
            "SELECT pg_advisory_xact_lock(k.u, k.a) FROM (SELECT u, a FROM unnest(%s::int[], %s::int[]) AS t(u, a)"
            " ORDER BY u, a OFFSET 0) AS k",
            [[u for u, _a in keys], [a for _u, a in keys]],
        )


def latest_graded_refresh(*, pairs, locked: bool = False) -> None:
    """Recompute `Submission.is_latest_graded` for these (user_id, assignment_id) pairs, in the
    caller's transaction: true on each pair's graded attempt with no later graded one, false on
    every other. Writes only the rows that hold the flag or should (at most two per pair). Two
    queries (one on SQLite) whatever the number of pairs; one when the caller has `locked` them
    already (_latest_graded_lock, in this transaction)."""
    pairs = {(int(u), int(a)) for u, a in pairs}
    if not pairs:
        return
    if not locked:
        _latest_graded_lock(pairs)
    graded = Submission.Status.GRADED
    newest = Subquery(
        Submission.objects.filter(user_id=OuterRef("user_id"), assignment_id=OuterRef("assignment_id"), status=graded)
        .order_by("-attempt")
        .values("attempt")[:1]
    )
    rightful = Q(status=graded, attempt=Coalesce(newest, 0))
    in_pairs = Q()
    for user_id, assignment_id in pairs:
        in_pairs |= Q(user_id=user_id, assignment_id=assignment_id)
    Submission.objects.filter(in_pairs).filter(Q(is_latest_graded=True) | rightful).update(
        is_latest_graded=ExpressionWrapper(rightful, output_field=BooleanField())
    )


def latest_graded_backfill(submissions: QuerySet | None = None) -> int:
    """Set `is_latest_graded` from the attempts (`selectors.latest_graded_computed`) on every
    submission of `submissions` (all by default): for data written in bulk (generate_load_data),
    not graded through grade_record. Returns the rows marked."""
    qs = Submission.objects.all() if submissions is None else submissions
    qs.filter(is_latest_graded=True).update(is_latest_graded=False)
    return Submission.objects.filter(pk__in=selectors.latest_graded_computed(qs).values("pk")).update(
        is_latest_graded=True
    )


def submissions_delete(*, submissions: QuerySet) -> int:
    """Delete these submissions (and their grade history); the latest graded attempt of each of
    their learners at each assignment is found again among the attempts left. Returns how many
    submissions went."""
    with transaction.atomic():
        pairs = set(submissions.values_list("user_id", "assignment_id"))
        _latest_graded_lock(pairs)
        deleted = submissions.delete()[1].get(Submission._meta.label, 0)
        latest_graded_refresh(pairs=pairs, locked=True)
    return deleted


def submission_admin_save(*, submission: Submission, save) -> None:
    """Save a submission edited by hand (`save()` writes it; the admin's form may change its
    status, attempt, learner or assignment), then refresh the latest graded attempt of the pairs
    it left and joined."""
    with transaction.atomic():
        pairs = {(submission.user_id, submission.assignment_id)}
        if submission.pk is not None:
            pairs |= set(Submission.objects.filter(pk=submission.pk).values_list("user_id", "assignment_id"))
        _latest_graded_lock(pairs)
        save()
        latest_graded_refresh(pairs=pairs, locked=True)


def grade_record(
    sub: Submission,
    *,
    source: str,
    result: GradeResult | None = None,
    score: Decimal | None = None,
    graded_by=None,
    reason: str = "",
    reason_code: str = "",
    reason_params: dict | None = None,
    outbox_extra: dict | None = None,
    defer: bool = False,
) -> None:
    """The one writer of a grade, for every path (grader, regrade, review, override): on a locked
    submission, inside the caller's transaction, write the score, the GradeRecord history row and
    the `submission.graded` event (outbox payload for universities; integrations queues the LTI
    score), whose deferred handlers tell the learner (learning) and refresh course completion
    (`completions_refresh`: `course.completed`, its outbox row; certificates issue). They run in
    this transaction, or with `defer` (the workers' grades and regrades: many a second) in a batch
    soon after commit (kernel.events), with what the grade committed.

    With a grader's `result`, the score is scaled to the assignment's points (or `score`, when
    given), the late policy applies, and the result's feedback and log are stored. Without one (a
    score given by hand: an override), `score` is taken as it is, the feedback and log stay, and
    a submission still queued or running keeps its status (its grader's result is a later grade).
    `outbox_extra` adds keys to the event's payload. Raises GradeNotWritable (before writing
    anything) for a score the column cannot hold."""
    now = timezone.now()
    was_graded = sub.status == Submission.Status.GRADED
    fields = _grade_apply(sub, result=result, score=score, now=now)
    sub.save(update_fields=fields)
    if sub.status == Submission.Status.GRADED and not was_graded:
        # It became graded: it may be the learner's latest graded attempt now (a regrade or an
        # override of a graded attempt changes no status: which attempt is the latest stays).
        latest_graded_refresh(pairs=[(sub.user_id, sub.assignment_id)])
    GradeRecord.objects.create(
        **_grade_history(sub, result=result, source=source, graded_by=graded_by, reason=reason,
                         reason_code=reason_code, reason_params=reason_params)
    )  # fmt: skip
    announce("submission.graded", **_graded_event(sub, now=now, extra=outbox_extra), defer=defer)


# What _grade_apply sets: on every grade, and with a grader's result (AUTO_GRADE_FIELDS: both).
GRADE_FIELDS = ["score", "max_score", "graded_at", "updated_at"]
RESULT_FIELDS = ["feedback", "staff_log", "status", "claim_token", "lease_expires_at"]
AUTO_GRADE_FIELDS = GRADE_FIELDS + RESULT_FIELDS


def _grade_apply(sub: Submission, *, result: GradeResult | None, score: Decimal | None, now) -> list[str]:
    """Set the grade on `sub` in memory (see grade_record) and return the fields to save. Raises
    GradeNotWritable, before changing anything, for a score the column cannot hold."""
    assignment = sub.assignment
    fields = list(GRADE_FIELDS)
    if result is not None:
        feedback = dict(result.feedback)
        raw = _scaled(result, assignment.points) if score is None else score
        final = _apply_late_policy(sub, raw, feedback)
    else:
        final, feedback = score, None
    if not final.is_finite() or not Decimal(0) <= final <= MAX_SCORE or not assignment.points <= MAX_SCORE:
        raise GradeNotWritable(f"score {final} out of {assignment.points} does not fit the grade column")
    sub.score = final
    sub.max_score = assignment.points
    sub.graded_at = sub.updated_at = now
    if result is not None:
        sub.feedback = feedback
        if result.staff_log:
            sub.staff_log = result.staff_log
        sub.status = Submission.Status.GRADED
        sub.claim_token, sub.lease_expires_at = "", None
        fields += RESULT_FIELDS
    elif sub.status in (Submission.Status.NEEDS_REVIEW, Submission.Status.FAILED):
        sub.status = Submission.Status.GRADED
        fields.append("status")
    return fields


def _grade_history(sub: Submission, *, result: GradeResult | None, source: str, graded_by=None, reason: str = "",
                   reason_code: str = "", reason_params: dict | None = None) -> dict:  # fmt: skip
    """The GradeRecord row of the grade just set on `sub` (its fields)."""
    return {
        "submission": sub,
        "score": sub.score,
        "max_score": sub.max_score,
        "source": source,
        "feedback": sub.feedback if result is not None else {},
        "reason": reason,
        "reason_code": reason_code,
        "reason_params": reason_params or {},
        "graded_by": graded_by,
    }


def _graded_event(sub: Submission, *, now, extra: dict | None = None) -> dict:
    """The `submission.graded` event of the grade just set on `sub`: its facts and outbox payload."""
    assignment = sub.assignment
    return {
        "user": sub.user,
        "submission": sub,
        "outbox": {
            "submission_id": sub.pk,
            "assignment_id": assignment.pk,
            "course_code": assignment.course.code,
            "score": str(sub.score),
            "max_score": str(sub.max_score),
            "graded_at": now.isoformat(),
            **(extra or {}),
        },
    }


def _run_grader(sub: Submission) -> tuple[GradeResult | None, str | None]:
    """(result, None) or (None, reason for staff). GraderUnavailable propagates."""
    kind = sub.assignment.kind
    try:
        _complete_version(sub)
        return get_grader(kind)(attempts.submission_spec(sub), sub.answer), None
    except GraderUnavailable:
        raise
    except GraderError as exc:
        return None, str(exc)
    except Exception as exc:  # a bug in a grader must not leave the row running forever
        log.exception("grader crashed")
        return None, f"grader crashed: {exc.__class__.__name__}: {exc}"


def _complete_version(sub: Submission) -> None:
    """Compute what the submission's version was published without (a code assignment imported
    where the sandbox could not run has no expected outputs) and store it with the version, so it
    is computed once, by the first worker whose sandbox runs. GraderUnavailable propagates: the
    submission waits queued until a sandbox runs."""
    completed = kinds.complete_spec(sub.assignment.kind, sub.version.spec)
    if completed is not None:
        sub.version = assignment_version_derived_store(version=sub.version, spec=completed)


def _grade_write(sub: Submission, result: GradeResult | None, error: str | None) -> Submission:
    """Record what the grader said on a locked, claimed submission: a failure, a review to do, or
    the grade (its side effects deferred to a batch, see grade_record)."""
    if error is not None:
        _fail(sub, code=Submission.Failure.GRADER_ERROR, log_entry=error)
        return sub
    if result.needs_review:
        sub.status = Submission.Status.NEEDS_REVIEW
        sub.feedback = result.feedback
        sub.staff_log = result.staff_log
        sub.claim_token, sub.lease_expires_at = "", None
        sub.save(update_fields=["status", "feedback", "staff_log", "claim_token", "lease_expires_at", "updated_at"])
        return sub
    grade_record(sub, result=result, source=GradeRecord.Source.AUTO, defer=True)
    return sub


GRADABLE = (Submission.Status.QUEUED, Submission.Status.RUNNING)


def _grade_with_queued(first: Submission, result: GradeResult, *, token: str) -> Submission:
    """Grade `first` (locked, claimed, its grader's `result` in hand) together with the oldest
    other queued submissions of the kinds that grade at once, up to GRADING_BATCH_SIZE in all:
    one transaction, one commit and a constant number of queries for the batch, instead of eight
    queries and a commit for each. A burst of quizzes is graded as fast as the queue delivers it.
    Each grade is exactly what grade_record writes (score, late policy, GradeRecord row, deferred
    `submission.graded` event), written in bulk. Every row stays locked until the commit, so a
    worker that dies meanwhile leaves every one queued, for its own task."""
    now = timezone.now()
    _grade_apply(first, result=result, score=None, now=now)  # GradeNotWritable: the caller's
    others = _queued_at_once(exclude=first.pk, limit=settings.GRADING_BATCH_SIZE - 1)
    _grades_write([(first, result), *_graded_alongside(others, token=token, now=now)], now=now)
    return first


def _queued_at_once(*, exclude: int | None, limit: int) -> list[Submission]:
    """The oldest queued submissions of the kinds that grade at once that no worker tried yet,
    locked with SKIP LOCKED: one that another worker holds, or waits for, is left to it (no
    deadlock, no wait). One queued again after its grade could not be stored waits for its own
    task and its backoff: a grade that cannot be written never fails a batch twice."""
    queued = (
        Submission.objects.select_for_update(of=("self",), skip_locked=True)
        .select_related("assignment__course", "user__organization", "version")
        .filter(
            status=Submission.Status.QUEUED,
            assignment__kind__in=[name for name, kind in kinds.KINDS.items() if kind.grades_at_once],
            grading_attempts=0,  # one tried before (its grade could not be stored) goes alone
        )
    )
    if exclude is not None:
        queued = queued.exclude(pk=exclude)
    return list(queued.order_by("pk")[:limit])


def _graded_alongside(subs: list[Submission], *, token: str, now) -> list[tuple[Submission, GradeResult]]:
    """Claim (with `token`, as their own task would) and grade, in memory, the locked queued
    submissions that grade cleanly. One whose grader errs, asks for a review, or whose grade
    cannot be stored is left out, untouched: its own task grades it alone."""
    graded = []
    for sub in subs:
        try:
            outcome, error = _run_grader(sub)
        except GraderUnavailable:
            continue
        if error is not None or outcome.needs_review:
            continue
        sub.status, sub.started_at, sub.claim_token = Submission.Status.RUNNING, now, token
        sub.grading_attempts += 1
        try:
            _grade_apply(sub, result=outcome, score=None, now=now)
        except GradeNotWritable:
            continue
        graded.append((sub, outcome))
    return graded


def _grades_write(graded: list[tuple[Submission, GradeResult]], *, now) -> None:
    """Store grades set in memory by _grade_apply from a grader's result (and their claims), in
    three INSERTs or UPDATEs and the LTI lookup, whatever their number."""
    if not graded:
        return
    subs = [sub for sub, _outcome in graded]
    Submission.objects.bulk_update(subs, [*AUTO_GRADE_FIELDS, "started_at", "grading_attempts"])
    latest_graded_refresh(pairs=[(sub.user_id, sub.assignment_id) for sub in subs])  # each was queued
    GradeRecord.objects.bulk_create(
        [GradeRecord(**_grade_history(sub, result=outcome, source=GradeRecord.Source.AUTO)) for sub, outcome in graded]
    )
    announce_many("submission.graded", [_graded_facts(sub, now=now) for sub in subs], defer=True)


def _grade_queued(*, token: str) -> int:
    """While another worker holds the submission this task asked for (it is grading it, most
    likely in a batch of its own): grade a batch of the other queued quizzes instead of waiting
    idle, in a savepoint of the caller's transaction. A grader or write error rolls the batch
    back (logged): those submissions wait for their own tasks. Returns how many were graded."""
    now = timezone.now()
    try:
        with transaction.atomic():
            queued = _queued_at_once(exclude=None, limit=settings.GRADING_BATCH_SIZE)
            graded = _graded_alongside(queued, token=token, now=now)
            _grades_write(graded, now=now)
    except TRANSIENT_DB_ERRORS:
        raise
    except Exception:
        log.warning("grading a batch of queued quizzes failed; they wait for their own tasks", exc_info=True)
        return 0
    return len(graded)


def _graded_facts(sub: Submission, *, now) -> tuple[dict, dict]:
    facts = _graded_event(sub, now=now)
    return facts, facts.pop("outbox")


def submission_grade(*, submission_id: int, token: str = "", batch: bool = True) -> Submission | None:
    """Grade one submission exactly once; safe to call any number of times for the same id.

    A kind that grades at once (Kind.grades_at_once: a quiz) is claimed, graded and recorded in
    one transaction under the row lock: a worker that dies meanwhile leaves it as it was (queued),
    for the redelivered message or the sweeper. Any other kind's grader runs outside any
    transaction while a heartbeat keeps the lease; the result is written only if the claim still
    holds. The sandbox itself failing (GraderUnavailable) puts the submission back in the queue,
    untouched and with its attempt given back, and is raised for the task to retry. Any other
    error while writing the grade counts as an attempt: the submission is queued again for the
    sweeper, or fails at the cap. Database errors propagate (the task retries, and its retry may
    re-claim the row).

    With `batch`, a quiz's grade is written together with those of up to GRADING_BATCH_SIZE - 1
    other queued quizzes (see _grade_with_queued): their own tasks then find them graded."""
    token = token or leases.new_token()
    waiting = Submission.objects.filter(pk=submission_id, status__in=GRADABLE)
    kind = waiting.values_list("assignment__kind", flat=True).first()
    if kind is None:
        return None  # graded already (in another one's batch, or a redelivery), or gone: one query
    batch = batch and kinds.grades_at_once(kind) and settings.GRADING_BATCH_SIZE > 1
    at_once = batched = False
    try:
        with transaction.atomic():
            sub = _locked_for_grading(submission_id, skip_locked=batch)
            if sub is None and batch:  # another worker holds it: grade other queued ones meanwhile
                _grade_queued(token=token)
            elif sub is None or not _claim_locked(sub, token=token):
                return None
            elif kinds.grades_at_once(sub.assignment.kind):
                at_once = True
                result, error = _run_grader(sub)
                if batch and error is None and not result.needs_review:
                    batched = True
                    return _grade_with_queued(sub, result, token=token)
                return _grade_write(sub, result, error)
        if sub is None:  # then wait for the worker that holds it, as any task does
            return submission_grade(submission_id=submission_id, token=token, batch=False)
    except (*TRANSIENT_DB_ERRORS, GraderUnavailable):
        raise  # rolled back: untouched, and the task retries
    except Exception as exc:  # decimal.InvalidOperation, DataError...: rolled back, counted below
        if not at_once:
            raise
        if batched:  # whichever grade of the batch failed, this one is tried again alone
            log.warning("grading submission %s with the queued ones failed; alone now", submission_id, exc_info=True)
            return submission_grade(submission_id=submission_id, token=token, batch=False)
        log.exception("recording the grade of submission %s failed", submission_id)
        if submission_claim(submission_id=submission_id, token=token) is None:
            return None
        return _grade_not_recorded(submission_id=submission_id, token=token, exc=exc)
    try:
        with leases.heartbeat(Submission, sub.pk, token):
            result, error = _run_grader(sub)
    except GraderUnavailable as exc:
        log.warning("grader unavailable for submission %s: %s", submission_id, exc)
        submission_release(submission_id=submission_id, token=token, why=f"waiting: {exc}")
        raise
    try:
        with transaction.atomic():
            sub = (
                Submission.objects.select_for_update(of=("self",))
                .select_related("assignment__course", "user")
                .get(pk=submission_id)
            )
            if not _holds(sub, token):
                return None  # the sweeper gave it to another worker, which owns the result now
            return _grade_write(sub, result, error)
    except TRANSIENT_DB_ERRORS:
        raise
    except Exception as exc:  # decimal.InvalidOperation, DataError...: never leave it running
        log.exception("recording the grade of submission %s failed", submission_id)
        return _grade_not_recorded(submission_id=submission_id, token=token, exc=exc)


def _grade_not_recorded(*, submission_id: int, token: str, exc: Exception) -> Submission | None:
    """Count a failed write as an attempt: queue the submission again (the sweeper sends it after
    a delay), or fail it once it reached GRADING_MAX_ATTEMPTS."""
    with transaction.atomic():
        sub = Submission.objects.select_for_update(of=("self",)).select_related("assignment__course", "user")
        sub = sub.filter(pk=submission_id).first()
        if sub is None or not _holds(sub, token):
            return None
        entry = f"attempt {sub.grading_attempts}: the grade could not be recorded: {exc.__class__.__name__}: {exc}"
        if sub.grading_attempts >= settings.GRADING_MAX_ATTEMPTS:
            _fail(sub, code=Submission.Failure.ATTEMPTS_EXHAUSTED, log_entry=entry)
            return sub
        now = timezone.now()
        sub.status = Submission.Status.QUEUED
        sub.staff_log = _staff_log(entry, sub.staff_log)
        sub.claim_token = ""
        sub.lease_expires_at = leases.resend_at(now=now, since=sub.submitted_at)
        sub.save(update_fields=["status", "staff_log", "claim_token", "lease_expires_at", "updated_at"])
        return sub


def submission_release(*, submission_id: int, token: str, why: str) -> bool:
    """Give a submission back to the queue, untouched, when this worker cannot grade it (the
    sandbox itself failed): its attempt is given back too, since no grader ran. Returns whether
    the claim still held."""
    now = timezone.now()
    sub = Submission.objects.filter(pk=submission_id).values("submitted_at").first()
    if sub is None:
        return False
    return bool(
        Submission.objects.filter(pk=submission_id, status=Submission.Status.RUNNING, claim_token=token).update(
            status=Submission.Status.QUEUED,
            started_at=None,
            claim_token="",
            lease_expires_at=leases.resend_at(now=now, since=sub["submitted_at"]),
            grading_attempts=Greatest(F("grading_attempts") - 1, Value(0)),
            staff_log=Substr(Concat(Value(f"{why}\n"), F("staff_log")), 1, MAX_STAFF_LOG),
            updated_at=now,
        )
    )


def _sweep_due(model, *, waiting: str, running: str, now, related=(), waiting_q=None, limit: int = 1000) -> list:
    """Take back the rows of `model` whose lease passed: running ones (their worker is dead or
    cut off) become waiting again, and every one gets a new resend time. Rows a live worker has
    locked this instant are skipped (it is claiming or writing them). Returns the rows taken."""
    waiting_q = Q(status=waiting) & (waiting_q or Q())
    rows = model.objects.select_for_update(skip_locked=True, of=("self",))
    due = list(
        (rows.select_related(*related) if related else rows)
        .filter(waiting_q | Q(status=running))
        .filter(Q(lease_expires_at__lte=now) | Q(lease_expires_at__isnull=True))
        .order_by("lease_expires_at")[:limit]
    )
    for row in due:
        row.status = waiting
        row.claim_token = ""
        row.lease_expires_at = leases.resend_at(now=now, since=_since(row))
    model.objects.bulk_update(due, ["status", "claim_token", "lease_expires_at"])
    return due


def _since(row):
    return row.submitted_at if isinstance(row, Submission) else row.job.created_at


def submissions_sweep_stuck() -> int:
    """Send again every submission whose lease passed: queued and never taken (a lost message, a
    broker outage) or running with no heartbeat (a dead worker). Returns how many it sent.
    Cheap (a partial index on the lease) and harmless when it races a live worker."""
    now = timezone.now()
    with transaction.atomic():
        due = _sweep_due(Submission, waiting=Submission.Status.QUEUED, running=Submission.Status.RUNNING, now=now)
        kinds = dict(Assignment.objects.filter(pk__in={s.assignment_id for s in due}).values_list("pk", "kind"))
    sent = 0
    for sub in due:
        sent += enqueue_grading(submission_id=sub.pk, kind=kinds[sub.assignment_id])
    return sent + regrade_sweep()


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
        now = timezone.now()
        sub.status = Submission.Status.QUEUED
        sub.staff_log = _staff_log(f"retried by {user}", sub.staff_log)
        sub.feedback = {}
        sub.failure_code = ""
        sub.grading_attempts = 0  # a fresh start: the cap counts again from here
        sub.started_at = None
        sub.graded_at = None
        sub.lease_expires_at = leases.resend_at(now=now, since=now)
        sub.save(
            update_fields=[
                "status", "staff_log", "feedback", "failure_code", "grading_attempts", "started_at", "graded_at",
                "lease_expires_at", "updated_at",
            ]
        )  # fmt: skip
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
        grade_record(sub, result=result, source=GradeRecord.Source.REVIEW, graded_by=reviewer)
    return sub


# --- regrades --------------------------------------------------------------------------------
# A regrade is a set of per-submission items (RegradeItem, unique per job and submission), made
# when the job starts. `regrade_run` (a short task) sends one `regrade_item` task per pending
# item; each item is claimed under its row lock with a lease, regraded, and marked done in the
# transaction that writes its GradeRecord, event and notification. So any number of deliveries
# regrade each submission once; a warm shutdown stops between items (each is its own task); after
# a kill, what was never started is still queued, and the sweeper takes back the item the dead
# worker held once its lease expires. Progress is counted from the items.


def regrade_start(
    *, user, assignment: Assignment, version: AssignmentVersion | None = None, submission: Submission | None = None
) -> RegradeJob:
    """Regrade one submission, or every graded/failed submission to a version, in the background:
    one item per target, and the job's task sent after commit."""
    _require_course_staff(user=user, assignment=assignment)
    if assignment.kind == Assignment.Kind.ESSAY:
        raise SubmissionRefused(_("Essays are regraded by review, not automatically."))
    if submission is None and version is None:
        version = assignment.current_version
    with transaction.atomic():
        job = RegradeJob.objects.create(
            assignment=assignment, version=version, submission=submission, requested_by=user
        )
        job.total = _regrade_items_create(job)
        job.save(update_fields=["total"])
        transaction.on_commit(lambda: _enqueue_regrade(job_id=job.pk))
    return job


def _regrade_items_create(job: RegradeJob) -> int:
    now = timezone.now()
    resend = leases.resend_at(now=now, since=now)
    RegradeItem.objects.bulk_create(
        [RegradeItem(job=job, submission_id=pk, lease_expires_at=resend) for pk in _regrade_targets(job)],
        ignore_conflicts=True,
    )
    return job.items.count()


def _regrade_queue(kind: str) -> str:
    return "sandbox" if kinds.uses_sandbox(kind) else "grading"


def _enqueue_regrade(*, job_id: int) -> bool:
    from . import tasks  # grading.tasks imports these services

    return enqueue(tasks.regrade_run, job_id)


def _enqueue_regrade_item(*, item_id: int, kind: str) -> bool:
    from . import tasks  # grading.tasks imports these services

    return enqueue(tasks.regrade_item, item_id, queue=_regrade_queue(kind))


def _regrade_targets(job: RegradeJob) -> list[int]:
    done = [Submission.Status.GRADED, Submission.Status.FAILED]
    if job.submission_id:
        return list(Submission.objects.filter(pk=job.submission_id, status__in=done).values_list("pk", flat=True))
    return list(
        Submission.objects.filter(version_id=job.version_id, status__in=done)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def regrade_run(*, job_id: int) -> int:
    """Send the task of every pending item of a job (a job started before items existed gets them
    now). Safe to run any number of times: an item is regraded once however often it is sent.
    Returns how many it sent."""
    with transaction.atomic():
        job = RegradeJob.objects.select_for_update().select_related("assignment").filter(pk=job_id).first()
        if job is None or job.status == RegradeJob.Status.DONE:
            return 0
        if not job.items.exists():
            job.total = _regrade_items_create(job)
            job.save(update_fields=["total"])
        now = timezone.now()
        pending = job.items.filter(status=RegradeItem.Status.PENDING)
        ids = list(pending.values_list("pk", flat=True))
        pending.update(lease_expires_at=leases.resend_at(now=now, since=job.created_at))
        _regrade_job_refresh(job)
        kind = job.assignment.kind
    return sum(_enqueue_regrade_item(item_id=pk, kind=kind) for pk in ids)


def _regrade_job_refresh(job: RegradeJob) -> None:
    """Count a locked job's items; the job is done when none is pending or running."""
    progress = job.progress()
    if (progress.done, progress.failed) != (job.done, job.failed):
        job.progressed_at = timezone.now()
    job.done, job.failed, job.total = progress.done, progress.failed, progress.total
    fields = ["done", "failed", "total", "progressed_at"]
    if progress.done + progress.failed >= progress.total:
        job.status, job.finished_at = RegradeJob.Status.DONE, job.finished_at or timezone.now()
        fields += ["status", "finished_at"]
    elif job.status == RegradeJob.Status.PENDING and (progress.done or progress.failed):
        job.status = RegradeJob.Status.RUNNING
        fields.append("status")
    job.save(update_fields=fields)


def regrade_item_claim(*, item_id: int, token: str = "") -> RegradeItem | None:
    """Take one regrade item under its row lock (as submission_claim takes a submission)."""
    token = token or leases.new_token()
    with transaction.atomic():
        item = RegradeItem.objects.select_for_update().filter(pk=item_id).first()
        if item is None:
            return None
        now = timezone.now()
        if not leases.claimable(item, token=token, pending=RegradeItem.Status.PENDING, now=now):
            return None
        if item.attempts >= settings.GRADING_MAX_ATTEMPTS:
            _regrade_item_finish(item, status=RegradeItem.Status.FAILED, error="taken too many times without a result")
            return None
        item.status = RegradeItem.Status.RUNNING
        item.claim_token = token
        item.lease_expires_at = leases.lease_until(now)
        item.attempts += 1
        item.save(update_fields=["status", "claim_token", "lease_expires_at", "attempts"])
    RegradeJob.objects.filter(pk=item.job_id, status=RegradeJob.Status.PENDING).update(status=RegradeJob.Status.RUNNING)
    return item


def _regrade_item_finish(item: RegradeItem, *, status: str, error: str = "") -> None:
    """Close a locked item and recount its job (locked here first: item completions of one job
    are serialized, so the counts are exact)."""
    job = RegradeJob.objects.select_for_update().get(pk=item.job_id)
    item.status, item.error, item.finished_at = status, error[:MAX_STAFF_LOG], timezone.now()
    item.claim_token, item.lease_expires_at = "", None
    item.save(update_fields=["status", "error", "finished_at", "claim_token", "lease_expires_at"])
    _regrade_job_refresh(job)


def regrade_item_run(*, item_id: int, token: str = "") -> RegradeItem | None:
    """Regrade one submission of a job, once: grade it with the grader of today outside any
    transaction (heartbeat on the item's lease), then, if the claim still holds, write the
    GradeRecord (source regrade, reason code "regrade"), event and notification and mark the item
    done in one transaction. The sandbox failing (GraderUnavailable) puts the item back, untouched,
    and is raised for the task to retry; a submission never gets a regrade from it."""
    item = regrade_item_claim(item_id=item_id, token=token)
    if item is None:
        return None
    token = item.claim_token
    sub = Submission.objects.select_related("version", "assignment").get(pk=item.submission_id)
    try:
        with leases.heartbeat(RegradeItem, item.pk, token):
            result, error = _run_grader(sub)
    except GraderUnavailable as exc:
        RegradeItem.objects.filter(pk=item.pk, status=RegradeItem.Status.RUNNING, claim_token=token).update(
            status=RegradeItem.Status.PENDING,
            claim_token="",
            attempts=Greatest(F("attempts") - 1, Value(0)),
            lease_expires_at=leases.resend_at(now=timezone.now(), since=item.job.created_at),
            error=f"waiting: {exc}"[:MAX_STAFF_LOG],
        )
        raise
    try:
        with transaction.atomic():
            job = RegradeJob.objects.select_for_update(of=("self",)).select_related("requested_by").get(pk=item.job_id)
            item = RegradeItem.objects.select_for_update().get(pk=item_id)
            if item.status != RegradeItem.Status.RUNNING or item.claim_token != token:
                return None  # the sweeper handed it to another worker
            locked = (
                Submission.objects.select_for_update(of=("self",))
                .select_related("assignment__course", "user")
                .get(pk=item.submission_id)
            )
            if error is None and locked.status in {Submission.Status.GRADED, Submission.Status.FAILED}:
                grade_record(
                    locked,
                    result=result,
                    source=GradeRecord.Source.REGRADE,
                    graded_by=job.requested_by,
                    reason_code=messages.REGRADE,
                    reason_params={"job": job.pk},
                    defer=True,
                )
                _regrade_item_finish(item, status=RegradeItem.Status.DONE)
            else:
                why = error or f"not regraded: the submission is {locked.status}"
                if error:
                    locked.staff_log = _staff_log(f"regrade #{job.pk} failed: {error}", locked.staff_log)
                    locked.save(update_fields=["staff_log", "updated_at"])
                _regrade_item_finish(item, status=RegradeItem.Status.FAILED, error=why)
    except TRANSIENT_DB_ERRORS:
        raise
    except Exception as exc:
        log.exception("recording regrade item %s failed", item_id)
        with transaction.atomic():
            item = RegradeItem.objects.select_for_update().select_related("job").get(pk=item_id)
            if item.status != RegradeItem.Status.RUNNING or item.claim_token != token:
                return None
            entry = f"attempt {item.attempts}: {exc.__class__.__name__}: {exc}"
            if item.attempts >= settings.GRADING_MAX_ATTEMPTS:
                _regrade_item_finish(item, status=RegradeItem.Status.FAILED, error=entry)
            else:
                item.status, item.claim_token, item.error = RegradeItem.Status.PENDING, "", entry
                item.lease_expires_at = leases.resend_at(now=timezone.now(), since=item.job.created_at)
                item.save(update_fields=["status", "claim_token", "error", "lease_expires_at"])
    item.refresh_from_db()
    return item


def regrade_sweep() -> int:
    """Send again the regrade items whose lease passed: running with no heartbeat (a dead
    worker), or pending and not taken in time (a lost message). Returns how many it sent."""
    now = timezone.now()
    # A pending item of a job whose items keep finishing is only waiting its turn in the queue.
    stalled = now - timedelta(seconds=settings.GRADING_QUEUED_RESEND_SECONDS)
    with transaction.atomic():
        due = _sweep_due(
            RegradeItem,
            waiting=RegradeItem.Status.PENDING,
            running=RegradeItem.Status.RUNNING,
            now=now,
            related=("job__assignment",),
            waiting_q=Q(job__progressed_at__isnull=True) | Q(job__progressed_at__lt=stalled),
        )
    return sum(_enqueue_regrade_item(item_id=item.pk, kind=item.job.assignment.kind) for item in due)


# --- sandbox health --------------------------------------------------------------------------


def sandbox_health_record(*, hostname: str | None = None, problem: str | None) -> SandboxHealth:
    """Store a worker's sandbox self-test outcome for /readyz and the admin."""
    health, _created = SandboxHealth.objects.update_or_create(
        hostname=hostname or socket.gethostname(),
        defaults={"is_ok": problem is None, "detail": problem or "", "checked_at": timezone.now()},
    )
    return health


def grading_unavailable_report(*, submission_id: int, problem: str, hostname: str | None) -> str | None:
    """The sandbox failed on this worker for a submission, retries included: the submission
    stays queued (fail closed, never a score), the worker tests its sandbox again and records the
    outcome, and the course staff are told (once a day per course). Returns the self-test's
    problem (None when the sandbox passes again: a passing failure, such as an exhausted slot)."""
    found = sandbox_self_test_record(hostname=hostname)
    sub = Submission.objects.select_related("assignment__course").filter(pk=submission_id).first()
    if sub is not None:
        with transaction.atomic():
            # Learning tells the course staff (once a day per course).
            announce("grading.unavailable", course=sub.assignment.course, worker=hostname or "", problem=problem)
    return found


def sandbox_self_test_record(*, hostname: str | None) -> str | None:
    """Test this worker's sandbox again and record the outcome. Returns the problem, or None."""
    found = sandbox.self_test()
    sandbox_health_record(hostname=hostname, problem=found)
    return found

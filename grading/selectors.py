"""Reads of submissions, scoped to who is asking.

Pages that show a submission to someone call the `*_for_reader` selectors: they record the read
in the learner's audit trail when the reader is not the learner (accounts.services.audit_reads),
whatever the page or its headers. `submission_get`, `review_get` and `review_queue` stay pure,
for the writes that only need the permission check (retry, regrade, the review's own save).

"This submission passed" and "each learner's latest graded attempt" are defined here once
(`passed_q`, `submission_passed`, `latest_graded_per_learner`, `latest_result_per_learner`); every app that asks either
question (courses' progress, learning, analytics, the university API, grading itself) uses them."""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.models import AuditEntry
from accounts.privilege import acts_privileged, is_platform_staff
from accounts.services import audit_reads
from assessment import kinds
from assessment.kinds.flag import grader as flag_grader
from courses import selectors as course_selectors
from courses.models import Assignment

from .models import RegradeJob, SandboxHealth, Submission

# --- the pass mark ------------------------------------------------------------------------------


def passing_score_q(*, pass_threshold=None) -> Q:
    """The row's score reaches the pass mark: score >= max_score x the assignment's pass threshold.
    For any row with `score` and `max_score` (a submission, a gradebook override). The threshold is
    the row's assignment's (`assignment__pass_threshold`) unless given, e.g. `OuterRef("pass_threshold")`
    in a subquery correlated with an Assignment."""
    threshold = F("assignment__pass_threshold") if pass_threshold is None else pass_threshold
    return Q(score__gte=F("max_score") * threshold)


def passed_q(*, pass_threshold=None) -> Q:
    """A submission that passed: graded, its score at or above the pass mark (`passing_score_q`)."""
    return Q(status=Submission.Status.GRADED) & passing_score_q(pass_threshold=pass_threshold)


def score_passes(*, score, max_score, pass_threshold) -> bool:
    """`passing_score_q` for values in hand (a cell, a value row). No score, or no maximum, is no pass
    (as in SQL, where the comparison with a NULL is not true)."""
    return score is not None and max_score is not None and score >= max_score * pass_threshold


def submission_passed(submission: Submission) -> bool:
    """`passed_q` for one submission in hand (its assignment is read for the threshold)."""
    return submission.status == Submission.Status.GRADED and score_passes(
        score=submission.score, max_score=submission.max_score, pass_threshold=submission.assignment.pass_threshold
    )


@dataclass(frozen=True)
class AttemptResult:
    """What a graded attempt means for its learner: passed or not (against the pass mark),
    attempts used and left (None: no limit), whether the right answers may be shown, and the
    lesson to go back to (the last lesson before the assignment in the course; None)."""

    passed: bool
    pass_percent: int
    attempts_used: int
    attempts_left: int | None
    reveal: bool
    lesson: object | None
    course_code: str


def answers_revealed(*, assignment: Assignment, attempts_used: int, now=None) -> bool:
    """The right answers are shown once the learner has no attempt left, or once the due date has
    passed; never before (with unlimited attempts and no due date, never: they would be a key
    to every next attempt)."""
    now = now or timezone.now()
    out_of_attempts = assignment.attempts_allowed is not None and attempts_used >= assignment.attempts_allowed
    return out_of_attempts or (assignment.due_at is not None and now >= assignment.due_at)


def attempt_result(*, submission: Submission) -> AttemptResult | None:
    """The AttemptResult of a graded submission, for its learner's page (None when not graded).
    Three queries."""
    if submission.status != Submission.Status.GRADED:
        return None
    assignment = submission.assignment
    used = Submission.objects.filter(user_id=submission.user_id, assignment=assignment).count()
    left = None if assignment.attempts_allowed is None else max(0, assignment.attempts_allowed - used)
    steps = course_selectors.course_steps(modules=course_selectors.course_outline(course=assignment.course))
    here = next((i for i, s in enumerate(steps) if s.kind == "assignment" and s.obj.pk == assignment.pk), None)
    lesson = next((s.obj for s in reversed(steps[:here]) if s.kind == "lesson"), None) if here else None
    return AttemptResult(
        passed=submission_passed(submission),
        pass_percent=round(assignment.pass_threshold * 100),
        attempts_used=used,
        attempts_left=left,
        reveal=answers_revealed(assignment=assignment, attempts_used=used),
        lesson=lesson,
        course_code=assignment.course.code,
    )


def passed_assignment_ids(*, user, assignment_ids=None, course=None) -> set[int]:
    """The assignments (among `assignment_ids`, or of `course`) this learner has passed. One query."""
    qs = Submission.objects.filter(passed_q(), user=user)
    if assignment_ids is not None:
        qs = qs.filter(assignment_id__in=assignment_ids)
    if course is not None:
        qs = qs.filter(assignment__course=course)
    return set(qs.values_list("assignment_id", flat=True))


def course_is_complete(*, user_id: int, course_id: int) -> bool:
    """A course is complete when every required assignment has a submission that passed."""
    required = Assignment.objects.filter(course_id=course_id, is_required=True)
    if not required.exists():
        return False
    passed = (
        Submission.objects.filter(passed_q(), user_id=user_id, assignment__in=required)
        .values("assignment_id")
        .distinct()
        .count()
    )
    return passed == required.count()


def enrollments_completed(enrollments: QuerySet) -> QuerySet:
    """Of `enrollments`, those whose course is complete for their learner (`course_is_complete`,
    as SQL: the course has a required assignment, and none without a submission that passed)."""
    required = Assignment.objects.filter(course_id=OuterRef("course_id"), is_required=True)
    passed = Submission.objects.filter(passed_q(), user_id=OuterRef(OuterRef("user_id")), assignment_id=OuterRef("pk"))
    return enrollments.filter(Exists(required)).exclude(Exists(required.exclude(Exists(passed))))


# --- the latest attempt -------------------------------------------------------------------------


def _latest(submissions: QuerySet | None, *, graded: bool) -> QuerySet:
    later = Submission.objects.filter(
        user_id=OuterRef("user_id"), assignment_id=OuterRef("assignment_id"), attempt__gt=OuterRef("attempt")
    )
    qs = Submission.objects.all() if submissions is None else submissions
    if graded:
        later = later.filter(status=Submission.Status.GRADED)
        qs = qs.filter(status=Submission.Status.GRADED)
    # NOT EXISTS rather than a window function: it composes with whatever the caller filters,
    # orders or pages on afterwards, and a later filter never changes which attempt is the latest.
    return qs.exclude(Exists(later))


def latest_graded_computed(submissions: QuerySet | None = None) -> QuerySet:
    """Of `submissions` (every submission by default), each learner's latest graded attempt at each
    assignment: the graded one with no later graded attempt (one per learner and assignment),
    computed from the attempts. The definition `Submission.is_latest_graded` maintains (and the
    backfill and the tests that hold the two in agreement use)."""
    return _latest(submissions, graded=True)


def latest_graded_per_learner(submissions: QuerySet | None = None) -> QuerySet:
    """`latest_graded_computed`, read from the maintained `Submission.is_latest_graded` (a partial
    index of those rows): what every reader of "the latest graded attempt" uses."""
    qs = Submission.objects.all() if submissions is None else submissions
    return qs.filter(is_latest_graded=True)


def latest_per_learner(submissions: QuerySet | None = None) -> QuerySet:
    """Of `submissions`, each learner's latest attempt at each assignment, whatever its status."""
    return _latest(submissions, graded=False)


def latest_result_per_learner(submissions: QuerySet | None = None) -> QuerySet:
    """Of `submissions`, each learner's standing result at each assignment: the latest graded
    attempt when there is one (a newer attempt still being graded does not hide it), else the
    latest attempt whatever its status. One row per learner and assignment; what a university is
    told the grade is (OneRoster results)."""
    qs = Submission.objects.all() if submissions is None else submissions
    any_graded = Submission.objects.filter(
        user_id=OuterRef("user_id"), assignment_id=OuterRef("assignment_id"), status=Submission.Status.GRADED
    )
    return latest_graded_per_learner(qs) | latest_per_learner(qs).exclude(Exists(any_graded))


def submission_get(*, user, pk: int) -> Submission | None:
    """A learner sees their own submissions; the course's instructors and staff see all of it."""
    sub = Submission.objects.select_related("assignment__course", "version", "user").filter(pk=pk).first()
    if sub is None or not user.is_authenticated:
        return None
    if sub.user_id == user.pk or course_selectors.is_course_staff(user=user, course=sub.assignment.course):
        return sub
    return None


def submission_get_for_reader(*, user, pk: int) -> Submission | None:
    """`submission_get`, and the read audited when `user` is not the submission's learner."""
    sub = submission_get(user=user, pk=pk)
    if sub is not None:
        audit_reads(actor=user, action=AuditEntry.Action.SUBMISSION_VIEW, subjects=[sub.user_id], obj=sub)
    return sub


def submission_list_for_learner(*, user, assignment) -> list[Submission]:
    return list(Submission.objects.filter(user=user, assignment=assignment).order_by("-attempt"))


def review_queue(*, user) -> list[Submission]:
    """Essays waiting for review in the courses this user teaches (every course for staff).
    One query whatever the length of the queue."""
    if not user.is_authenticated or not acts_privileged(user):
        return []
    qs = Submission.objects.filter(status=Submission.Status.NEEDS_REVIEW, assignment__kind=Assignment.Kind.ESSAY)
    if not is_platform_staff(user):
        qs = qs.filter(assignment__course__instructors=user)
    return list(qs.select_related("assignment__course", "user").order_by("submitted_at"))


def review_queue_for_reader(*, user) -> list[Submission]:
    """`review_queue`, each learner listed recorded as seen in a list by `user`."""
    queue = review_queue(user=user)
    audit_reads(actor=user, action=AuditEntry.Action.LIST_VIEW, subjects=[s.user_id for s in queue])
    return queue


def review_get(*, user, pk: int) -> Submission | None:
    """An essay to review: course staff only."""
    sub = submission_get(user=user, pk=pk)
    if sub is None or sub.assignment.kind != Assignment.Kind.ESSAY:
        return None
    if not course_selectors.is_course_staff(user=user, course=sub.assignment.course):
        return None
    return sub


def review_get_for_reader(*, user, pk: int) -> Submission | None:
    """`review_get`, the read of the essay audited."""
    sub = review_get(user=user, pk=pk)
    if sub is not None:
        audit_reads(actor=user, action=AuditEntry.Action.SUBMISSION_VIEW, subjects=[sub.user_id], obj=sub)
    return sub


def regrade_job_get(*, user, pk: int) -> RegradeJob | None:
    job = RegradeJob.objects.select_related("assignment__course").filter(pk=pk).first()
    if job is None or not course_selectors.is_course_staff(user=user, course=job.assignment.course):
        return None
    return job


SANDBOX_REPORT_MAX_AGE = timedelta(days=7)


def sandbox_status() -> str | None:
    """None when every code worker that reported recently passed its sandbox self-test; else why
    not (naming the workers whose sandbox is broken; they do not take code submissions)."""
    recent = list(SandboxHealth.objects.filter(checked_at__gte=timezone.now() - SANDBOX_REPORT_MAX_AGE))
    if not recent:
        return "no code-grading worker has reported a sandbox self-test: code submissions wait queued"
    broken = [h for h in recent if not h.is_ok]
    if not broken:
        return None
    ok = len(recent) - len(broken)
    head = f"{len(broken)} of {len(recent)} code workers have a broken sandbox" + (
        "; code submissions wait queued" if not ok else ""
    )
    return head + ": " + "; ".join(f"{h.hostname}: {h.detail}" for h in broken)


def code_grading_waits(*, kind: str, submission: Submission | None = None) -> bool:
    """Whether code grading cannot run now (no worker's sandbox passed its self-test), for an
    assignment of this kind (and, given, a submission still queued): the learner is told their
    code waits queued, and is graded once a sandbox runs."""
    if not kinds.uses_sandbox(kind) or (submission is not None and submission.status != Submission.Status.QUEUED):
        return False
    return sandbox_status() is not None


def flag_extras(*, spec: dict, attempts: list[Submission]) -> dict:
    """What a flag's page shows beside the prompt: the attached files, the hints this learner
    unlocked with their wrong flags (graded below full marks) and how many more wrong flags
    unlock the next one. Locked hints never leave this function."""
    wrong = sum(1 for s in attempts if s.status == Submission.Status.GRADED and s.score is not None
                and s.score < s.max_score)  # fmt: skip
    return flag_grader.extras(spec, wrong=wrong)

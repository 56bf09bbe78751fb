"""The gradebook: one row per enrolled learner, one cell per assignment. Every read here takes a
LearnerScope (analytics.permissions) and runs a fixed number of queries whatever the number of
learners: the enrollments (with the at-risk rules computed in SQL), the latest submission per
learner and assignment (grading's `latest_per_learner`), and the latest overrides."""

import operator
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from functools import reduce

from django.conf import settings
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from courses.models import Assignment, Course, Enrollment
from grading.models import Submission
from grading.selectors import latest_per_learner, passed_q, passing_score_q, score_passes
from kernel import bulk
from roster.gradebook import class_member_user_ids

from .models import GradeOverride
from .permissions import LearnerScope

CHUNK = 2000

STATUS_CHOICES = [
    ("active", gettext_lazy("Active")),
    ("completed", gettext_lazy("Completed")),
    ("dropped", gettext_lazy("Dropped")),
    ("completed-elsewhere", gettext_lazy("Completed elsewhere")),
]


@dataclass(frozen=True)
class Filters:
    organization_id: int | None = None
    source: str | None = None
    status: str | None = None
    at_risk: bool = False
    # A roster class (a university's OneRoster class mapped to the course): its students only.
    roster_class_id: int | None = None

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v not in (None, False, "")}

    @classmethod
    def from_dict(cls, data: dict) -> "Filters":
        return cls(
            **{k: data.get(k) for k in ("organization_id", "source", "status", "roster_class_id") if data.get(k)},
            at_risk=bool(data.get("at_risk")),
        )


def at_risk_rules() -> dict:
    return {"INACTIVE_DAYS": 14, "OVERDUE_ASSIGNMENTS": 2, "FAILING_REQUIRED": 1} | getattr(
        settings, "ANALYTICS_AT_RISK", {}
    )


def _learner_figures(assignments: list[Assignment], now) -> QuerySet:
    """The submissions at these assignments (a course's) grouped by learner, in one pass (an
    index-only scan of `grading_sub_assign_user_cov2`): `last` (the latest submission),
    `submitted_due` (the past-due assignments with a submission), `failing` (the required
    assignments graded but never passed, less those a passing override decides). Failing is
    graded minus passed because a pass is graded; an override takes its assignment out of both.
    The assignments' ids are literal, so the planner knows how many rows they hold."""
    ids = [a.pk for a in assignments]
    past_due = [a.pk for a in assignments if a.due_at is not None and a.due_at < now]
    required_ids = [a.pk for a in assignments if a.is_required]
    subs = Submission.objects.filter(assignment_id__in=ids).order_by()
    overridden = subs.filter(
        Exists(
            GradeOverride.objects.filter(
                passing_score_q(), user_id=OuterRef("user_id"), assignment_id=OuterRef("assignment_id")
            )
        )
    ).values("pk")
    required = Q(assignment_id__in=required_ids) & ~Q(pk__in=overridden)
    # Grouped by `learner` = user_id + 0, not user_id: grouped by the column, the planner reads
    # the whole table in learner order through the user_id index (1 s on 1M submissions) rather
    # than the course's rows from the covering index, sorted (30 ms).
    return (
        subs.values(learner=ExpressionWrapper(F("user_id") + 0, output_field=IntegerField()))
        .annotate(
            last=Max("submitted_at"),
            submitted_due=Count("assignment_id", distinct=True, filter=Q(assignment_id__in=past_due)),
            graded=Count("assignment_id", distinct=True, filter=required & Q(status=Submission.Status.GRADED)),
            passed=Count("assignment_id", distinct=True, filter=required & passed_q()),
        )
        .annotate(failing=F("graded") - F("passed"))
    )


def _at_risk_condition(course: Course, now, assignments: list[Assignment] | None = None) -> Q:
    """The at-risk rules as a condition on an enrollment, set-based: membership in two sets of
    learners computed once for the whole course (PostgreSQL hashes each), the learners with a
    submission and those of them at risk, never a subquery per learner. `at_risk_figures` gives
    the same verdict for rows in hand."""
    rules = at_risk_rules()
    idle_days, behind, failing = rules["INACTIVE_DAYS"], rules["OVERDUE_ASSIGNMENTS"], rules["FAILING_REQUIRED"]
    if not (idle_days or behind or failing):
        return Q(pk__in=[])
    cutoff = now - timedelta(days=idle_days or 0)
    if assignments is None:
        assignments = list(Assignment.objects.filter(course_id=course.pk).only("pk", "due_at", "is_required"))
    due = sum(1 for a in assignments if a.due_at is not None and a.due_at < now)
    # A learner with a submission: last activity is the latest one; overdue are the past-due
    # assignments less those with a submission. One with none: last activity is the enrollment,
    # every past-due assignment is overdue, and nothing is failed.
    with_rules, without_rules = [], []
    if idle_days:
        with_rules.append(Q(last__lt=cutoff))
        without_rules.append(Q(created_at__lt=cutoff))
    if behind:
        with_rules.append(Q(submitted_due__lte=due - behind))
        if due >= behind:
            without_rules.append(Q())
    if failing:
        with_rules.append(Q(failing__gte=failing))
    at_risk = _learner_figures(assignments, now).filter(reduce(operator.or_, with_rules)).values("learner")
    conditions = Q(user_id__in=at_risk)
    if without_rules:
        submitters = Submission.objects.filter(assignment_id__in=[a.pk for a in assignments]).values("user_id")
        silent = Q() if Q() in without_rules else reduce(operator.or_, without_rules)
        conditions |= ~Q(user_id__in=submitters) & silent
    return Q(status=Enrollment.Status.ACTIVE, completed_at__isnull=True) & conditions


def at_risk_flag(course: Course, now=None, assignments: list[Assignment] | None = None) -> ExpressionWrapper:
    """`is_at_risk` as a boolean column of an enrollment queryset (exports). `assignments`: the
    course's, when the caller has them (else one query)."""
    condition = _at_risk_condition(course, now or timezone.now(), assignments)
    return ExpressionWrapper(condition, output_field=BooleanField())


def at_risk_figures(*, course: Course, assignments: list[Assignment], enrollments: list[Enrollment], now=None) -> None:
    """Give these enrollments (rows in hand: a page, a list) the at-risk verdict and the figures
    its reasons name: `is_at_risk`, `last_activity_at`, `overdue_count`, `failing_count`. One
    query (`_learner_figures` for these learners), whatever their number."""
    now = now or timezone.now()
    if not enrollments:
        return
    rules = at_risk_rules()
    due = sum(1 for a in assignments if a.due_at is not None and a.due_at < now)
    figures = {
        uid: rest
        for uid, *rest in _learner_figures(assignments, now)
        .filter(**bulk.in_filter("user_id", {e.user_id for e in enrollments}))
        .values_list("learner", "last", "submitted_due", "failing")
    }
    cutoff = now - timedelta(days=rules["INACTIVE_DAYS"] or 0)
    for e in enrollments:
        last, submitted_due, failing_n = figures.get(e.user_id, (None, 0, 0))
        e.last_activity_at = last or e.created_at
        e.overdue_count = due - submitted_due
        e.failing_count = failing_n
        e.is_at_risk = (
            e.status == Enrollment.Status.ACTIVE
            and e.completed_at is None
            and bool(
                (rules["INACTIVE_DAYS"] and e.last_activity_at < cutoff)
                or (rules["OVERDUE_ASSIGNMENTS"] and e.overdue_count >= rules["OVERDUE_ASSIGNMENTS"])
                or (rules["FAILING_REQUIRED"] and e.failing_count >= rules["FAILING_REQUIRED"])
            )
        )


def enrollments(
    *, course: Course, scope: LearnerScope, filters: Filters = Filters(), now=None, assignments=None
) -> QuerySet:
    """The course's enrollments this scope may see, filtered (`at_risk`: by the set-based rules).
    Annotate `at_risk_flag` for the verdict as a column; rows in hand get it, with the figures
    behind it, from `at_risk_figures`."""
    now = now or timezone.now()
    qs = scope.filter_enrollments(Enrollment.objects.filter(course=course))
    if filters.organization_id:
        qs = qs.filter(user__organization_id=filters.organization_id)
    if filters.source:
        qs = qs.filter(source=filters.source)
    if filters.roster_class_id:
        qs = qs.filter(user_id__in=class_member_user_ids(roster_class_id=filters.roster_class_id))
    if filters.status == "completed":
        qs = qs.filter(completed_at__isnull=False)
    elif filters.status == "active":
        qs = qs.filter(status=Enrollment.Status.ACTIVE, completed_at__isnull=True)
    elif filters.status:
        qs = qs.filter(status=filters.status)
    if filters.at_risk:
        qs = qs.filter(_at_risk_condition(course, now, assignments))
    return qs


def course_assignments(*, course: Course) -> list[Assignment]:
    return list(Assignment.objects.filter(course=course).order_by("module__position", "position", "id"))


def latest_submissions(*, assignment_ids: list[int], user_ids) -> QuerySet:
    """(user_id, assignment_id, status, score, max_score, is_late, submitted_at, attempt) of the
    latest attempt per learner and assignment, ordered by learner. `user_ids`: list or subquery."""
    return (
        latest_per_learner(Submission.objects.filter(assignment_id__in=assignment_ids, user_id__in=user_ids))
        .order_by("user_id")
        .values_list("user_id", "assignment_id", "status", "score", "max_score", "is_late", "submitted_at", "attempt")
    )


def latest_overrides(*, assignment_ids: list[int], user_ids) -> QuerySet:
    return (
        GradeOverride.objects.filter(assignment_id__in=assignment_ids, user_id__in=user_ids)
        .order_by("user_id", "assignment_id", "-created_at", "-id")
        .values_list("user_id", "assignment_id", "score", "max_score", "created_at")
    )


# --- cells ------------------------------------------------------------------------------------

MISSING, LATE, REVIEW, FAILED, PENDING, GRADED = "missing", "late", "needs_review", "failed", "pending", "graded"
CELL_LABELS = {
    MISSING: gettext_lazy("not submitted"),
    REVIEW: gettext_lazy("needs review"),
    FAILED: gettext_lazy("failed to grade"),
    PENDING: gettext_lazy("grading"),
    LATE: gettext_lazy("late"),
}


@dataclass(slots=True)
class Cell:
    assignment: Assignment
    state: str = MISSING
    score: Decimal | None = None
    max_score: Decimal | None = None
    is_late: bool = False
    is_override: bool = False
    attempt: int = 0

    @property
    def passed(self) -> bool:
        return score_passes(score=self.score, max_score=self.max_score, pass_threshold=self.assignment.pass_threshold)

    @property
    def label(self) -> str:
        return str(CELL_LABELS.get(self.state, ""))


def _cell(assignment, sub, override) -> Cell:
    cell = Cell(assignment=assignment)
    if sub is not None:
        _u, _a, status, score, max_score, is_late, submitted_at, attempt = sub
        cell.attempt, cell.is_late = attempt, is_late
        if status == Submission.Status.GRADED:
            cell.state, cell.score, cell.max_score = GRADED, score, max_score
        elif status == Submission.Status.NEEDS_REVIEW:
            cell.state = REVIEW
        elif status == Submission.Status.FAILED:
            cell.state = FAILED
        else:
            cell.state = PENDING
    if override is not None and (sub is None or override[4] >= sub[6]):
        cell.state, cell.score, cell.max_score, cell.is_override = GRADED, override[2], override[3], True
    return cell


@dataclass
class Row:
    enrollment: Enrollment
    cells: list[Cell] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((c.score for c in self.cells if c.score is not None), Decimal(0))

    @property
    def required_passed(self) -> int:
        return sum(1 for c in self.cells if c.assignment.is_required and c.passed)

    @property
    def is_complete(self) -> bool:
        return self.enrollment.completed_at is not None or self.enrollment.status == "completed-elsewhere"

    @property
    def risk_reasons(self) -> list[str]:
        if not getattr(self.enrollment, "is_at_risk", False):
            return []
        rules, e, reasons = at_risk_rules(), self.enrollment, []
        now = timezone.now()
        if rules["INACTIVE_DAYS"] and e.last_activity_at < now - timedelta(days=rules["INACTIVE_DAYS"]):
            days = (now - e.last_activity_at).days
            reasons.append(ngettext("inactive for %(n)d day", "inactive for %(n)d days", days) % {"n": days})
        if rules["OVERDUE_ASSIGNMENTS"] and e.overdue_count >= rules["OVERDUE_ASSIGNMENTS"]:
            n = e.overdue_count
            reasons.append(ngettext("%(n)d assignment overdue", "%(n)d assignments overdue", n) % {"n": n})
        if rules["FAILING_REQUIRED"] and e.failing_count >= rules["FAILING_REQUIRED"]:
            n = e.failing_count
            reasons.append(
                ngettext("failing %(n)d required assignment", "failing %(n)d required assignments", n) % {"n": n}
            )
        return reasons


@dataclass
class Gradebook:
    course: Course
    assignments: list[Assignment]
    rows: list[Row]
    page: object  # django Paginator page
    total_points: Decimal


def gradebook_page(
    *, course: Course, scope: LearnerScope, filters: Filters, page_number, per_page: int | None = None
) -> Gradebook:
    """One page of the gradebook. Seven queries whatever the number of learners."""
    from django.core.paginator import Paginator

    per_page = per_page or settings.ANALYTICS_GRADEBOOK_PAGE_SIZE
    assignments = course_assignments(course=course)
    qs = enrollments(course=course, scope=scope, filters=filters, assignments=assignments)
    if filters.at_risk:
        # The at-risk sets are computed once, here, not again for the count and for the page.
        qs = Enrollment.objects.filter(**bulk.in_filter("pk", qs.values_list("pk", flat=True)))
    qs = qs.select_related("user", "user__organization").order_by("user__full_name", "user_id")
    page = Paginator(qs, per_page).get_page(page_number)
    page_enrollments = list(page.object_list)
    at_risk_figures(course=course, assignments=assignments, enrollments=page_enrollments)
    user_ids = [e.user_id for e in page_enrollments]
    aids = [a.pk for a in assignments]
    subs: dict[tuple[int, int], tuple] = {}
    overrides: dict[tuple[int, int], tuple] = {}
    if user_ids and aids:
        subs = {(s[0], s[1]): s for s in latest_submissions(assignment_ids=aids, user_ids=user_ids)}
        for o in latest_overrides(assignment_ids=aids, user_ids=user_ids):
            overrides.setdefault((o[0], o[1]), o)
    rows = [
        Row(
            enrollment=e,
            cells=[_cell(a, subs.get((e.user_id, a.pk)), overrides.get((e.user_id, a.pk))) for a in assignments],
        )
        for e in page_enrollments
    ]
    total_points = sum((a.points for a in assignments), Decimal(0))
    return Gradebook(course=course, assignments=assignments, rows=rows, page=page, total_points=total_points)


# --- export rows --------------------------------------------------------------------------------


def export_header(assignments: list[Assignment]) -> list[str]:
    return [
        _("External id"),
        _("University"),
        _("Name"),
        _("E-mail"),
        _("Enrollment source"),
        _("Status"),
        _("Completed"),
        *[f"{a.title} (/{a.points.normalize():f})" for a in assignments],
        _("Total"),
        _("At risk"),
    ]


def export_rows(
    *, course: Course, scope: LearnerScope, filters: Filters, on_learners: Callable[[list[int]], None] | None = None
) -> Iterator[list]:
    """The header, then one list per learner, ordered by learner id. Four queries whatever the
    number of learners (server-side cursors, CHUNK rows at a time): constant memory.
    `on_learners` is called with the ids of the learners whose rows were taken, CHUNK at a time
    and when the export ends or is abandoned (the read audit of an export)."""
    taken: list[int] = []
    try:
        for uid, row in _export_rows(course=course, scope=scope, filters=filters):
            yield row
            if on_learners is not None and uid is not None:
                taken.append(uid)
                if len(taken) >= CHUNK:
                    on_learners(taken)
                    taken = []
    finally:
        if on_learners is not None and taken:
            on_learners(taken)


def _export_rows(*, course: Course, scope: LearnerScope, filters: Filters) -> Iterator[tuple[int | None, list]]:
    assignments = course_assignments(course=course)
    yield None, export_header(assignments)
    aids = [a.pk for a in assignments]
    position = {a.pk: i for i, a in enumerate(assignments)}
    labels = {k: str(v) for k, v in CELL_LABELS.items()}
    learners = enrollments(course=course, scope=scope, filters=filters, assignments=assignments)
    user_ids = learners.values("user_id")
    people = (
        learners.annotate(is_at_risk=at_risk_flag(course, assignments=assignments))
        .order_by("user_id")
        .values_list(
            "user_id",
            "user__external_id",
            "user__organization__name",
            "user__full_name",
            # A stand-in (a university's pending link) shows the address its roster gave.
            Coalesce(NullIf("user__roster_email", Value("")), "user__email"),
            "source",
            "status",
            "completed_at",
            "is_at_risk",
        )
    )
    subs = iter(latest_submissions(assignment_ids=aids, user_ids=user_ids).iterator(chunk_size=CHUNK))
    overs = iter(latest_overrides(assignment_ids=aids, user_ids=user_ids).iterator(chunk_size=CHUNK))
    sub = next(subs, None)
    over = next(overs, None)
    n = len(assignments)
    yes, no = _("yes"), _("no")
    for uid, ext, org, name, email, source, status, completed_at, at_risk in people.iterator(chunk_size=CHUNK):
        cells: list = [labels[MISSING]] * n
        submitted_at: list = [None] * n
        while sub is not None and sub[0] < uid:
            sub = next(subs, None)
        while sub is not None and sub[0] == uid:
            i = position[sub[1]]
            state = sub[2]
            if state == "graded":
                cells[i] = sub[3]
            elif state == "needs_review":
                cells[i] = labels[REVIEW]
            elif state == "failed":
                cells[i] = labels[FAILED]
            else:
                cells[i] = labels[PENDING]
            submitted_at[i] = sub[6]
            sub = next(subs, None)
        while over is not None and over[0] < uid:
            over = next(overs, None)
        seen = set()
        while over is not None and over[0] == uid:
            i = position[over[1]]
            if over[1] not in seen and (submitted_at[i] is None or over[4] >= submitted_at[i]):
                cells[i] = over[2]
            seen.add(over[1])
            over = next(overs, None)
        total = sum(c for c in cells if not isinstance(c, str))
        yield (
            uid,
            [
                ext or "",
                org or "",
                name,
                email,
                source,
                status,
                completed_at.date().isoformat() if completed_at else "",
                *cells,
                total,
                yes if at_risk else no,
            ],
        )

"""Course, path, assignment and question analytics, scoped to the learners the acting user may
see (a LearnerScope). Each function runs a fixed number of queries; the arithmetic (medians,
histograms, item analysis) runs in Python over value tuples streamed from the database."""

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import (
    Aggregate,
    Avg,
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    Max,
    Value,
    When,
)
from django.db.models.functions import Floor, Least, TruncWeek
from django.utils import timezone

from accounts.privilege import acts_privileged, is_platform_staff
from assessment.kinds.quiz.attempt import POOLS, drawn_id
from courses.models import Assignment, Course, Enrollment, LearningPath, PathCourse, PublicationStatus
from grading.models import Submission
from grading.selectors import latest_graded_per_learner, passed_q, passing_score_q, score_passes

from . import gradebook
from .permissions import LearnerScope

HISTOGRAM_BINS = 10


def scoped_enrollments(*, course_ids, scope: LearnerScope):
    return scope.filter_enrollments(Enrollment.objects.filter(course_id__in=course_ids))


def _median(values):
    return statistics.median(values) if values else None


@dataclass
class AssignmentStats:
    assignment: Assignment
    submissions: int = 0
    learners: int = 0
    graded_learners: int = 0
    mean: float | None = None  # percent of the points
    median: float | None = None
    pass_rate: float | None = None  # percent of graded learners
    attempts_per_learner: float | None = None
    histogram: list[int] = field(default_factory=lambda: [0] * HISTOGRAM_BINS)

    @property
    def histogram_bins(self) -> list[tuple[str, int]]:
        width = 100 // HISTOGRAM_BINS
        return [(f"{i * width}–{(i + 1) * width}", n) for i, n in enumerate(self.histogram)]


def _latest_graded(*, assignment_ids, user_ids):
    """Each learner's latest graded attempt at these assignments (grading's definition)."""
    return latest_graded_per_learner(Submission.objects.filter(assignment_id__in=assignment_ids, user_id__in=user_ids))


def assignment_stats(*, course: Course, scope: LearnerScope, assignments=None) -> list[AssignmentStats]:
    """Per assignment: submissions, learners, mean/median score, pass rate, attempts per learner,
    score histogram. Four queries, aggregated in the database (on SQLite the latest attempts
    are summed up in Python): the assignments, the counts, and two grouped passes over the latest
    graded attempts (grading's maintained `is_latest_graded`, read from its partial index)."""
    assignments = assignments if assignments is not None else gradebook.course_assignments(course=course)
    stats = {a.pk: AssignmentStats(assignment=a) for a in assignments}
    user_ids = scoped_enrollments(course_ids=[course.pk], scope=scope).values("user_id")
    counts = (
        Submission.objects.filter(assignment_id__in=stats, user_id__in=user_ids)
        .values("assignment_id")
        .annotate(n=Count("*"), learners=Count("user_id", distinct=True))  # COUNT(*): index only
        .order_by()
    )
    for row in counts:
        s = stats[row["assignment_id"]]
        s.submissions, s.learners = row["n"], row["learners"]
        s.attempts_per_learner = round(s.submissions / s.learners, 2) if s.learners else None
    latest = _latest_graded(assignment_ids=list(stats), user_ids=user_ids).order_by()
    if connection.vendor != "postgresql":  # embedded SQLite: no percentile_cont; in Python
        _stats_in_python(stats, latest)
        return [stats[a.pk] for a in assignments]
    # Aggregated in the database, never a row per learner; counting the index's own columns (not
    # the id), so that the read needs nothing the partial index lacks (an index-only scan).
    share = Case(
        When(max_score__gt=0, then=F("score") * 100 / F("max_score")),
        default=Value(Decimal(0)),
        output_field=DecimalField(),
    )
    summary = latest.values("assignment_id").annotate(
        n=Count("*"), mean=Avg(share), median=Median(share), passes=Count("assignment_id", filter=passing_score_q())
    )
    for row in summary.values_list("assignment_id", "n", "mean", "median", "passes"):
        aid, n, mean, median, passes = row
        s = stats[aid]
        s.graded_learners = n
        s.mean = round(float(mean), 1)
        s.median = round(float(median), 1)
        s.pass_rate = round(100 * passes / n, 1)
    # The bands in a grouped pass of their own: as ten filtered counts beside the median, the
    # share's arithmetic ran ten times a row (3x slower on a 5,000-learner course).
    band = Least(Floor(share * HISTOGRAM_BINS / 100), Value(HISTOGRAM_BINS - 1), output_field=IntegerField())
    for aid, b, n in (
        latest.values("assignment_id", band=band).annotate(n=Count("*")).values_list("assignment_id", "band", "n")
    ):
        stats[aid].histogram[int(b)] += n
    return [stats[a.pk] for a in assignments]


class Median(Aggregate):
    """PostgreSQL's median: percentile_cont(0.5), as statistics.median (the mean of the two
    middle values of an even count)."""

    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def _stats_in_python(stats: dict, latest) -> None:
    """assignment_stats' figures over the latest attempts streamed to Python (SQLite)."""
    shares: dict[int, list[float]] = defaultdict(list)
    passes: Counter[int] = Counter()
    for aid, score, max_score in latest.values_list("assignment_id", "score", "max_score").iterator(chunk_size=5000):
        shares[aid].append(float(score / max_score * 100) if max_score else 0.0)
        threshold = stats[aid].assignment.pass_threshold
        passes[aid] += score_passes(score=score, max_score=max_score, pass_threshold=threshold)
    for aid, values in shares.items():
        s = stats[aid]
        s.graded_learners = len(values)
        s.mean = round(statistics.fmean(values), 1)
        s.median = round(_median(values), 1)
        s.pass_rate = round(100 * passes[aid] / len(values), 1)
        for v in values:
            s.histogram[min(int(v // (100 / HISTOGRAM_BINS)), HISTOGRAM_BINS - 1)] += 1


@dataclass
class QuestionStats:
    id: str
    prompt: str
    answered: int = 0  # a drawn question: the attempts that drew it
    correct: int = 0
    difficulty: float | None = None  # share correct, 0..1
    discrimination: float | None = None  # p(upper 27%) - p(lower 27%)
    distribution: list[tuple[str, str, int, bool]] = field(default_factory=list)  # (id, text, count, is_key)
    tag: str = ""  # the bank it is drawn from (its competency code); "" for a question of the quiz's own

    @property
    def is_flagged(self) -> bool:
        return self.discrimination is not None and self.discrimination < 0


def _graded_questions(feedback) -> dict[str, bool]:
    """{question id: answered correctly} as the grader recorded them in a quiz's feedback."""
    items = feedback.get("questions") if isinstance(feedback, dict) else None
    if not isinstance(items, list):
        return {}
    return {q["id"]: q.get("correct") is True for q in items if isinstance(q, dict) and isinstance(q.get("id"), str)}


def _distribution(q: dict, answers: list, qid: str, scope: LearnerScope) -> list[tuple[str, str, int, bool]]:
    key = set(q.get("answer") or [])
    picks = Counter(c for a in answers if isinstance(a.get(qid), list) for c in a[qid])
    return [
        (c["id"], c.get("text", c["id"]), picks.get(c["id"], 0), scope.can_see_answer_keys and c["id"] in key)
        for c in q.get("choices", [])
    ]


def item_analysis(*, assignment: Assignment, scope: LearnerScope) -> list[QuestionStats]:
    """Per question of a quiz, over each learner's latest graded attempt: difficulty, the
    discrimination index (upper vs lower 27% by score), and the answer distribution. Questions
    are those of the current version, then each question of the banks it draws from (as its
    version froze them, `pools`), with its tag; attempts on older versions count where ids match.
    A drawn question counts the attempts that drew it, right or wrong as the grader recorded it
    in the attempt's feedback, and its discrimination compares those of the upper and lower
    groups that drew it. Which choices are the key is told only to a scope that may see answer
    keys (the course's staff). Three queries."""
    if assignment.kind != Assignment.Kind.QUIZ or assignment.current_version_id is None:
        return []
    current = assignment.current_version.spec.get("questions", [])
    pools = assignment.current_version.spec.get(POOLS) or {}
    user_ids = scoped_enrollments(course_ids=[assignment.course_id], scope=scope).values("user_id")
    rows = list(
        _latest_graded(assignment_ids=[assignment.pk], user_ids=user_ids).values_list(
            "score", "max_score", "answer", "version_id", "feedback"
        )
    )
    versions = dict(assignment.versions.values_list("pk", "spec"))
    keys = {
        vid: {q["id"]: set(q.get("answer") or []) for q in spec.get("questions", []) if isinstance(q, dict)}
        for vid, spec in versions.items()
    }
    rows.sort(key=lambda r: (r[0] / r[1]) if r[1] else 0)
    n = len(rows)
    k = max(1, round(n * 0.27)) if n >= 2 else 0
    lower, upper = rows[:k], rows[n - k :] if k else []
    result = []
    for q in current:
        qid = q["id"]

        def correct(row, qid=qid):
            given = row[2].get(qid) if isinstance(row[2], dict) else None
            expected = keys.get(row[3], {}).get(qid)
            return expected is not None and isinstance(given, list) and set(given) == expected

        answered = [r for r in rows if isinstance(r[2], dict) and qid in r[2]]
        stats = QuestionStats(id=qid, prompt=q.get("prompt", qid), answered=len(answered))
        stats.correct = sum(1 for r in answered if correct(r))
        if answered:
            stats.difficulty = round(stats.correct / len(answered), 3)
        if k:
            p_up = sum(1 for r in upper if correct(r)) / k
            p_low = sum(1 for r in lower if correct(r)) / k
            stats.discrimination = round(p_up - p_low, 3)
        stats.distribution = _distribution(q, [r[2] for r in answered], qid, scope)
        result.append(stats)

    graded = [_graded_questions(r[4]) for r in rows]  # in the rows' order (by score)
    answers = [r[2] if isinstance(r[2], dict) else {} for r in rows]
    for tag in sorted(pools):
        for q in pools[tag] if isinstance(pools[tag], list) else []:
            if not isinstance(q, dict) or not isinstance(q.get("id"), str):
                continue
            qid = drawn_id(tag, q["id"])
            drew = [i for i in range(n) if qid in graded[i]]
            stats = QuestionStats(id=qid, prompt=q.get("prompt", q["id"]), answered=len(drew), tag=tag)
            stats.correct = sum(1 for i in drew if graded[i][qid])
            if drew:
                stats.difficulty = round(stats.correct / len(drew), 3)
            up = [graded[i][qid] for i in drew if i >= n - k]
            low = [graded[i][qid] for i in drew if i < k]
            if k and up and low:
                stats.discrimination = round(sum(up) / len(up) - sum(low) / len(low), 3)
            stats.distribution = _distribution(q, [answers[i] for i in drew], qid, scope)
            result.append(stats)
    return result


@dataclass
class Funnel:
    weeks: list[tuple[str, int, int]]  # (week, cumulative enrolled, cumulative completed)
    enrolled: int
    started: int
    completed: int
    median_days_to_complete: float | None


def _weekly(enrolled_by_week: dict, completed_by_week: dict) -> list[tuple[str, int, int]]:
    weeks = sorted(set(enrolled_by_week) | set(completed_by_week))
    series, total_e, total_c = [], 0, 0
    for w in weeks:
        total_e += enrolled_by_week.get(w, 0)
        total_c += completed_by_week.get(w, 0)
        series.append((w.date().isoformat() if hasattr(w, "date") else str(w), total_e, total_c))
    return series


def course_funnel(*, course: Course, scope: LearnerScope) -> Funnel:
    """Enrollment and completion over time (cumulative, per week), the enrolled -> started ->
    completed funnel, and the median time to complete. Four queries."""
    qs = scoped_enrollments(course_ids=[course.pk], scope=scope)
    by_week = dict(
        qs.annotate(w=TruncWeek("created_at")).values("w").annotate(n=Count("id")).order_by().values_list("w", "n")
    )
    done = qs.filter(completed_at__isnull=False)
    done_by_week = dict(
        done.annotate(w=TruncWeek("completed_at")).values("w").annotate(n=Count("id")).order_by().values_list("w", "n")
    )
    durations = [(c - s).total_seconds() / 86400 for s, c in done.values_list("created_at", "completed_at").iterator()]
    started = (
        Submission.objects.filter(assignment__course=course, user_id__in=qs.values("user_id"))
        .values("user_id")
        .distinct()
        .count()
    )
    return Funnel(
        weeks=_weekly(by_week, done_by_week),
        enrolled=sum(by_week.values()),
        started=started,
        completed=len(durations),
        median_days_to_complete=round(_median(durations), 1) if durations else None,
    )


def competency_progress(*, course: Course, scope: LearnerScope) -> list[tuple[str, float, int]]:
    """(competency, percent of learner x assignment pairs passed, assignments) for each
    competency of the course's assignments. Three queries."""
    qs = scoped_enrollments(course_ids=[course.pk], scope=scope)
    learners = qs.count()
    links = list(
        Assignment.competencies.through.objects.filter(assignment__course=course).values_list(
            "competency__name", "assignment_id"
        )
    )
    passed = dict(
        Submission.objects.filter(passed_q(), assignment__course=course, user_id__in=qs.values("user_id"))
        .values("assignment_id")
        .annotate(n=Count("user_id", distinct=True))
        .order_by()
        .values_list("assignment_id", "n")
    )
    by_comp: dict[str, list[int]] = defaultdict(list)
    for name, aid in links:
        by_comp[name].append(aid)
    result = []
    for name, aids in sorted(by_comp.items()):
        possible = learners * len(aids)
        share = 100 * sum(passed.get(a, 0) for a in aids) / possible if possible else 0.0
        result.append((name, round(share, 1), len(aids)))
    return result


def at_risk_list(*, course: Course, scope: LearnerScope, limit: int = 100, assignments=None):
    """The course's at-risk learners (most inactive first) and how many there are. Four queries,
    each set-based: the at-risk learners, their last activity (grouped by learner), the first
    `limit` of them, and their figures."""
    assignments = assignments if assignments is not None else gradebook.course_assignments(course=course)
    now = timezone.now()
    qs = gradebook.enrollments(
        course=course, scope=scope, filters=gradebook.Filters(at_risk=True), now=now, assignments=assignments
    )
    learners = list(qs.values_list("user_id", "created_at"))
    last = dict(
        # Every learner's of the course, by the assignments' ids alone and grouped by user_id + 0:
        # an index-only scan of the covering index (about 20 ms for 5,000 learners). Filtered by the
        # at-risk learners' ids too, the planner reads the table's pages for them instead (120 ms).
        Submission.objects.filter(assignment_id__in=[a.pk for a in assignments])
        .order_by()
        .values(learner=ExpressionWrapper(F("user_id") + 0, output_field=IntegerField()))
        .annotate(last=Max("submitted_at"))
        .values_list("learner", "last")
    )
    learners.sort(key=lambda r: (last.get(r[0]) or r[1], r[0]))
    first = [uid for uid, _created in learners[:limit]]
    picked = Enrollment.objects.filter(course=course, user_id__in=first).select_related("user", "user__organization")
    by_user = {e.user_id: e for e in picked}
    shown = [by_user[uid] for uid in first]
    gradebook.at_risk_figures(course=course, assignments=assignments, enrollments=shown, now=now)
    return [gradebook.Row(enrollment=e) for e in shown], len(learners)


@dataclass
class PathStep:
    course: Course
    enrolled: int = 0
    completed: int = 0


def path_analytics(*, path: LearningPath, scope: LearnerScope) -> dict:
    """A path's funnel: per course in order, learners enrolled and completed; over time; and the
    median time to complete the whole path. Three queries."""
    steps = [
        PathStep(course=pc.course)
        for pc in PathCourse.objects.filter(path=path).select_related("course").order_by("position")
    ]
    course_ids = [s.course.pk for s in steps]
    by_course = {s.course.pk: s for s in steps}
    enrolled_by_week: Counter = Counter()
    completed_by_week: Counter = Counter()
    per_learner: dict[int, list] = defaultdict(list)
    rows = (
        scoped_enrollments(course_ids=course_ids, scope=scope)
        .values_list("user_id", "course_id", "created_at", "completed_at")
        .iterator(chunk_size=5000)
    )
    for uid, cid, created, completed in rows:
        step = by_course[cid]
        step.enrolled += 1
        enrolled_by_week[_week(created)] += 1
        if completed:
            step.completed += 1
            completed_by_week[_week(completed)] += 1
        per_learner[uid].append((created, completed))
    durations = []
    for items in per_learner.values():
        if len(items) == len(course_ids) and all(c for _s, c in items):
            durations.append((max(c for _s, c in items) - min(s for s, _c in items)).total_seconds() / 86400)
    return {
        "steps": steps,
        "weeks": _weekly(enrolled_by_week, completed_by_week),
        "completed_path": len(durations),
        "median_days_to_complete": round(_median(durations), 1) if durations else None,
    }


def _week(moment):
    local = timezone.localtime(moment)
    start = local - timedelta(days=local.weekday())
    return start.replace(hour=0, minute=0, second=0, microsecond=0)


def visible_courses(*, user):
    """Courses for the teaching index: staff all, instructors theirs, university admins those
    their learners are enrolled in. One query (plus the role lookup)."""
    from .permissions import administered_organization_ids

    if not user.is_authenticated or not acts_privileged(user):
        return Course.objects.none()
    if is_platform_staff(user):
        return Course.objects.order_by("code")
    org_ids = administered_organization_ids(user)
    qs = Course.objects.filter(instructors=user)
    if org_ids:  # drafts are their authors' only
        qs = qs | Course.objects.filter(enrollments__user__organization_id__in=org_ids).exclude(
            status=PublicationStatus.DRAFT
        )
    return qs.distinct().order_by("code")


def visible_paths(*, user):
    from .permissions import administered_organization_ids

    if not user.is_authenticated or not acts_privileged(user):
        return LearningPath.objects.none()
    if is_platform_staff(user) or administered_organization_ids(user):
        return LearningPath.objects.order_by("code")
    return LearningPath.objects.filter(courses__instructors=user).distinct().order_by("code")


def decimal_percent(value: Decimal, total: Decimal) -> float:
    return round(float(value / total * 100), 1) if total else 0.0

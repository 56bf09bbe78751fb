"""Reads for the learner's pages: dashboard, path progress per competency, grade history and
notifications. Each is scoped to the acting learner and runs a fixed number of queries."""

from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Prefetch
from django.utils import timezone

from accounts.privilege import is_platform_staff
from certificates.models import Certificate
from courses.models import Assignment, Competency, Enrollment, LearningPath, Lesson, LessonProgress, PathCourse
from grading.models import GradeRecord, Submission
from grading.selectors import passed_assignment_ids

from .messages import notification_text
from .models import Notification, NotificationKind, NotificationSetting

DEADLINE_HORIZON = timedelta(days=14)


@dataclass
class CourseProgress:
    enrollment: Enrollment
    required: int = 0
    passed: int = 0
    next_step: dict | None = None

    @property
    def course(self):
        return self.enrollment.course

    @property
    def percent(self) -> int:
        if self.enrollment.completed_at:
            return 100
        return round(100 * self.passed / self.required) if self.required else 0


@dataclass
class Dashboard:
    courses: list[CourseProgress] = field(default_factory=list)
    paths: list = field(default_factory=list)
    deadlines: list = field(default_factory=list)
    recent: list = field(default_factory=list)
    notifications: list = field(default_factory=list)
    certificates: list = field(default_factory=list)


def dashboard(*, user) -> Dashboard:
    """The learner's courses with progress and next step, their paths, deadlines in the next two
    weeks, recent grades with feedback, unread notifications and certificates."""
    now = timezone.now()
    enrollments = list(
        Enrollment.objects.filter(user=user, status=Enrollment.Status.ACTIVE)
        .select_related("course")
        .order_by("completed_at", "-updated_at")
    )
    course_ids = [e.course_id for e in enrollments]
    assignments = list(
        Assignment.objects.filter(course_id__in=course_ids, current_version__isnull=False)
        .select_related("course", "module")
        .order_by("module__position", "position", "id")
    )
    passed = passed_assignment_ids(user=user, assignment_ids=[a.pk for a in assignments])
    lessons = list(
        Lesson.objects.filter(module__course_id__in=course_ids)
        .select_related("module")
        .order_by("module__position", "position")
        .only("id", "title", "module__course_id", "module__position", "position")
    )
    seen = set(LessonProgress.objects.filter(user=user, lesson__in=lessons).values_list("lesson_id", flat=True))

    board = Dashboard()
    by_course = {e.course_id: CourseProgress(enrollment=e) for e in enrollments}
    for a in assignments:
        progress = by_course[a.course_id]
        if a.is_required:
            progress.required += 1
            progress.passed += a.pk in passed
        if a.pk not in passed and a.due_at and now < a.due_at <= now + DEADLINE_HORIZON:
            board.deadlines.append(a)
    for lesson in lessons:
        progress = by_course[lesson.module.course_id]
        if progress.next_step is None and lesson.pk not in seen:
            progress.next_step = {"kind": "lesson", "item": lesson, "course": progress.course}
    for a in assignments:
        progress = by_course[a.course_id]
        if progress.next_step is None and a.pk not in passed and not progress.enrollment.completed_at:
            progress.next_step = {"kind": "assignment", "item": a, "course": progress.course}
    board.courses = list(by_course.values())
    board.deadlines.sort(key=lambda a: a.due_at)

    board.paths = list(
        LearningPath.objects.filter(path_courses__course_id__in=course_ids)
        .distinct()
        .prefetch_related(Prefetch("path_courses", queryset=PathCourse.objects.order_by("position")))
    )
    done = {e.course_id for e in enrollments if e.completed_at}
    for path in board.paths:
        steps = list(path.path_courses.all())
        path.total = len(steps)
        path.done = sum(1 for s in steps if s.course_id in done)
        path.percent = round(100 * path.done / path.total) if path.total else 0

    board.recent = list(
        Submission.objects.filter(user=user, status__in=["graded", "needs_review", "failed"])
        .select_related("assignment__course")
        .order_by("-updated_at")[:5]
    )
    board.notifications = notification_list(user=user, unread_only=True, limit=5)
    board.certificates = list(
        Certificate.objects.filter(user=user).select_related("course", "path").order_by("-issued_at")[:5]
    )
    return board


def notification_list(*, user, unread_only: bool = False, limit: int = 50) -> list[Notification]:
    qs = Notification.objects.filter(user=user, on_page=True)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    items = list(qs.order_by("-created_at", "-id")[:limit])
    for n in items:
        n.text = notification_text(n.kind, n.params)
    return items


STAFF_KINDS = {NotificationKind.SUBMISSION_FAILED, NotificationKind.GRADING_UNAVAILABLE}


def notification_kinds(*, user) -> list[NotificationKind]:
    """The kinds this user can receive: course staff's kinds only for staff and instructors."""
    teaches = is_platform_staff(user) or user.taught_courses.exists()
    return [kind for kind in NotificationKind if teaches or kind not in STAFF_KINDS]


def notification_settings(*, user) -> list[dict]:
    """One row per kind with the learner's channels (both on when never changed)."""
    saved = {s.kind: s for s in NotificationSetting.objects.filter(user=user)}
    rows = []
    for kind in notification_kinds(user=user):
        s = saved.get(kind.value)
        rows.append(
            {
                "kind": kind.value,
                "label": kind.label,
                "on_page": s.on_page if s else True,
                "by_email": s.by_email if s else True,
            }
        )
    return rows


def grade_history(*, user, course=None) -> list[dict]:
    """Every attempt of the learner, grouped by assignment, newest first within each, with feedback
    and the grade records (regrades, reviews). Three queries."""
    subs = (
        Submission.objects.filter(user=user)
        .select_related("assignment__course", "assignment__module")
        .prefetch_related(Prefetch("grades", queryset=GradeRecord.objects.order_by("created_at", "id")))
        .order_by("assignment__course__code", "assignment__module__position", "assignment__position",
                  "assignment_id", "-attempt")
    )  # fmt: skip
    if course is not None:
        subs = subs.filter(assignment__course=course)
    groups: dict[int, dict] = {}
    for s in subs:
        group = groups.setdefault(s.assignment_id, {"assignment": s.assignment, "attempts": [], "best": None})
        group["attempts"].append(s)
        if s.score is not None and (group["best"] is None or s.score > group["best"]):
            group["best"] = s.score
    return list(groups.values())


@dataclass
class CompetencyProgress:
    competency: Competency
    total: int
    passed: int

    @property
    def percent(self) -> int:
        return round(100 * self.passed / self.total) if self.total else 0


def course_progress(*, user, course, modules: list) -> dict | None:
    """This learner's progress in a course whose outline is `modules` (courses.selectors.course_outline):
    lessons done, required assignments passed (grading's rule). Two queries; None for anonymous users."""
    if not user.is_authenticated:
        return None
    lesson_ids = [lesson.pk for m in modules for lesson in m.lessons.all()]
    required = [a for m in modules for a in m.assignments.all() if a.is_required]
    done_lessons = set(
        LessonProgress.objects.filter(user=user, lesson_id__in=lesson_ids, completed_at__isnull=False).values_list(
            "lesson_id", flat=True
        )
    )
    passed = passed_assignment_ids(user=user, course=course)
    return {
        "lessons_done": len(done_lessons),
        "lessons_total": len(lesson_ids),
        "assignments_passed": sum(1 for a in required if a.pk in passed),
        "assignments_total": len(required),
        "done_lesson_ids": done_lessons,
        "passed_assignment_ids": passed,
    }


def resume_step(*, steps: list, progress: dict | None) -> tuple[object | None, bool]:
    """(the first step of the course this learner has not finished, whether they have started):
    a lesson not marked done, or an assignment (with a published version) not passed; the first
    step when nothing is done yet; None when everything is. `steps`: courses.selectors.course_steps."""
    if progress is None:
        return None, False
    done, passed = progress["done_lesson_ids"], progress["passed_assignment_ids"]
    open_steps = [s for s in steps if s.kind == "lesson" or s.obj.current_version_id]

    def finished(step) -> bool:
        return step.obj.pk in (done if step.kind == "lesson" else passed)

    started = any(finished(s) for s in open_steps)
    return next((s for s in open_steps if not finished(s)), None), started


def path_progress(*, user, path: LearningPath) -> list[CompetencyProgress]:
    """How far the learner has got in each competency of the path: the share of the assignments
    (of the path's courses) that assess it which the learner has passed. Four queries."""
    course_ids = list(PathCourse.objects.filter(path=path).values_list("course_id", flat=True))
    competencies = list(path.competencies.order_by("code"))
    through = Assignment.competencies.through
    links = list(
        through.objects.filter(
            assignment__course_id__in=course_ids,
            assignment__current_version__isnull=False,
        ).values_list("competency_id", "assignment_id")
    )
    passed = passed_assignment_ids(user=user, assignment_ids={a for _c, a in links})
    per: dict[int, list[int]] = {}
    for competency_id, assignment_id in links:
        per.setdefault(competency_id, []).append(assignment_id)
    # Competencies assessed in the path's courses but not listed on the path still count.
    listed = {c.pk for c in competencies}
    extra = [cid for cid in per if cid not in listed]
    if extra:
        competencies += list(Competency.objects.filter(pk__in=extra).order_by("code"))
    return [
        CompetencyProgress(
            competency=c,
            total=len(per.get(c.pk, [])),
            passed=sum(1 for a in per.get(c.pk, []) if a in passed),
        )
        for c in competencies
    ]


def chart(rows: list[CompetencyProgress], *, rtl: bool = False, width: int = 600, bar: int = 26, gap: int = 30) -> dict:
    """Geometry of the horizontal bar chart the template draws as SVG (no script). Each bar sits
    under its label; right-to-left pages get bars that grow from the right."""
    bars = []
    for i, row in enumerate(rows):
        top = i * (bar + gap)
        w = round(width * row.percent / 100)
        bars.append({
            "row": row, "label_y": top + 16, "y": top + 20, "w": w, "x": width - w if rtl else 0,
            # SVG text inherits the page direction: "start" is the right edge on right-to-left pages.
            "text_x": width if rtl else 0, "anchor": "start",
        })  # fmt: skip
    return {"width": width, "height": max(len(rows) * (bar + gap), bar + gap), "bar": bar, "bars": bars,
            "track_x": 0}  # fmt: skip

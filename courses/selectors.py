"""Reads of courses, paths and progress, scoped to the acting user, each with a fixed number of
queries whatever the size of the data."""

from django.contrib.auth import get_user_model
from django.db.models import Count, Prefetch, Q

from accounts.privilege import acts_privileged, is_platform_staff
from assessment.kinds import BuilderContext

from . import permissions
from .banks import bank_tags
from .models import (
    Assignment,
    Course,
    CourseFile,
    Enrollment,
    LearningPath,
    Lesson,
    LessonProgress,
    Module,
    PathCourse,
    PublicationStatus,
)


def is_course_staff(*, user, course: Course) -> bool:
    """Instructors of this course and platform staff (kept for callers in other apps; the rule
    lives in courses.permissions)."""
    return permissions.is_course_editor(user=user, course=course)


def completed_course_ids(*, user) -> set[int]:
    if not user.is_authenticated:
        return set()
    return set(
        Enrollment.objects.filter(user=user)
        .filter(Q(completed_at__isnull=False) | Q(status=Enrollment.Status.COMPLETED_ELSEWHERE))
        .values_list("course_id", flat=True)
    )


def _blocking_prerequisites(*, course_id: int, path_courses: list[PathCourse], done: set[int]) -> list[Course]:
    """The required courses placed before `course_id` in the given paths that are not done."""
    by_path: dict[int, list[PathCourse]] = {}
    for pc in path_courses:
        by_path.setdefault(pc.path_id, []).append(pc)
    missing: dict[int, Course] = {}
    for steps in by_path.values():
        steps.sort(key=lambda s: s.position)
        positions = [s.position for s in steps if s.course_id == course_id]
        if not positions:
            continue
        for step in steps:
            if step.position < positions[0] and step.gate == PathCourse.Gate.REQUIRED and step.course_id not in done:
                missing[step.course_id] = step.course
    return list(missing.values())


def missing_prerequisites(*, user, course: Course) -> list[Course]:
    """Required prerequisite courses the user has not completed, in any published path."""
    path_ids = PathCourse.objects.filter(course=course, path__status=PublicationStatus.PUBLISHED).values("path_id")
    steps = list(PathCourse.objects.filter(path_id__in=path_ids).select_related("course"))
    return _blocking_prerequisites(course_id=course.pk, path_courses=steps, done=completed_course_ids(user=user))


def enrollment_get(*, user, course: Course) -> Enrollment | None:
    if not user.is_authenticated:
        return None
    return Enrollment.objects.filter(user=user, course=course).first()


def can_access_course(*, user, course: Course) -> bool:
    """Learners reach a course's lessons and assignments when actively enrolled and no required
    prerequisite is missing; instructors of the course and staff always."""
    if not user.is_authenticated:
        return False
    if is_course_staff(user=user, course=course):
        return True
    enrollment = enrollment_get(user=user, course=course)
    if enrollment is None or enrollment.status != Enrollment.Status.ACTIVE:
        return False
    return course.status == PublicationStatus.PUBLISHED and not missing_prerequisites(user=user, course=course)


def catalogue(*, user) -> list[LearningPath]:
    """Published paths with their courses in order; each course carries `can_start` and
    `is_complete` for this user. Three queries whatever the number of paths and courses."""
    paths = list(
        LearningPath.objects.filter(status=PublicationStatus.PUBLISHED).prefetch_related(
            Prefetch(
                "path_courses",
                queryset=PathCourse.objects.select_related("course").order_by("position"),
            )
        )
    )
    done = completed_course_ids(user=user)
    for path in paths:
        steps = list(path.path_courses.all())
        for step in steps:
            step.is_complete = step.course_id in done
            step.missing = _blocking_prerequisites(course_id=step.course_id, path_courses=steps, done=done)
            step.can_start = step.course.status == PublicationStatus.PUBLISHED and not step.missing
        path.steps = steps
        path.done_count = sum(1 for s in steps if s.is_complete)
    return paths


def course_get_by_code(*, code: str) -> Course | None:
    return Course.objects.filter(code=code).first()


def course_outline(*, course: Course) -> list[Module]:
    """Modules with their lessons and assignments, in order. Three queries."""
    return list(
        Module.objects.filter(course=course)
        .order_by("position")
        .prefetch_related(
            Prefetch(
                "lessons", queryset=Lesson.objects.order_by("position").only("id", "title", "position", "module_id")
            ),
            Prefetch("assignments", queryset=Assignment.objects.order_by("position", "id")),
        )
    )


def authoring_course_list(*, user) -> list[Course]:
    """The courses this user may edit: all for staff, the ones they teach otherwise. One query."""
    if not user.is_authenticated or not acts_privileged(user):
        return []
    courses = Course.objects.order_by("code")
    if not is_platform_staff(user):
        courses = courses.filter(instructors=user)
    return list(courses)


def authoring_outline(*, course: Course) -> list[Module]:
    """Modules with lessons and assignments (and their current version), in order. Three queries."""
    return list(
        Module.objects.filter(course=course)
        .order_by("position", "pk")
        .prefetch_related(
            Prefetch(
                "lessons",
                queryset=Lesson.objects.order_by("position", "pk").only("id", "title", "position", "module_id"),
            ),
            Prefetch(
                "assignments",
                queryset=Assignment.objects.order_by("position", "id").select_related("current_version"),
            ),
        )
    )


def organization_learner_progress(*, user, organizations) -> list:
    """The learners of these organizations (the ones the acting user administers:
    accounts.selectors.organizations_administered), each with their enrollments and, per
    enrollment, lessons done out of the course's lessons. Four queries whatever the size."""
    if not organizations:
        return []
    learners = list(
        get_user_model()
        .objects.filter(organization__in=organizations, erased_at__isnull=True)
        .select_related("organization")
        .prefetch_related(
            Prefetch("enrollments", queryset=Enrollment.objects.select_related("course").order_by("course__code"))
        )
        .order_by("organization__name", "full_name", "email")
    )
    course_ids = {e.course_id for u in learners for e in u.enrollments.all()}
    totals = dict(
        Lesson.objects.filter(module__course_id__in=course_ids)
        .values_list("module__course_id")
        .annotate(n=Count("id"))
        .values_list("module__course_id", "n")
    )
    done = {
        (row["user_id"], row["lesson__module__course_id"]): row["n"]
        for row in LessonProgress.objects.filter(
            user__in=[u.pk for u in learners], completed_at__isnull=False, lesson__module__course_id__in=course_ids
        )
        .values("user_id", "lesson__module__course_id")
        .annotate(n=Count("id"))
    }
    for learner in learners:
        for enrollment in learner.enrollments.all():
            enrollment.lessons_total = totals.get(enrollment.course_id, 0)
            enrollment.lessons_done = done.get((learner.pk, enrollment.course_id), 0)
    return learners


def course_file_list(*, course: Course) -> list[CourseFile]:
    """The course's files by name, without their content. One query."""
    return list(CourseFile.objects.filter(course=course).defer("content").order_by("name"))


def course_file_for_download(*, user, course: Course, name: str) -> CourseFile | None:
    """The file, with its content, if this user may download it: the course's editors always; a
    learner with access to the course when the current version of one of its assignments attaches
    it. None otherwise (the caller answers 404, telling nobody the file exists)."""
    row = CourseFile.objects.filter(course=course, name=name).first()
    if row is None:
        return None
    if permissions.is_course_editor(user=user, course=course):
        return row
    if not can_access_course(user=user, course=course):
        return None
    specs = Assignment.objects.filter(course=course, current_version__isnull=False).values_list(
        "current_version__spec", flat=True
    )
    attached = any(name in ((spec or {}).get("artifacts") or []) for spec in specs)
    return row if attached else None


def builder_files(*, course: Course) -> dict:
    """The course's files as a builder offers them (assessment.kinds.BuilderContext's `files` and
    `read_file`): builder_context. One query, and one
    per file read."""
    files = [(f.name, f.size) for f in course_file_list(course=course)]

    def read_file(name: str) -> bytes | None:
        content = CourseFile.objects.filter(course=course, name=name).values_list("content", flat=True).first()
        return None if content is None else bytes(content)

    return {"files": files, "read_file": read_file}


def builder_context(*, course: Course) -> BuilderContext:
    """What an assignment builder may offer from its course (assessment cannot read courses):
    the question banks' tags to draw from, and the course's files (artifacts, datasets)."""
    return BuilderContext(tags=bank_tags(course=course), **builder_files(course=course))

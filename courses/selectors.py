"""Reads of courses, paths and progress, scoped to the acting user, each with a fixed number of
queries whatever the size of the data."""

import re
import unicodedata
from dataclasses import dataclass, field

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
    Track,
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
    """Learners reach a course's lessons and assignments when actively enrolled in a published or
    archived course and no required prerequisite is missing; instructors of the course and staff
    always. Archiving takes a course out of the catalogue and closes enrollment
    (services.enrollment_create), not the work of those already enrolled."""
    if not user.is_authenticated:
        return False
    if is_course_staff(user=user, course=course):
        return True
    enrollment = enrollment_get(user=user, course=course)
    if enrollment is None or enrollment.status != Enrollment.Status.ACTIVE:
        return False
    return course.status != PublicationStatus.DRAFT and not missing_prerequisites(user=user, course=course)


# Letters folded for search: French ligatures, and Arabic's tatweel and alef wasla (hamzas and
# harakat go with the other combining marks).
_FOLD = str.maketrans({"œ": "oe", "æ": "ae", "ـ": None, "ٱ": "ا", "ى": "ي"})


def fold(text: str) -> str:
    """Text as the catalogue's search compares it: case-folded, without accents or harakat
    ("Épidémiologie" and "epidemiologie" are one word; so are "أمن" and "امن")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_FOLD))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).translate(_FOLD)


def _matches(words: list[str], *texts: str) -> bool:
    haystack = fold(" ".join(texts))
    return all(word in haystack for word in words)


@dataclass
class Catalogue:
    """What the catalogue shows: published paths (each with `steps`, `done_count`) and published
    courses (each with `tracks`, its own and its published paths', and `is_complete`), both
    filtered, and whether any filter applied."""

    paths: list[LearningPath] = field(default_factory=list)
    courses: list[Course] = field(default_factory=list)
    filtered: bool = False


def _with_cover(queryset):
    """Courses with their cover's digest and type but not its bytes (no extra query)."""
    return queryset.select_related("cover").defer("cover__data")


def catalogue(*, user, q: str = "", track: str = "", language: str = "", level: str = "") -> Catalogue:
    """Published paths with their courses in order (each step carries `can_start`, `is_complete`
    and `missing` for this user) and every published course, on a path or not. Archived and draft
    courses are never listed as courses. Search (`q`: every word, in title, summary or code,
    whatever the case and accents) and filters (track, content language, level) keep a path whose
    own text, or one of whose published courses, matches, and a course that matches (its track
    is its own or one of its published paths'). Four queries whatever the number of paths and
    courses (three for anonymous users); the search runs on the rows read."""
    paths = list(
        LearningPath.objects.filter(status=PublicationStatus.PUBLISHED).prefetch_related(
            Prefetch(
                "path_courses",
                queryset=PathCourse.objects.select_related("course", "course__cover")
                .defer("course__cover__data")
                .order_by("position"),
            )
        )
    )
    courses = list(_with_cover(Course.objects.filter(status=PublicationStatus.PUBLISHED)))
    done = completed_course_ids(user=user)
    path_tracks: dict[int, set[str]] = {}
    for path in paths:
        steps = list(path.path_courses.all())
        for step in steps:
            step.is_complete = step.course_id in done
            step.missing = _blocking_prerequisites(course_id=step.course_id, path_courses=steps, done=done)
            step.can_start = step.course.status == PublicationStatus.PUBLISHED and not step.missing
            path_tracks.setdefault(step.course_id, set()).add(path.track)
        path.steps = steps
        path.done_count = sum(1 for s in steps if s.is_complete)
    for course in courses:
        course.tracks = sorted(({course.track} if course.track else set()) | path_tracks.get(course.pk, set()))
        course.track_labels = [Track(t).label for t in course.tracks]
        course.is_complete = course.pk in done

    words = fold(q).split()
    filtered = bool(words or track or language or level)

    def course_matches(course: Course) -> bool:
        return (
            (not language or course.language == language)
            and (not level or course.level == level)
            and (not track or track in course.tracks)
            and _matches(words, course.title, course.summary, course.code)
        )

    if filtered:
        courses = [c for c in courses if course_matches(c)]
        kept = []
        for path in paths:
            if track and path.track != track:
                continue
            published = [s.course for s in path.steps if s.course.status == PublicationStatus.PUBLISHED]
            if language or level:
                published = [
                    c for c in published if (not language or c.language == language) and (not level or c.level == level)
                ]
                if not published:
                    continue
            if words and not (
                _matches(words, path.title, path.summary, path.code)
                or any(_matches(words, c.title, c.summary, c.code) for c in published)
            ):
                continue
            kept.append(path)
        paths = kept
    courses.sort(key=lambda c: (fold(c.title), c.code))
    return Catalogue(paths=paths, courses=courses, filtered=filtered)


def course_get_by_code(*, code: str) -> Course | None:
    """The course, with its cover's digest (not its bytes) for the pages that show it."""
    return _with_cover(Course.objects.filter(code=code)).first()


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


@dataclass(frozen=True)
class OutlineItem:
    """One step of a course, in the order a learner meets them: a module's lessons, then its
    assignments. `url_name` is the page's URL name (the assignment page is grading's)."""

    kind: str  # "lesson" | "assignment"
    obj: Lesson | Assignment
    module: Module

    @property
    def url_name(self) -> str:
        return "courses:lesson" if self.kind == "lesson" else "courses:assignment"


def course_steps(*, modules: list[Module]) -> list[OutlineItem]:
    """The course's steps in order, from its outline (course_outline). No query."""
    steps = []
    for module in modules:
        steps += [OutlineItem("lesson", lesson, module) for lesson in module.lessons.all()]
        steps += [OutlineItem("assignment", a, module) for a in module.assignments.all()]
    return steps


@dataclass(frozen=True)
class LessonSteps:
    """Where a lesson sits among its course's steps: all of them, the one before, the one after."""

    steps: list[OutlineItem]
    previous: OutlineItem | None
    next: OutlineItem | None


def lesson_steps(*, course: Course, lesson) -> LessonSteps:
    """The course's steps around `lesson` (the learner's lesson page and the editor's preview of it)."""
    steps = course_steps(modules=course_outline(course=course))
    here = next(i for i, step in enumerate(steps) if step.kind == "lesson" and step.obj.pk == lesson.pk)
    return LessonSteps(
        steps=steps,
        previous=steps[here - 1] if here > 0 else None,
        next=steps[here + 1] if here + 1 < len(steps) else None,
    )


def done_lesson_ids(*, user, course: Course) -> set[int]:
    """The course's lessons this user marked done. One query (none for an anonymous user)."""
    if not user.is_authenticated:
        return set()
    return set(
        LessonProgress.objects.filter(user=user, lesson__module__course=course, completed_at__isnull=False).values_list(
            "lesson_id", flat=True
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


def course_instructors(*, course: Course) -> list:
    """The course's instructors, by name then address. One query."""
    return list(course.instructors.order_by("full_name", "email"))


def authoring_path_list(*, user) -> list[LearningPath]:
    """The paths this user may edit (courses.permissions.can_edit_path): all for staff; the ones
    they created (while they may author) or that hold a course they teach otherwise. Each carries
    `course_count`. Two queries at most."""
    if not user.is_authenticated or not user.is_active:
        return []
    paths = LearningPath.objects.annotate(course_count=Count("path_courses", distinct=True)).order_by("track", "code")
    if not is_platform_staff(user):
        rule = Q(pk__in=[])
        if permissions.can_author(user=user):
            rule |= Q(created_by=user)
        if acts_privileged(user):
            rule |= Q(pk__in=PathCourse.objects.filter(course__instructors=user).values("path_id"))
        paths = paths.filter(rule)
    return list(paths)


def path_get_by_code(*, code: str) -> LearningPath | None:
    return LearningPath.objects.filter(code=code).first()


def path_steps(*, path: LearningPath) -> list[PathCourse]:
    """The path's courses in order. One query."""
    return list(path.path_courses.select_related("course").order_by("position", "pk"))


def path_addable_courses(*, user, path: LearningPath):
    """The courses this user may put on the path and that are not on it yet: every course for
    staff, the ones they edit otherwise (courses.permissions.can_add_to_path). A queryset."""
    courses = Course.objects.exclude(pk__in=path.path_courses.values("course_id")).order_by("code")
    if is_platform_staff(user):
        return courses
    if not user.is_authenticated or not acts_privileged(user):
        return courses.none()
    return courses.filter(instructors=user)


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
    it or one of its lessons links it (lesson_linked_files). None otherwise (the caller answers
    404, telling nobody the file exists)."""
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
    return row if attached or name in lesson_linked_files(course=course) else None


def lesson_file_url(*, course: Course, name: str) -> str:
    """The address a lesson links a course file by (courses:file), as an instructor writes it."""
    return f"/courses/{course.code}/files/{name}"


def lesson_linked_files(*, course: Course) -> dict[str, list[str]]:
    """The course's files its lessons link or show (Markdown naming /courses/<code>/files/<name>):
    {file name: [lesson titles]}. A linked file is shared with the course's learners; a file no
    lesson or assignment shows (a hidden test's dataset) stays the editors'. One query."""
    pattern = re.compile(re.escape(f"/courses/{course.code}/files/") + r"([A-Za-z0-9][A-Za-z0-9._-]{0,99})")
    linked: dict[str, list[str]] = {}
    lessons = Lesson.objects.filter(
        module__course=course, body_markdown__contains=f"/courses/{course.code}/files/"
    ).order_by("module__position", "position")
    for title, body in lessons.values_list("title", "body_markdown"):
        for name in dict.fromkeys(pattern.findall(body)):
            linked.setdefault(name.rstrip("."), []).append(title)  # a sentence's full stop is not the name's
    return linked


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
    the question banks' tags to draw from, the course's files (artifacts, datasets), and its
    language (that of the builder's content fields)."""
    return BuilderContext(tags=bank_tags(course=course), language=course.language, **builder_files(course=course))

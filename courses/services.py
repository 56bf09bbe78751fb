"""Courses: the content of learning paths and who follows it. Every write to courses, lessons,
assignments, enrollments and progress lives here, each owning its transaction."""

import hashlib
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from functools import reduce
from operator import or_

from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from assessment import kinds
from kernel.errors import ApplicationError, PermissionDenied
from kernel.page_cache import content_changed
from kernel.uploads import sniff_kind

from . import banks, permissions, selectors
from .markdown import render_markdown
from .models import (
    COVER_CONTENT_TYPES,
    MAX_WORKLOAD_HOURS,
    Assignment,
    AssignmentVersion,
    Competency,
    Course,
    CourseCover,
    CourseFile,
    Enrollment,
    LearningPath,
    Lesson,
    LessonProgress,
    Level,
    Module,
    PathCourse,
    PublicationStatus,
    Track,
)

# Spec keys computed by prepare_spec (never typed by an instructor, never in an archive).


class EnrollmentRefused(ApplicationError):
    pass


@transaction.atomic
def enrollment_create(*, user, course: Course, source: str = Enrollment.Source.SELF) -> Enrollment:
    """Enroll a learner in a published course after checking its required prerequisites."""
    if course.status != PublicationStatus.PUBLISHED:
        raise EnrollmentRefused(_("This course is not open for enrollment."))
    missing = selectors.missing_prerequisites(user=user, course=course)
    if missing:
        names = ", ".join(c.title for c in missing)
        raise EnrollmentRefused(_("Complete these required courses first: %(names)s") % {"names": names})
    enrollment, created = Enrollment.objects.get_or_create(user=user, course=course, defaults={"source": source})
    if not created and enrollment.status != Enrollment.Status.ACTIVE:
        enrollment.status = Enrollment.Status.ACTIVE
        enrollment.save(update_fields=["status", "updated_at"])
    return enrollment


def lesson_mark(*, user, lesson: Lesson, done: bool | None = None) -> LessonProgress:
    """Record that a learner viewed a lesson; with `done`, also mark it done or not done."""
    if not selectors.can_access_course(user=user, course=lesson.module.course):
        raise PermissionDenied(_("Enroll in this course to follow its lessons."))
    progress, _created = LessonProgress.objects.get_or_create(user=user, lesson=lesson)
    if done is True and progress.completed_at is None:
        progress.completed_at = timezone.now()
        progress.save(update_fields=["completed_at"])
    elif done is False and progress.completed_at is not None:
        progress.completed_at = None
        progress.save(update_fields=["completed_at"])
    return progress


@transaction.atomic
def lesson_save(*, lesson: Lesson, body_html: str | None = None) -> Lesson:
    """Save a lesson, rendering its Markdown to sanitized HTML (`body_html`: what
    render_markdown gave for this Markdown already, so an import renders before its transaction)."""
    lesson.body_html = render_markdown(lesson.body_markdown) if body_html is None else body_html
    lesson.save()
    return lesson


def editable_spec(*, kind: str, spec: dict) -> dict:
    """The spec as an instructor edits it and an archive carries it: without derived keys."""
    return kinds.editable_spec(kind, spec)


def _checked_spec(*, kind: str, spec, course: Course | None = None) -> dict:
    """Validate then prepare a spec; SpecError and a missing grader become field errors. A quiz's
    draws freeze the course's question banks they name into the spec (courses.banks.draw_pools)."""
    try:
        kinds.validate_spec(kind, spec)
        if kind == Assignment.Kind.QUIZ:
            spec = banks.draw_pools(course=course, spec=spec)
        return kinds.prepare_spec(kind, spec)
    except kinds.SpecError as exc:
        raise ApplicationError(exc.message, field=f"spec.{exc.path}" if exc.path else "spec") from exc
    except kinds.GraderError as exc:
        raise ApplicationError(str(exc), field="kind") from exc


def _check_attached_files(*, course: Course, spec: dict) -> None:
    """Every file a spec attaches (`artifacts`) is one of the course's files, so no learner
    follows a link to nothing. A field error naming the entry otherwise."""
    names = spec.get("artifacts") if isinstance(spec, dict) else None
    if not isinstance(names, list) or not names:
        return
    existing = set(CourseFile.objects.filter(course=course, name__in=[n for n in names if isinstance(n, str)])
                   .values_list("name", flat=True))  # fmt: skip
    for i, name in enumerate(names):
        if name not in existing:
            raise ApplicationError(
                _("%(name)s is not one of this course's files.") % {"name": name}, field=f"spec.artifacts[{i}]"
            )


@transaction.atomic
def assignment_version_create(*, assignment: Assignment, spec: dict, prompt_markdown: str = "") -> AssignmentVersion:
    """Validate and prepare (publish-time work such as hashing flags) a spec, store it as a new
    immutable version of the assignment, and make it the current one."""
    spec = _checked_spec(kind=assignment.kind, spec=spec, course=assignment.course)
    _check_attached_files(course=assignment.course, spec=spec)
    last = assignment.versions.order_by("-number").values_list("number", flat=True).first() or 0
    version = AssignmentVersion.objects.create(
        assignment=assignment,
        number=last + 1,
        spec=spec,
        prompt_markdown=prompt_markdown,
        prompt_html=render_markdown(prompt_markdown),
    )
    assignment.current_version = version
    assignment.save(update_fields=["current_version", "updated_at"])
    return version


@transaction.atomic
def assignment_version_derived_store(*, version: AssignmentVersion, spec: dict) -> AssignmentVersion:
    """Store the derived keys (kinds' derived_keys) a version was published without, computed
    later from its own spec (a code assignment's expected outputs, where the sandbox could not run
    at publish time). What was authored stays as it is, and keys already stored are kept, so two
    workers completing the same version at once store one value. Returns the version as stored."""
    locked = AssignmentVersion.objects.select_for_update().select_related("assignment").get(pk=version.pk)
    kind = kinds.find(locked.assignment.kind)
    missing = {k: spec[k] for k in (kind.derived_keys if kind else ()) if k in spec and k not in locked.spec}
    if missing:
        locked.spec = {**locked.spec, **missing}
        locked.save(update_fields=["spec"])
    return locked


def enrollment_complete(*, user_id: int, course_id: int, is_complete: Callable[[], bool]) -> bool:
    """Mark the learner's enrollment complete if it is not yet and `is_complete()` says the course
    is. The enrollment row is locked before asking, so two grades that finish a course at once
    complete it once. Returns whether it became complete just now. What completes a course is the
    caller's rule (grading's: every required assignment passed; grading stands above courses)."""
    enrollment = Enrollment.objects.select_for_update().filter(user_id=user_id, course_id=course_id).first()
    if enrollment is None or enrollment.completed_at is not None:
        return False
    if is_complete():
        enrollment.completed_at = timezone.now()
        enrollment.save(update_fields=["completed_at", "updated_at"])
        return True
    return False


def enrollments_complete(
    *, pairs: set[tuple[int, int]], complete: Callable[[QuerySet], QuerySet]
) -> list[tuple[int, int, int]]:
    """Set-based `enrollment_complete` for many (user_id, course_id) pairs at once, in a constant
    number of queries: lock their incomplete enrollments (in id order: two callers never deadlock),
    then, with a fresh look at what is committed, mark complete those that `complete(queryset)`
    keeps (the caller's rule, as SQL). Returns (enrollment_id, user_id, course_id) of each
    enrollment that became complete just now. Call inside a transaction."""
    if not pairs:
        return []
    which = reduce(or_, (Q(user_id=user_id, course_id=course_id) for user_id, course_id in sorted(pairs)))
    locked = list(
        Enrollment.objects.select_for_update()
        .filter(which, completed_at__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not locked:
        return []
    done = list(complete(Enrollment.objects.filter(pk__in=locked)).values_list("pk", "user_id", "course_id"))
    if done:
        now = timezone.now()
        Enrollment.objects.filter(pk__in=[pk for pk, _u, _c in done]).update(completed_at=now, updated_at=now)
    return done


# --- Authoring ---------------------------------------------------------------------------------
# Every authoring service checks, through courses.permissions, that `user` may edit the course.

ASSIGNMENT_SETTINGS = (
    "title",
    "points",
    "pass_threshold",
    "is_required",
    "due_at",
    "attempts_allowed",
    "late_penalty_per_day",
    "late_cutoff_days",
)


# Assignment.points is Decimal(7, 2).
MAX_ASSIGNMENT_POINTS = Decimal("99999.99")


def _checked_settings(settings: dict) -> dict:
    """Refuse points the column cannot hold (NaN, infinity, negative, too large) as a field error,
    for every caller (pages, importer, scripts), before the database refuses them."""
    if "points" in settings:
        try:
            points = Decimal(str(settings["points"]))
        except (InvalidOperation, ValueError, TypeError):
            points = None
        if points is None or not points.is_finite() or not 0 <= points <= MAX_ASSIGNMENT_POINTS:
            raise ApplicationError(
                _("Points must be a number from 0 to %(max)s.") % {"max": MAX_ASSIGNMENT_POINTS}, field="points"
            )
        settings = {**settings, "points": points}
    return settings


def _require_editor(*, user, course: Course) -> None:
    if not permissions.is_course_editor(user=user, course=course):
        raise PermissionDenied(_("Only this course's instructors and staff may edit it."))


# Codes the authoring addresses use (/author/new/, /author/import/, /author/paths/): a course
# with one of them would have no outline page.
RESERVED_COURSE_CODES = frozenset({"new", "import", "paths"})
RESERVED_PATH_CODES = frozenset({"new"})


def checked_course_settings(*, level: str, workload_hours, track: str) -> dict:
    """Level, estimated workload (whole hours, 1..MAX_WORKLOAD_HOURS, or None) and track (a Track,
    or "" for none), refused as field errors whoever calls (pages, archive, scripts)."""
    if level not in Level.values:
        raise ApplicationError(_("Choose a level: beginner, intermediate or advanced."), field="level")
    if workload_hours is not None and (
        isinstance(workload_hours, bool)
        or not isinstance(workload_hours, int)
        or not 1 <= workload_hours <= MAX_WORKLOAD_HOURS
    ):
        raise ApplicationError(
            _("The workload is a whole number of hours from 1 to %(max)d.") % {"max": MAX_WORKLOAD_HOURS},
            field="workload_hours",
        )
    if track and track not in Track.values:
        raise ApplicationError(_("Unknown track."), field="track")
    return {"level": level, "workload_hours": workload_hours, "track": track or ""}


def checked_cover(data: bytes) -> str:
    """The Content-Type of a cover image: PNG or JPEG by its content, at most
    COURSE_COVER_MAX_BYTES. Anything else is a field error."""
    limit = django_settings.COURSE_COVER_MAX_BYTES
    if len(data) > limit:
        raise ApplicationError(
            _("The cover is too large (%(size)d bytes); the limit is %(limit)d bytes.")
            % {"size": len(data), "limit": limit},
            field="cover",
        )
    kind = sniff_kind(bytes(data[:2048]))
    if kind not in COVER_CONTENT_TYPES:
        raise ApplicationError(_("A cover is a PNG or JPEG image."), field="cover")
    return COVER_CONTENT_TYPES[kind]


def cover_store(*, course: Course, data: bytes | None) -> CourseCover | None:
    """Give the course this cover (None: no cover). No permission check: callers check (the
    course services below, the archive import)."""
    if data is None:
        CourseCover.objects.filter(course=course).delete()
        return None
    data = bytes(data)
    content_type = checked_cover(data)
    cover, _created = CourseCover.objects.update_or_create(
        course=course,
        defaults={"data": data, "content_type": content_type, "digest": hashlib.sha256(data).hexdigest()},
    )
    return cover


@transaction.atomic
def course_create(
    *,
    user,
    code: str,
    title: str,
    language: str,
    summary: str = "",
    level: str | None = None,
    workload_hours: int | None = None,
    track: str = "",
    cover: bytes | None = None,
) -> Course:
    """Create a draft course; its creator becomes one of its instructors."""
    if not permissions.can_author(user=user):
        raise PermissionDenied(_("Only instructors and staff may create courses."))
    if code in RESERVED_COURSE_CODES:
        raise ApplicationError(_("This code is reserved; choose another."), field="code")
    if Course.objects.filter(code=code).exists():
        raise ApplicationError(_("A course with this code already exists."), field="code")
    fields = checked_course_settings(level=level or Level.BEGINNER, workload_hours=workload_hours, track=track)
    course = Course.objects.create(code=code, title=title, summary=summary, language=language, **fields)
    course.instructors.add(user)
    if cover is not None:
        cover_store(course=course, data=cover)
    return course


@transaction.atomic
def course_update(
    *,
    user,
    course: Course,
    title: str,
    language: str,
    summary: str = "",
    level: str | None = None,
    workload_hours: int | None = None,
    track: str = "",
    cover: bytes | None = None,
    remove_cover: bool = False,
) -> Course:
    """Change a course's title, summary, content language, level (None: unchanged), workload,
    track and cover (`cover`: new image bytes; `remove_cover`: none any more). Its code is
    permanent."""
    _require_editor(user=user, course=course)
    fields = checked_course_settings(level=level or course.level, workload_hours=workload_hours, track=track)
    course.title, course.summary, course.language = title, summary, language
    for key, value in fields.items():
        setattr(course, key, value)
    course.save(update_fields=["title", "summary", "language", *fields, "updated_at"])
    if cover is not None:
        cover_store(course=course, data=cover)
    elif remove_cover:
        cover_store(course=course, data=None)
    return course


@transaction.atomic
def course_instructor_add(*, user, course: Course, email: str):
    """Make the account with this e-mail address (active, not erased) an instructor of the course.
    An unknown address, or someone who already teaches it, is a field error on `email`."""
    _require_editor(user=user, course=course)
    found = (
        get_user_model()
        .objects.filter(email__iexact=email.strip(), is_active=True, erased_at__isnull=True)
        .order_by("pk")
        .first()
    )
    if found is None:
        raise ApplicationError(_("No active account has this e-mail address."), field="email")
    if course.instructors.filter(pk=found.pk).exists():
        raise ApplicationError(_("This person already teaches this course."), field="email")
    course.instructors.add(found)
    return found


@transaction.atomic
def course_instructor_remove(*, user, course: Course, instructor_id: int) -> None:
    """Remove one of the course's instructors (possibly oneself). A course keeps at least one: the
    course row is locked, so two removals at once cannot leave it with none."""
    _require_editor(user=user, course=course)
    Course.objects.select_for_update().filter(pk=course.pk).first()
    if not course.instructors.filter(pk=instructor_id).exists():
        raise ApplicationError(_("This person does not teach this course."), field="instructor")
    if course.instructors.count() <= 1:
        raise ApplicationError(
            _("A course keeps at least one instructor: add another before removing this one."), field="instructor"
        )
    course.instructors.remove(instructor_id)


@transaction.atomic
def course_status_set(*, user, course: Course, status: str) -> Course:
    """Publish, archive or send back to draft. Publishing needs a module and every assignment
    to have a version learners can answer."""
    _require_editor(user=user, course=course)
    if status not in PublicationStatus.values:
        raise ApplicationError(_("Unknown status."), field="status")
    if status == PublicationStatus.PUBLISHED:
        if not course.modules.exists():
            raise ApplicationError(_("Add at least one module before publishing."), field="status")
        unready = course.assignments.filter(current_version__isnull=True).values_list("title", flat=True)
        if unready:
            raise ApplicationError(
                _("These assignments have no valid spec yet: %(names)s") % {"names": ", ".join(unready)},
                field="status",
            )
    course.status = status
    course.save(update_fields=["status", "updated_at"])
    return course


def _next_position(queryset) -> int:
    return (queryset.aggregate(m=Max("position"))["m"] or 0) + 1


@transaction.atomic
def module_create(*, user, course: Course, title: str) -> Module:
    """Add a module at the end of the course."""
    _require_editor(user=user, course=course)
    Course.objects.select_for_update().filter(pk=course.pk).first()
    return Module.objects.create(course=course, title=title, position=_next_position(course.modules))


@transaction.atomic
def module_update(*, user, module: Module, title: str) -> Module:
    """Rename a module."""
    _require_editor(user=user, course=module.course)
    module.title = title
    module.save(update_fields=["title"])
    return module


def _swap(*, item, siblings, direction: str) -> bool:
    """Swap `item` with its neighbour among `siblings` (a queryset locked by the caller). The
    position constraints are deferred to commit on PostgreSQL, so the swap never collides."""
    if direction not in {"up", "down"}:
        raise ApplicationError(_("Move up or down."), field="direction")
    rows = list(siblings.select_for_update().order_by("position", "pk"))
    index = next(i for i, row in enumerate(rows) if row.pk == item.pk)
    other = index - 1 if direction == "up" else index + 1
    if other < 0 or other >= len(rows):
        return False
    a, b = rows[index], rows[other]
    a.position, b.position = b.position, a.position
    if a.position == b.position:  # repair duplicates left by older data
        b.position += 1 if direction == "up" else -1
    type(a).objects.filter(pk=a.pk).update(position=a.position)
    type(b).objects.filter(pk=b.pk).update(position=b.position)
    content_changed()  # update() sends no post_save: the public pages show the new order
    item.position = a.position
    return True


@transaction.atomic
def module_move(*, user, module: Module, direction: str) -> bool:
    """Move a module one place up or down in its course. Returns whether it moved."""
    _require_editor(user=user, course=module.course)
    return _swap(item=module, siblings=Module.objects.filter(course_id=module.course_id), direction=direction)


@transaction.atomic
def lesson_create(*, user, module: Module, title: str, body_markdown: str = "") -> Lesson:
    """Add a lesson at the end of a module, rendering its Markdown."""
    _require_editor(user=user, course=module.course)
    Module.objects.select_for_update().filter(pk=module.pk).first()
    lesson = Lesson(module=module, title=title, body_markdown=body_markdown, position=_next_position(module.lessons))
    return lesson_save(lesson=lesson)


@transaction.atomic
def lesson_update(*, user, lesson: Lesson, title: str, body_markdown: str) -> Lesson:
    """Change a lesson's title and text."""
    _require_editor(user=user, course=lesson.module.course)
    lesson.title, lesson.body_markdown = title, body_markdown
    return lesson_save(lesson=lesson)


@transaction.atomic
def lesson_move(*, user, lesson: Lesson, direction: str) -> bool:
    """Move a lesson one place up or down in its module. Returns whether it moved."""
    _require_editor(user=user, course=lesson.module.course)
    return _swap(item=lesson, siblings=Lesson.objects.filter(module_id=lesson.module_id), direction=direction)


def _unique_slug(*, course: Course, wanted: str, exclude_pk=None) -> str:
    base = slugify(wanted)[:56] or "assignment"
    taken = set(Assignment.objects.filter(course=course).exclude(pk=exclude_pk).values_list("slug", flat=True))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


@transaction.atomic
def assignment_create(
    *,
    user,
    module: Module,
    kind: str,
    spec: dict,
    prompt_markdown: str = "",
    slug: str = "",
    competencies: list[Competency] | None = None,
    settings: dict,
) -> Assignment:
    """Create an assignment at the end of its module with its first version. `settings` holds
    the fields of ASSIGNMENT_SETTINGS (title required)."""
    course = module.course
    _require_editor(user=user, course=course)
    settings = _checked_settings(settings)
    if kind not in Assignment.Kind.values:
        raise ApplicationError(_("Unknown assignment kind."), field="kind")
    if slug and Assignment.objects.filter(course=course, slug=slug).exists():
        raise ApplicationError(_("Another assignment of this course has this slug."), field="slug")
    assignment = Assignment(
        course=course,
        module=module,
        kind=kind,
        slug=slug or _unique_slug(course=course, wanted=settings.get("title", "")),
        position=_next_position(module.assignments),
        **{k: v for k, v in settings.items() if k in ASSIGNMENT_SETTINGS},
    )
    assignment.save()
    if competencies is not None:
        assignment.competencies.set(competencies)
    assignment_version_create(assignment=assignment, spec=spec, prompt_markdown=prompt_markdown)
    return assignment


@transaction.atomic
def assignment_update(
    *,
    user,
    assignment: Assignment,
    spec: dict,
    prompt_markdown: str = "",
    slug: str | None = None,
    competencies: list[Competency] | None = None,
    settings: dict,
) -> Assignment:
    """Change an assignment. A changed spec or prompt becomes a new version when learners may
    already have answered the current one (course not draft, or submissions exist); in a draft
    with no submissions the current version is corrected in place. Nothing changes otherwise."""
    course = assignment.course
    _require_editor(user=user, course=course)
    settings = _checked_settings(settings)
    assignment = (
        Assignment.objects.select_for_update(of=("self",))
        .select_related("current_version", "course")
        .get(pk=assignment.pk)
    )
    if slug and slug != assignment.slug:
        if Assignment.objects.filter(course=course, slug=slug).exclude(pk=assignment.pk).exists():
            raise ApplicationError(_("Another assignment of this course has this slug."), field="slug")
        assignment.slug = slug
    for key, value in settings.items():
        if key in ASSIGNMENT_SETTINGS:
            setattr(assignment, key, value)
    assignment.save()
    if competencies is not None:
        assignment.competencies.set(competencies)
    assignment_spec_apply(assignment=assignment, spec=spec, prompt_markdown=prompt_markdown)
    return assignment


def _pools_changed(*, assignment: Assignment, stored: dict) -> bool:
    """Whether the question banks a quiz draws from changed since `stored` froze them (the same
    spec saved again then makes a version with the banks of today)."""
    if assignment.kind != Assignment.Kind.QUIZ or not stored.get("draws"):
        return False
    try:
        fresh = banks.draw_pools(course=assignment.course, spec=stored)
    except ApplicationError:
        return True  # a bank shrank or went: saving again says why
    return fresh.get(banks.POOLS) != stored.get(banks.POOLS)


@transaction.atomic
def assignment_spec_apply(*, assignment: Assignment, spec: dict, prompt_markdown: str) -> AssignmentVersion:
    """Make `spec` and `prompt_markdown` what learners answer next (no permission check: callers
    check). Unchanged: nothing happens. A draft course's version that nobody answered yet is
    corrected in place; otherwise a new version is created, and earlier submissions keep theirs."""
    current = assignment.current_version
    if (
        current is not None
        and editable_spec(kind=assignment.kind, spec=current.spec) == editable_spec(kind=assignment.kind, spec=spec)
        and current.prompt_markdown == prompt_markdown
        and not _pools_changed(assignment=assignment, stored=current.spec)
    ):
        return current
    in_place = (
        current is not None and assignment.course.status == PublicationStatus.DRAFT and not current.submissions.exists()
    )
    if not in_place:
        return assignment_version_create(assignment=assignment, spec=spec, prompt_markdown=prompt_markdown)
    current.spec = _checked_spec(kind=assignment.kind, spec=spec, course=assignment.course)
    _check_attached_files(course=assignment.course, spec=current.spec)
    current.prompt_markdown = prompt_markdown
    current.prompt_html = render_markdown(prompt_markdown)
    current.save(update_fields=["spec", "prompt_markdown", "prompt_html"])
    return current


def _draws_from(spec: dict, tag: str) -> int:
    """How many questions a quiz spec draws from the bank `tag` (0: none)."""
    draws = spec.get("draws") if isinstance(spec.get("draws"), list) else []
    return sum(d.get("count", 0) for d in draws if isinstance(d, dict) and d.get("tag") == tag)


@transaction.atomic
def question_bank_update(*, user, course: Course, competency, questions: list) -> list[Assignment]:
    """Save the course's bank on `competency` (courses.banks.question_bank_save), then bring every
    quiz of the course that draws from it up to date, as saving each quiz again would: the next
    attempt draws from the questions just saved (answered versions keep the questions they drew).
    A bank left smaller than what a quiz draws is refused, naming the quiz, and nothing is saved.
    Returns the quizzes that now draw from the new questions."""
    banks.question_bank_save(user=user, course=course, competency=competency, questions=questions)
    quizzes = (
        Assignment.objects.select_for_update()
        .filter(course=course, kind=Assignment.Kind.QUIZ, current_version__isnull=False)
        .select_related("current_version", "course")
        .order_by("position", "pk")
    )
    updated = []
    for quiz in quizzes:
        current = quiz.current_version
        wanted = _draws_from(current.spec, competency.code)
        if not wanted:
            continue
        if wanted > len(questions):
            message = ngettext(
                "The quiz “%(title)s” draws %(want)d question from this bank: keep at least %(want)d, "
                "or draw fewer in the quiz first.",
                "The quiz “%(title)s” draws %(want)d questions from this bank: keep at least %(want)d, "
                "or draw fewer in the quiz first.",
                wanted,
            ) % {"title": quiz.title, "want": wanted}
            raise ApplicationError(message, field="questions")
        before = current.spec.get(banks.POOLS)  # the draft's version may be corrected in place
        version = assignment_spec_apply(
            assignment=quiz,
            spec=editable_spec(kind=quiz.kind, spec=current.spec),
            prompt_markdown=current.prompt_markdown,
        )
        if version.spec.get(banks.POOLS) != before:
            updated.append(quiz)
    return updated


# --- Course files ------------------------------------------------------------------------------
# Artifacts for flags and datasets for code tests. A name is safe in a URL and a zip entry.

FILE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
# What a course file may be (kernel.uploads kinds): documents, images, text, logs, captures, zips.
COURSE_FILE_KINDS = frozenset(
    {"pdf", "png", "jpeg", "gif", "zip", "csv", "txt", "log", "json", "yaml", "py", "pcap", "pcapng"}
)


def course_file_max_bytes() -> int:
    """The largest course file: an upload's limit, and what one archive entry may hold."""
    return min(django_settings.KAFAAT_UPLOAD_MAX_BYTES, django_settings.COURSE_ARCHIVE_MAX_ENTRY_BYTES)


def check_file_name(name: str) -> None:
    if not FILE_NAME_RE.match(name or "") or ".." in name:
        raise ApplicationError(
            _("A file name has letters, digits, dots, hyphens and underscores only (at most 100)."), field="name"
        )


def file_references(*, course: Course) -> dict[str, list[str]]:
    """Which assignments' current versions attach each file, and which lessons link it: {file
    name: [assignment and lesson titles]}. Three queries."""
    used: dict[str, list[str]] = {name: list(titles) for name, titles in
                                  selectors.lesson_linked_files(course=course).items()}  # fmt: skip
    for title, spec in course.assignments.filter(current_version__isnull=False).values_list(
        "title", "current_version__spec"
    ):
        for name in (spec or {}).get("artifacts") or []:
            if isinstance(name, str):
                used.setdefault(name, []).append(title)
    return used


@transaction.atomic
def course_file_add(*, user, course: Course, name: str, content: bytes, replace: bool = False) -> CourseFile:
    """Attach a file to a course (kind sniffed from its content). A name already taken is refused
    unless `replace`, which swaps the content: assignments that attach it then serve the new one."""
    _require_editor(user=user, course=course)
    check_file_name(name)
    if len(content) > course_file_max_bytes():
        raise ApplicationError(
            _("The file is too large (%(size)d bytes); the limit is %(limit)d bytes.")
            % {"size": len(content), "limit": course_file_max_bytes()},
            field="file",
        )
    kind = sniff_kind(content[:2048], name)
    if kind not in COURSE_FILE_KINDS:
        raise ApplicationError(_("This kind of file cannot be attached to a course."), field="file")
    existing = CourseFile.objects.select_for_update().filter(course=course, name=name).first()
    if existing is not None and not replace:
        raise ApplicationError(_("The course already has a file of this name."), field="name")
    row = existing or CourseFile(course=course, name=name)
    row.content, row.size, row.content_kind = content, len(content), kind
    row.save()
    return row


@transaction.atomic
def course_file_delete(*, user, course_file: CourseFile) -> None:
    """Remove a course file, unless an assignment attaches it (refused, naming the assignments:
    detach it in their builders first, so no learner is shown a link that leads nowhere)."""
    course = course_file.course
    _require_editor(user=user, course=course)
    Course.objects.select_for_update().filter(pk=course.pk).first()
    users = file_references(course=course).get(course_file.name)
    if users:
        raise ApplicationError(
            _("%(name)s is attached to: %(titles)s. Detach it there first.")
            % {"name": course_file.name, "titles": ", ".join(sorted(users))},
            field="file",
        )
    course_file.delete()


# --- Learning paths -----------------------------------------------------------------------------
# Every path service checks, through courses.permissions, that `user` may edit the path.


def _require_path_editor(*, user, path: LearningPath) -> None:
    if not permissions.can_edit_path(user=user, path=path):
        raise PermissionDenied(_("Only staff and the instructors of this path may edit it."))


def _check_path_status(*, path: LearningPath | None, status: str) -> None:
    if status not in PublicationStatus.values:
        raise ApplicationError(_("Unknown status."), field="status")
    if status == PublicationStatus.PUBLISHED and (path is None or not path.path_courses.exists()):
        raise ApplicationError(_("Add at least one course before publishing the path."), field="status")


@transaction.atomic
def path_create(
    *,
    user,
    code: str,
    title: str,
    track: str,
    summary: str = "",
    competencies: list[Competency] | None = None,
    status: str = PublicationStatus.DRAFT,
) -> LearningPath:
    """Create a learning path (a draft until it has a course); its creator may edit it."""
    if not permissions.can_author(user=user):
        raise PermissionDenied(_("Only instructors and staff may create learning paths."))
    if code in RESERVED_PATH_CODES:
        raise ApplicationError(_("This code is reserved; choose another."), field="code")
    if LearningPath.objects.filter(code=code).exists():
        raise ApplicationError(_("A learning path with this code already exists."), field="code")
    if track not in Track.values:
        raise ApplicationError(_("Unknown track."), field="track")
    _check_path_status(path=None, status=status)
    path = LearningPath.objects.create(
        code=code, title=title, track=track, summary=summary, status=status, created_by=user
    )
    path.competencies.set(competencies or [])
    return path


@transaction.atomic
def path_update(
    *,
    user,
    path: LearningPath,
    title: str,
    track: str,
    summary: str = "",
    competencies: list[Competency] | None = None,
    status: str,
) -> LearningPath:
    """Change a path's title, track, summary, competencies and status (its code is permanent).
    Publishing needs a course on it."""
    _require_path_editor(user=user, path=path)
    if track not in Track.values:
        raise ApplicationError(_("Unknown track."), field="track")
    _check_path_status(path=path, status=status)
    path.title, path.track, path.summary, path.status = title, track, summary, status
    path.save(update_fields=["title", "track", "summary", "status", "updated_at"])
    if competencies is not None:
        path.competencies.set(competencies)
    return path


@transaction.atomic
def path_course_add(*, user, path: LearningPath, course: Course, gate: str = PathCourse.Gate.REQUIRED) -> PathCourse:
    """Put a course at the end of the path. Staff add any course; other editors the ones they edit."""
    _require_path_editor(user=user, path=path)
    if not permissions.can_add_to_path(user=user, course=course):
        raise PermissionDenied(_("You may add only the courses you teach."))
    if gate not in PathCourse.Gate.values:
        raise ApplicationError(_("Choose required or recommended."), field="gate")
    LearningPath.objects.select_for_update().filter(pk=path.pk).first()
    if path.path_courses.filter(course=course).exists():
        raise ApplicationError(_("This course is already on the path."), field="course")
    return PathCourse.objects.create(path=path, course=course, position=_next_position(path.path_courses), gate=gate)


@transaction.atomic
def path_course_remove(*, user, path_course: PathCourse) -> None:
    """Take a course off its path (the course itself is untouched)."""
    _require_path_editor(user=user, path=path_course.path)
    PathCourse.objects.filter(pk=path_course.pk).delete()


@transaction.atomic
def path_course_move(*, user, path_course: PathCourse, direction: str) -> bool:
    """Move a course one place up or down in its path. Returns whether it moved."""
    _require_path_editor(user=user, path=path_course.path)
    return _swap(item=path_course, siblings=PathCourse.objects.filter(path_id=path_course.path_id), direction=direction)


@transaction.atomic
def path_course_gate_set(*, user, path_course: PathCourse, gate: str) -> PathCourse:
    """Whether the courses after this one wait for it (required) or not (recommended)."""
    _require_path_editor(user=user, path=path_course.path)
    if gate not in PathCourse.Gate.values:
        raise ApplicationError(_("Choose required or recommended."), field="gate")
    path_course.gate = gate
    path_course.save(update_fields=["gate"])
    return path_course

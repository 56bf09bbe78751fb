"""Courses: the content of learning paths and who follows it. Every write to courses, lessons,
assignments, enrollments and progress lives here, each owning its transaction."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from config.errors import ApplicationError, PermissionDenied
from grading import graders

from . import selectors
from .markdown import render_markdown
from .models import (
    Assignment,
    AssignmentVersion,
    Course,
    Enrollment,
    Lesson,
    LessonProgress,
    PublicationStatus,
)


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
def lesson_save(*, lesson: Lesson) -> Lesson:
    """Save a lesson, rendering its Markdown to sanitized HTML."""
    lesson.body_html = render_markdown(lesson.body_markdown)
    lesson.save()
    return lesson


@transaction.atomic
def assignment_version_create(*, assignment: Assignment, spec: dict, prompt_markdown: str = "") -> AssignmentVersion:
    """Validate and prepare (publish-time work such as hashing flags) a spec, store it as a new
    immutable version of the assignment, and make it the current one."""
    try:
        graders.validate_spec(assignment.kind, spec)
    except graders.SpecError as exc:
        raise ApplicationError(exc.message, field=f"spec.{exc.path}" if exc.path else "spec") from exc
    spec = graders.prepare_spec(assignment.kind, spec)
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


def enrollment_refresh_completion(*, user_id: int, course_id: int) -> bool:
    """Mark the enrollment complete when every required assignment is passed. Returns whether
    the course became complete just now. Call inside the grading transaction."""
    enrollment = Enrollment.objects.select_for_update().filter(user_id=user_id, course_id=course_id).first()
    if enrollment is None or enrollment.completed_at is not None:
        return False
    if selectors.course_is_complete(user_id=user_id, course_id=course_id):
        enrollment.completed_at = timezone.now()
        enrollment.save(update_fields=["completed_at", "updated_at"])
        return True
    return False

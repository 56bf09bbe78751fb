"""Courses' part of a learner's export, collected by the privacy app (CoursesConfig.privacy_export).
Erasure leaves enrollments and lesson progress alone: they carry no personal field, and keep
counting in aggregates."""

from .models import Enrollment, LessonProgress


def export(*, user) -> dict[str, list[dict]]:
    """The user's enrollments and lesson progress."""
    return {
        "enrollments": [
            {
                "course": e.course.code,
                "title": e.course.title,
                "status": e.status,
                "source": e.source,
                "enrolled_at": e.created_at,
                "completed_at": e.completed_at,
            }
            for e in Enrollment.objects.filter(user=user).select_related("course").order_by("id")
        ],  # fmt: skip
        "lesson_progress": [
            {"lesson": p.lesson.title, "viewed_at": p.viewed_at, "completed_at": p.completed_at}
            for p in LessonProgress.objects.filter(user=user).select_related("lesson").order_by("id")
        ],
    }

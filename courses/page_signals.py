"""The public pages' cache (kernel.page_cache) goes stale when what they show changes: a course's
fields or status (publish, archive), its cover, modules, lessons and assignments, and the paths
that list it. Connected in CoursesConfig.ready(), so every writer is covered: the authoring
services, archive imports, the admin. Enrollments and progress are not on the cached (anonymous)
pages and do not invalidate them."""

from django.db.models.signals import post_delete, post_save

from kernel.page_cache import content_changed

from .models import Assignment, AssignmentVersion, Course, CourseCover, LearningPath, Lesson, Module, PathCourse

SHOWN_ON_PUBLIC_PAGES = (Course, CourseCover, LearningPath, PathCourse, Module, Lesson, Assignment, AssignmentVersion)


def _changed(sender, **kwargs) -> None:
    if kwargs.get("raw"):  # fixtures loading: nothing has been rendered from them yet
        return
    content_changed()


def connect() -> None:
    for model in SHOWN_ON_PUBLIC_PAGES:
        uid = f"courses.page_cache.{model.__name__}"
        post_save.connect(_changed, sender=model, dispatch_uid=f"{uid}.save")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"{uid}.delete")

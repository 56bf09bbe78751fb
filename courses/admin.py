from django.contrib import admin

from .models import (
    Assignment,
    AssignmentVersion,
    Competency,
    Course,
    Enrollment,
    LearningPath,
    Lesson,
    Module,
    PathCourse,
)


class PathCourseInline(admin.TabularInline):
    model = PathCourse
    extra = 0
    autocomplete_fields = ["course"]


@admin.register(LearningPath)
class LearningPathAdmin(admin.ModelAdmin):
    list_display = ["code", "title", "track", "status"]
    list_filter = ["track", "status"]
    search_fields = ["code", "title"]
    inlines = [PathCourseInline]
    raw_id_fields = ["created_by"]


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ["code", "title", "language", "level", "track", "status"]
    list_filter = ["status", "language", "level", "track"]
    search_fields = ["code", "title"]
    filter_horizontal = ["instructors"]


@admin.register(Module)
class ModuleAdmin(admin.ModelAdmin):
    list_display = ["title", "course", "position"]
    list_select_related = ["course"]


@admin.register(Lesson)
class LessonAdmin(admin.ModelAdmin):
    list_display = ["title", "module", "position"]
    list_select_related = ["module"]


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["title", "course", "kind", "points", "due_at"]
    list_filter = ["kind"]
    list_select_related = ["course"]
    raw_id_fields = ["current_version", "module", "course"]


@admin.register(AssignmentVersion)
class AssignmentVersionAdmin(admin.ModelAdmin):
    list_display = ["assignment", "number", "created_at"]
    raw_id_fields = ["assignment"]


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
    list_display = ["user", "course", "status", "source", "completed_at"]
    list_filter = ["status", "source"]
    raw_id_fields = ["user", "course"]
    list_select_related = ["user", "course"]


admin.site.register(Competency)

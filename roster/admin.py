from django.contrib import admin

from .models import AcademicSession, Org, RosterClass, RosterCourse

# Roster users and enrollments hold people's names and addresses: no admin pages (the learners'
# own pages, with their read audit, show what staff need).


class RecordAdmin(admin.ModelAdmin):
    list_filter = ["organization", "is_active"]
    search_fields = ["sourced_id"]
    readonly_fields = ["organization", "sourced_id", "date_last_modified", "created_at", "updated_at"]


@admin.register(Org)
class OrgAdmin(RecordAdmin):
    list_display = ["sourced_id", "name", "type", "parent", "organization", "is_active"]


@admin.register(AcademicSession)
class AcademicSessionAdmin(RecordAdmin):
    list_display = ["sourced_id", "title", "type", "start_date", "end_date", "organization", "is_active"]


@admin.register(RosterCourse)
class RosterCourseAdmin(RecordAdmin):
    """The mapping onto our courses is set through the API or `manage.py oneroster_map_course`
    (which enrolls the stored students): read-only here."""

    list_display = ["sourced_id", "title", "course_code", "course", "is_mapped_by_admin", "organization", "is_active"]
    readonly_fields = [*RecordAdmin.readonly_fields, "course", "is_mapped_by_admin"]


@admin.register(RosterClass)
class RosterClassAdmin(RecordAdmin):
    list_display = ["sourced_id", "title", "class_code", "roster_course", "course", "organization", "is_active"]
    readonly_fields = [*RecordAdmin.readonly_fields, "course"]

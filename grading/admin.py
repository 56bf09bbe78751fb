from django.contrib import admin

from .models import GradeRecord, Submission


class GradeRecordInline(admin.TabularInline):
    model = GradeRecord
    extra = 0
    readonly_fields = ["score", "max_score", "source", "reason", "graded_by", "created_at"]
    can_delete = False


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = ["pk", "user", "assignment", "attempt", "status", "score", "submitted_at", "graded_at"]
    list_filter = ["status"]
    list_select_related = ["user", "assignment"]
    raw_id_fields = ["user", "assignment", "version"]
    readonly_fields = ["answer", "feedback", "staff_log", "grading_attempts", "started_at", "graded_at"]
    inlines = [GradeRecordInline]

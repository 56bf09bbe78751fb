from django.contrib import admin

from .models import ExportJob, GradeOverride


@admin.register(GradeOverride)
class GradeOverrideAdmin(admin.ModelAdmin):
    """Overrides are an audit trail: read-only here; they are made from the gradebook."""

    list_display = ["created_at", "assignment", "user", "score", "max_score", "actor"]
    readonly_fields = [f.name for f in GradeOverride._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ExportJob)
class ExportJobAdmin(admin.ModelAdmin):
    list_display = ["created_at", "course", "requested_by", "format", "status", "rows_done", "rows_total"]

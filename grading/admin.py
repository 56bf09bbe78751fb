from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from kernel.errors import ApplicationError

from . import selectors, services
from .models import GradeRecord, RegradeItem, RegradeJob, SandboxHealth, Submission


class GradeRecordInline(admin.TabularInline):
    model = GradeRecord
    extra = 0
    readonly_fields = ["score", "max_score", "source", "reason_text", "graded_by", "created_at"]
    fields = readonly_fields

    @admin.display(description=_("reason"))
    def reason_text(self, obj) -> str:
        return obj.reason_text

    can_delete = False


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = [
        "pk",
        "user",
        "assignment",
        "attempt",
        "status",
        "failure_code",
        "score",
        "submitted_at",
        "graded_at",
    ]
    list_filter = ["status", "failure_code", "assignment__kind"]
    list_select_related = ["user", "assignment"]
    raw_id_fields = ["user", "assignment", "version"]
    readonly_fields = [
        "answer", "feedback", "failure", "staff_log", "grading_attempts", "claim_token", "lease_expires_at",
        "started_at", "graded_at",
    ]  # fmt: skip
    inlines = [GradeRecordInline]
    actions = ["retry_failed", "regrade"]

    # Edits and deletions go through grading's services, which keep the latest graded attempt
    # (Submission.is_latest_graded) right for the learners and assignments they touch.
    def save_model(self, request, obj, form, change):
        services.submission_admin_save(
            submission=obj, save=lambda: super(SubmissionAdmin, self).save_model(request, obj, form, change)
        )

    def delete_model(self, request, obj):
        services.submissions_delete(submissions=Submission.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        services.submissions_delete(submissions=queryset)

    @admin.display(description=_("failure"))
    def failure(self, obj) -> str:
        return obj.failure_text if obj.failure_code else "—"

    def changelist_view(self, request, extra_context=None):
        problem = selectors.sandbox_status()
        if problem:
            messages.warning(request, _("Code grading: %(problem)s") % {"problem": problem})
        return super().changelist_view(request, extra_context)

    @admin.action(description=_("Retry the selected failed submissions"))
    def retry_failed(self, request, queryset):
        done = 0
        for sub in queryset.select_related("assignment__course"):
            try:
                services.submission_retry(user=request.user, submission=sub)
                done += 1
            except ApplicationError as exc:
                self.message_user(request, f"#{sub.pk}: {exc.message}", messages.WARNING)
        self.message_user(request, ngettext("%d submission queued again.", "%d submissions queued again.", done) % done)

    @admin.action(description=_("Regrade the selected submissions (keeps the history)"))
    def regrade(self, request, queryset):
        started = 0
        for sub in queryset.select_related("assignment__course"):
            try:
                services.regrade_start(user=request.user, assignment=sub.assignment, submission=sub)
                started += 1
            except ApplicationError as exc:
                self.message_user(request, f"#{sub.pk}: {exc.message}", messages.WARNING)
        self.message_user(request, ngettext("%d regrade started.", "%d regrades started.", started) % started)


@admin.register(RegradeJob)
class RegradeJobAdmin(admin.ModelAdmin):
    list_display = ["pk", "assignment", "version", "submission", "status", "done", "failed", "total", "created_at"]
    list_select_related = ["assignment", "version"]
    readonly_fields = ["status", "done", "failed", "total", "finished_at", "requested_by"]
    raw_id_fields = ["assignment", "version", "submission"]


@admin.register(RegradeItem)
class RegradeItemAdmin(admin.ModelAdmin):
    """One submission of a regrade job: why an item failed, or who holds it now."""

    list_display = ["pk", "job", "submission", "status", "attempts", "lease_expires_at", "finished_at"]
    list_filter = ["status"]
    raw_id_fields = ["job", "submission"]
    readonly_fields = [
        "job", "submission", "status", "attempts", "claim_token", "lease_expires_at", "error", "finished_at",
    ]  # fmt: skip


@admin.register(SandboxHealth)
class SandboxHealthAdmin(admin.ModelAdmin):
    list_display = ["hostname", "is_ok", "detail", "checked_at"]
    readonly_fields = ["hostname", "is_ok", "detail", "checked_at"]

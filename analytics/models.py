"""Gradebook overrides, export jobs, and the university-admin role analytics relies on."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class GradeOverride(models.Model):
    """An instructor's grade for a learner on an assignment, with the reason. It wins over the
    submissions made before it. When the learner has a submission, the override is also written
    to that submission's grade history (GradeRecord, source=override)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    assignment = models.ForeignKey("courses.Assignment", on_delete=models.CASCADE, related_name="+")
    submission = models.ForeignKey(
        "grading.Submission", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    score = models.DecimalField(_("score"), max_digits=7, decimal_places=2)
    max_score = models.DecimalField(_("out of"), max_digits=7, decimal_places=2)
    reason = models.TextField(_("reason"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("grade override")
        verbose_name_plural = _("grade overrides")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["assignment", "user", "created_at"], name="analytics_override_cell_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(score__gte=0, score__lte=models.F("max_score")),
                name="analytics_override_score_in_range",
            ),
            models.CheckConstraint(condition=~models.Q(reason=""), name="analytics_override_reason_required"),
        ]

    def __str__(self) -> str:
        return f"override {self.assignment_id}/{self.user_id}: {self.score}/{self.max_score}"


class ExportJob(models.Model):
    """A gradebook export built in the background (large courses); the page polls its progress."""

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "XLSX"

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Building")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    course = models.ForeignKey("courses.Course", on_delete=models.CASCADE, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    format = models.CharField(max_length=8, choices=Format.choices)
    # The gradebook filters the export applies (university, source, status, at_risk).
    filters = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    file_name = models.CharField(max_length=255, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"export #{self.pk} {self.course_id} {self.format} ({self.status})"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return int(100 * self.rows_done / self.rows_total) if self.rows_total else 0

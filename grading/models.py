"""Submissions and their grades. A submission is immutable once stored (its answer never changes);
its status moves queued -> running -> graded | needs_review | failed, guarded by a row lock."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Submission(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        GRADED = "graded", _("Graded")
        NEEDS_REVIEW = "needs_review", _("Needs review")
        FAILED = "failed", _("Failed to grade")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="submissions")
    assignment = models.ForeignKey("courses.Assignment", on_delete=models.CASCADE, related_name="submissions")
    version = models.ForeignKey("courses.AssignmentVersion", on_delete=models.PROTECT, related_name="submissions")
    attempt = models.PositiveIntegerField(_("attempt"))
    answer = models.JSONField(_("answer"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    score = models.DecimalField(_("score"), max_digits=7, decimal_places=2, null=True, blank=True)
    max_score = models.DecimalField(_("out of"), max_digits=7, decimal_places=2, null=True, blank=True)
    # What the learner sees (per-question feedback, public test results, late deduction...).
    feedback = models.JSONField(_("feedback"), default=dict, blank=True)
    # Staff only: grader errors, sandbox stderr, hidden-test details.
    staff_log = models.TextField(_("staff log"), blank=True)
    is_late = models.BooleanField(_("late"), default=False)
    # How many times a worker has taken this submission (redelivery, sweeper).
    grading_attempts = models.PositiveIntegerField(default=0)
    submitted_at = models.DateTimeField(_("submitted"), auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    graded_at = models.DateTimeField(_("graded"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("submission")
        verbose_name_plural = _("submissions")
        ordering = ["-submitted_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "assignment", "attempt"], name="grading_submission_unique_attempt"),
        ]
        indexes = [
            models.Index(fields=["status", "updated_at"], name="grading_sub_status_idx"),
            models.Index(fields=["assignment", "user"], name="grading_sub_assign_user_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.assignment_id}/{self.user_id} attempt {self.attempt}"

    @property
    def is_final(self) -> bool:
        return self.status in {self.Status.GRADED, self.Status.FAILED, self.Status.NEEDS_REVIEW}


class GradeRecord(models.Model):
    """Every grade a submission has had: automatic, regrade, essay review, override. The latest
    one is mirrored on Submission.score."""

    class Source(models.TextChoices):
        AUTO = "auto", _("Automatic")
        REGRADE = "regrade", _("Regrade")
        REVIEW = "review", _("Instructor review")
        OVERRIDE = "override", _("Override")

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="grades")
    score = models.DecimalField(max_digits=7, decimal_places=2)
    max_score = models.DecimalField(max_digits=7, decimal_places=2)
    source = models.CharField(max_length=16, choices=Source.choices)
    feedback = models.JSONField(default=dict, blank=True)
    reason = models.TextField(blank=True)
    graded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["submission", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.submission_id}: {self.score}/{self.max_score} ({self.source})"


class RegradeJob(models.Model):
    """A background regrade of one submission or of every graded submission to an assignment
    version. Progress (done/total) is shown while it runs; each regraded submission gets a
    GradeRecord with source=regrade, so the history of earlier grades stays."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")

    assignment = models.ForeignKey("courses.Assignment", on_delete=models.CASCADE, related_name="regrade_jobs")
    version = models.ForeignKey("courses.AssignmentVersion", null=True, blank=True, on_delete=models.CASCADE)
    submission = models.ForeignKey(Submission, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(_("reason"), blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("regrade")
        verbose_name_plural = _("regrades")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"regrade #{self.pk}: {self.done}/{self.total}"

    @property
    def percent(self) -> int:
        return 100 if not self.total else int(100 * (self.done + self.failed) / self.total)


class SandboxHealth(models.Model):
    """What each code-grading worker found when it tested its sandbox at start. A worker whose
    self-test failed does not consume the sandbox queue: code submissions wait queued."""

    hostname = models.CharField(max_length=200, unique=True)
    is_ok = models.BooleanField(default=False)
    detail = models.TextField(blank=True)
    checked_at = models.DateTimeField()

    class Meta:
        verbose_name = _("sandbox health")
        verbose_name_plural = _("sandbox health")
        ordering = ["-checked_at"]

    def __str__(self) -> str:
        return f"{self.hostname}: {'ok' if self.is_ok else self.detail}"

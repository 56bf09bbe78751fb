"""Submissions and their grades. A submission is immutable once stored (its answer never changes);
its status moves queued -> running -> graded | needs_review | failed, guarded by a row lock.

What learners and staff read about a grade (why it failed, why it was regraded) is stored as a
code with parameters and rendered in the reader's language (`grading.messages`)."""

from typing import NamedTuple

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from . import messages


class Submission(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        GRADED = "graded", _("Graded")
        NEEDS_REVIEW = "needs_review", _("Needs review")
        FAILED = "failed", _("Failed to grade")

    class Failure(models.TextChoices):
        """Why a submission failed to grade (staff read it; the learner reads `learner_message`)."""

        GRADER_ERROR = "grader_error", _("The grader could not grade it")
        ATTEMPTS_EXHAUSTED = "attempts_exhausted", _("Taken too many times without a grade")

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
    # How many times a worker has taken this submission (redelivery, sweeper); capped by
    # GRADING_MAX_ATTEMPTS. A sandbox that could not run (GraderUnavailable) gives its attempt back.
    grading_attempts = models.PositiveIntegerField(default=0)
    failure_code = models.CharField(_("failure"), max_length=32, choices=Failure.choices, blank=True)
    # The claim: who holds a running submission (the Celery task id and its retry number) and
    # until when. Its heartbeat renews the lease; once the lease expires the sweeper sends the
    # submission again. A queued submission's lease is when the sweeper (re)sends it.
    claim_token = models.CharField(max_length=80, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(_("submitted"), auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    graded_at = models.DateTimeField(_("graded"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)
    # Maintained by grading.services.latest_graded_refresh, in the transaction of every write that
    # changes which attempt it is: this is the learner's latest graded attempt at this assignment
    # (graded, no later graded attempt; `selectors.latest_graded_computed` is the definition it
    # must equal). Course analytics read it through a partial index instead of comparing every
    # attempt with every later one.
    is_latest_graded = models.BooleanField(default=False, db_default=False, editable=False)

    class Meta:
        verbose_name = _("submission")
        verbose_name_plural = _("submissions")
        ordering = ["-submitted_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "assignment", "attempt"], name="grading_submission_unique_attempt"),
        ]
        indexes = [
            models.Index(fields=["status", "updated_at"], name="grading_sub_status_idx"),
            # Per assignment and learner, covering what a course's analytics and at-risk rules
            # read: those queries scan the index alone (no row of the table), whatever the order
            # the course's submissions lie in (interleaved with every other course's).
            models.Index(
                fields=["assignment", "user"],
                # The id too: the at-risk rules leave out the rows a passing override decides
                # by id, and read no page of the table for it.
                include=["attempt", "status", "score", "max_score", "submitted_at", "id"],
                name="grading_sub_assign_user_cov2",
            ),
            # Each learner's latest graded attempt per assignment (is_latest_graded), covering what
            # a course's score statistics read: a scan of exactly those rows, index only.
            models.Index(
                fields=["assignment", "user"],
                include=["score", "max_score"],
                condition=models.Q(is_latest_graded=True),
                name="grading_sub_latest_graded",
            ),
            # The sweeper's query: queued or running rows whose lease has passed.
            models.Index(
                fields=["lease_expires_at"],
                condition=models.Q(status__in=["queued", "running"]),
                name="grading_sub_sweep_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.assignment_id}/{self.user_id} attempt {self.attempt}"

    @property
    def is_final(self) -> bool:
        return self.status in {self.Status.GRADED, self.Status.FAILED, self.Status.NEEDS_REVIEW}

    @property
    def learner_message(self) -> str:
        """What the learner reads about a failed submission, in the active language."""
        return messages.feedback_message(self.feedback)

    @property
    def late_message(self) -> str:
        """The late penalty's explanation, in the active language."""
        return messages.late_text((self.feedback or {}).get("late"))

    @property
    def failure_text(self) -> str:
        """Why it failed, for staff, in the active language."""
        return messages.failure_text(self.failure_code, attempts=self.grading_attempts)


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
    # Free text an instructor wrote (override), or a code with parameters rendered in the reader's
    # language (a regrade: reason_code="regrade", reason_params={"job": 7}).
    reason = models.TextField(blank=True)
    reason_code = models.CharField(max_length=32, blank=True)
    reason_params = models.JSONField(default=dict, blank=True)
    graded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["submission", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.submission_id}: {self.score}/{self.max_score} ({self.source})"

    @property
    def reason_text(self) -> str:
        """The reason in the active language (a code's words, or the text as written)."""
        return messages.reason_text(self.reason_code, self.reason_params) if self.reason_code else self.reason


class RegradeJob(models.Model):
    """A background regrade of one submission or of every graded submission to an assignment
    version: one RegradeItem per target, made when the job starts, each regraded once whatever
    the deliveries. Progress is counted from the items; each regraded submission gets a
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
    # Counted from the items, under the job's row lock, each time an item finishes.
    done = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    # When an item last finished: the sweeper resends pending items only of a job that stalled.
    progressed_at = models.DateTimeField(null=True, blank=True)
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

    def progress(self) -> "RegradeProgress":
        """Counts of this job's items by status, read now."""
        counts = dict(self.items.values_list("status").annotate(n=models.Count("id")).values_list("status", "n"))
        return RegradeProgress(
            total=sum(counts.values()),
            done=counts.get(RegradeItem.Status.DONE, 0),
            failed=counts.get(RegradeItem.Status.FAILED, 0),
        )


class RegradeProgress(NamedTuple):
    total: int
    done: int
    failed: int


class RegradeItem(models.Model):
    """One submission of a regrade job: claimed under a row lock with a lease (as a submission
    is), regraded, and marked done in the transaction that records its GradeRecord, so any number
    of deliveries of its task regrade it once."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        DONE = "done", _("Regraded")
        FAILED = "failed", _("Failed")

    job = models.ForeignKey(RegradeJob, on_delete=models.CASCADE, related_name="items")
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="regrade_items")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    claim_token = models.CharField(max_length=80, blank=True)
    # Running: until when its worker holds it. Pending: when the sweeper (re)sends it.
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["job", "id"]
        constraints = [
            models.UniqueConstraint(fields=["job", "submission"], name="grading_regrade_item_unique"),
        ]
        indexes = [
            models.Index(
                fields=["lease_expires_at"],
                condition=models.Q(status__in=["pending", "running"]),
                name="grading_regrade_item_sweep_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"regrade #{self.job_id} submission {self.submission_id}: {self.status}"


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

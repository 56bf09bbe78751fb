"""Learning paths, courses, modules, lessons, assignments (versioned), enrollments, progress."""

from datetime import timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Track(models.TextChoices):
    DATA_SCIENCE = "data-science", _("Data science")
    CYBERSECURITY = "cybersecurity", _("Cybersecurity")
    HEALTH_LAW = "health-law", _("Health law")
    DATA_GOVERNANCE = "data-governance", _("Data governance")


class PublicationStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    ARCHIVED = "archived", _("Archived")


class Level(models.TextChoices):
    BEGINNER = "beginner", _("Beginner")
    INTERMEDIATE = "intermediate", _("Intermediate")
    ADVANCED = "advanced", _("Advanced")


# A course's estimated workload, in whole hours (the forms, the archive and a check constraint).
MAX_WORKLOAD_HOURS = 1000
# What a cover image may be (kernel.uploads kinds) and the Content-Type it is served with.
COVER_CONTENT_TYPES = {"png": "image/png", "jpeg": "image/jpeg"}


class Competency(models.Model):
    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("competency")
        verbose_name_plural = _("competencies")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Course(models.Model):
    code = models.SlugField(_("code"), max_length=64, unique=True)
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(_("summary"), blank=True)
    # The language the course content is written in (not the interface language).
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    status = models.CharField(
        _("status"), max_length=16, choices=PublicationStatus.choices, default=PublicationStatus.DRAFT
    )
    level = models.CharField(_("level"), max_length=16, choices=Level.choices, default=Level.BEGINNER)
    workload_hours = models.PositiveSmallIntegerField(
        _("estimated workload (hours)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_WORKLOAD_HOURS)],
    )
    # The catalogue's track filter: a course on no path still has one (a course on a path is
    # also found under the path's track).
    track = models.CharField(_("track"), max_length=32, choices=Track.choices, blank=True, default="")
    instructors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="taught_courses", verbose_name=_("instructors")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("course")
        verbose_name_plural = _("courses")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(workload_hours__isnull=True)
                | models.Q(workload_hours__gte=1, workload_hours__lte=MAX_WORKLOAD_HOURS),
                name="courses_course_workload_in_range",
            )
        ]

    def __str__(self) -> str:
        return f"{self.code}: {self.title}"

    @property
    def content_dir(self) -> str:
        """The direction of the course's content ("rtl" for Arabic), whatever the interface's."""
        return "rtl" if self.language.split("-")[0] in settings.LANGUAGES_BIDI else "ltr"


class CourseCover(models.Model):
    """A course's cover image (PNG or JPEG, checked by its content), its bytes kept in the database
    so that every web host serves the same image with no shared file system; served by
    courses.views.course_cover under a URL naming its digest, so browsers cache it for good.
    A row of its own: loading a course never loads its picture."""

    course = models.OneToOneField(Course, on_delete=models.CASCADE, primary_key=True, related_name="cover")
    data = models.BinaryField()
    content_type = models.CharField(max_length=32)
    # SHA-256 of `data` (hex): the version in the cover's URL and its ETag.
    digest = models.CharField(max_length=64)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("course cover")
        verbose_name_plural = _("course covers")

    def __str__(self) -> str:
        return f"cover of {self.course_id} ({self.content_type})"

    @property
    def version(self) -> str:
        """What the pages put in the cover's URL (`?v=`): a new image, a new URL."""
        return self.digest[:16]

    @property
    def extension(self) -> str:
        return "png" if self.content_type == COVER_CONTENT_TYPES["png"] else "jpg"


class LearningPath(models.Model):
    code = models.SlugField(_("code"), max_length=64, unique=True)
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(_("summary"), blank=True)
    track = models.CharField(_("track"), max_length=32, choices=Track.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=PublicationStatus.choices, default=PublicationStatus.DRAFT
    )
    competencies = models.ManyToManyField(Competency, blank=True, related_name="paths")
    courses = models.ManyToManyField(Course, through="PathCourse", related_name="paths")
    # Who created it on the authoring pages: they may edit it (courses.permissions.can_edit_path).
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("learning path")
        verbose_name_plural = _("learning paths")
        ordering = ["track", "code"]

    def __str__(self) -> str:
        return self.title


class PathCourse(models.Model):
    """A course's place in a path. Its `gate` says what it means for the courses after it:
    required (they stay locked until this one is complete) or recommended (advice only)."""

    class Gate(models.TextChoices):
        REQUIRED = "required", _("Required")
        RECOMMENDED = "recommended", _("Recommended")

    path = models.ForeignKey(LearningPath, on_delete=models.CASCADE, related_name="path_courses")
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="path_courses")
    position = models.PositiveIntegerField(_("position"))
    gate = models.CharField(_("prerequisite"), max_length=16, choices=Gate.choices, default=Gate.REQUIRED)

    class Meta:
        ordering = ["path", "position"]
        constraints = [
            models.UniqueConstraint(fields=["path", "course"], name="courses_pathcourse_unique_course"),
            # Deferred (on PostgreSQL) so that moving a course swaps two positions in one transaction.
            models.UniqueConstraint(
                fields=["path", "position"],
                name="courses_pathcourse_unique_position",
                deferrable=models.Deferrable.DEFERRED,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.path_id}#{self.position}: {self.course_id}"


class Module(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="modules")
    title = models.CharField(_("title"), max_length=200)
    position = models.PositiveIntegerField(_("position"))

    class Meta:
        verbose_name = _("module")
        verbose_name_plural = _("modules")
        ordering = ["course", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["course", "position"],
                name="courses_module_unique_position",
                deferrable=models.Deferrable.DEFERRED,
            )
        ]

    def __str__(self) -> str:
        return self.title


class Lesson(models.Model):
    module = models.ForeignKey(Module, on_delete=models.CASCADE, related_name="lessons")
    title = models.CharField(_("title"), max_length=200)
    body_markdown = models.TextField(_("body (Markdown)"), blank=True)
    # Sanitized HTML rendered from body_markdown on save by the service; never user-typed.
    body_html = models.TextField(editable=False, blank=True)
    position = models.PositiveIntegerField(_("position"))

    class Meta:
        verbose_name = _("lesson")
        verbose_name_plural = _("lessons")
        ordering = ["module", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["module", "position"],
                name="courses_lesson_unique_position",
                deferrable=models.Deferrable.DEFERRED,
            )
        ]

    def __str__(self) -> str:
        return self.title


# Bounds the forms and the archive check before a value reaches its column (a PositiveIntegerField
# holds at most 2**31 - 1; beyond it PostgreSQL refuses the row).
MAX_ATTEMPTS_ALLOWED = 1000
MAX_LATE_CUTOFF_DAYS = 3650
MAX_POSITION = 100_000


class Assignment(models.Model):
    class Kind(models.TextChoices):
        QUIZ = "quiz", _("Quiz")
        CODE = "code", pgettext_lazy("programming", "Code")
        FLAG = "flag", _("Flag")
        ESSAY = "essay", _("Essay")
        SQL = "sql", pgettext_lazy("assignment kind", "SQL query")
        DEID = "deid", _("De-identification")
        FHIR = "fhir", pgettext_lazy("assignment kind", "FHIR resource")

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="assignments")
    module = models.ForeignKey(Module, on_delete=models.CASCADE, related_name="assignments")
    # Names the assignment inside its course (the archive's assignments/<slug>.yaml).
    slug = models.SlugField(_("slug"), max_length=64, blank=True)
    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    position = models.PositiveIntegerField(_("position"), default=0)
    points = models.DecimalField(_("points"), max_digits=7, decimal_places=2, default=100)
    # Share of the points needed to pass, 0..1.
    pass_threshold = models.DecimalField(_("pass threshold"), max_digits=4, decimal_places=3, default=0.5)
    is_required = models.BooleanField(_("required for completion"), default=True)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    attempts_allowed = models.PositiveIntegerField(_("attempts allowed"), null=True, blank=True)
    # Late policy: this many percent of the points off per day late, refused after the cutoff.
    late_penalty_per_day = models.DecimalField(_("late penalty per day (%)"), max_digits=5, decimal_places=2, default=0)
    late_cutoff_days = models.PositiveIntegerField(_("late cutoff (days)"), null=True, blank=True)
    competencies = models.ManyToManyField(Competency, blank=True, related_name="assignments")
    # The version learners answer now. Editing a published assignment makes a new version.
    current_version = models.ForeignKey(
        "AssignmentVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        ordering = ["module", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["course", "slug"], name="courses_assignment_unique_slug", condition=~models.Q(slug="")
            )
        ]

    def __str__(self) -> str:
        return self.title


class AssignmentVersion(models.Model):
    """An immutable snapshot of what learners answer: prompt and kind-specific spec. Submissions
    point here so they stay readable as they were answered."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    prompt_markdown = models.TextField(blank=True)
    prompt_html = models.TextField(blank=True)
    # Kind-specific: quiz questions and answers, hashed flags, code tests and expected outputs,
    # essay rubric. Validated per kind by the service; graders read it, learners never see it raw.
    spec = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["assignment", "number"]
        constraints = [models.UniqueConstraint(fields=["assignment", "number"], name="courses_version_unique_number")]

    def __str__(self) -> str:
        return f"{self.assignment} v{self.number}"


class Enrollment(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        DROPPED = "dropped", _("Dropped")
        COMPLETED_ELSEWHERE = "completed-elsewhere", _("Completed elsewhere")

    class Source(models.TextChoices):
        SELF = "self", _("Self-enrolled")
        SYNC = "sync", _("University sync")
        ONEROSTER = "oneroster", _("OneRoster import")
        LTI = "lti", _("LMS (LTI)")
        STAFF = "staff", _("Staff")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrollments")
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="enrollments")
    status = models.CharField(_("status"), max_length=24, choices=Status.choices, default=Status.ACTIVE)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, default=Source.SELF)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("enrollment")
        verbose_name_plural = _("enrollments")
        constraints = [models.UniqueConstraint(fields=["user", "course"], name="courses_enrollment_unique_user_course")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.course_id} ({self.status})"


class LessonProgress(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lesson_progress")
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="progress")
    viewed_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "lesson"], name="courses_lessonprogress_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} on lesson {self.lesson_id}"


class CourseImportJob(models.Model):
    """An uploaded course archive, kept server-side between its check and its import. It is read
    and checked first (in the request if small, else by a worker: CHECKING), then shows what will
    change and waits for its requester's confirmation (AWAITING, for CONFIRM_WITHIN); confirmed,
    it is imported (in the request if small, else by a worker: courses.course_import). The page
    polls its progress; the archive is dropped once it ran. A job still checking, waiting or
    running STALE_AFTER after it was asked for lost its message or its worker (the task's own
    time limit is shorter): it no longer counts as in progress."""

    STALE_AFTER = timedelta(minutes=30)
    # How long an upload waits for its confirmation (counted from the upload).
    CONFIRM_WITHIN = timedelta(hours=1)

    class Status(models.TextChoices):
        CHECKING = "checking", _("Checking the archive")
        AWAITING = "awaiting", _("Awaiting confirmation")
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Failed")

    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    file_name = models.CharField(max_length=255, blank=True)
    update = models.BooleanField(default=False)
    # The uploaded zip (at most COURSE_ARCHIVE_MAX_BYTES), kept in the database so that any
    # worker host can read it; emptied when the job ends.
    archive = models.BinaryField(default=b"", blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    # Files read so far out of the archive's files plus one step for writing the course.
    steps_total = models.PositiveIntegerField(default=0)
    steps_done = models.PositiveIntegerField(default=0)
    # Why the import was refused: messages naming the file inside the zip and the line or field.
    errors = models.JSONField(default=list, blank=True)
    # Existing competencies referenced as they are: [{"code", "name", "archive_name", "shared"}].
    kept = models.JSONField(default=list, blank=True)
    # What the import will change, computed when the archive was checked (archive.archive_changes).
    summary = models.JSONField(default=dict, blank=True)
    course = models.ForeignKey(Course, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(steps_done__lte=models.F("steps_total")),
                                   name="courses_importjob_steps_in_range"),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"import #{self.pk} {self.file_name} ({self.status})"

    ACTIVE = (Status.CHECKING, Status.PENDING, Status.RUNNING)

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE and not self.is_stalled

    @property
    def is_stalled(self) -> bool:
        return self.status in self.ACTIVE and self.created_at < timezone.now() - self.STALE_AFTER

    @property
    def is_awaiting(self) -> bool:
        """Checked, and its requester may still confirm it."""
        return self.status == self.Status.AWAITING and not self.is_expired

    @property
    def previous_status_display(self) -> str:
        """The replaced course's publication status, as the summary recorded it."""
        return PublicationStatus(self.summary["previous_status"]).label if self.summary.get("previous_status") else ""

    @property
    def status_after_display(self) -> str:
        return PublicationStatus(self.summary["status"]).label if self.summary.get("status") else ""

    @property
    def is_expired(self) -> bool:
        return self.status == self.Status.AWAITING and self.created_at < timezone.now() - self.CONFIRM_WITHIN

    @property
    def is_writing(self) -> bool:
        """Every file is read; the course is being written (one transaction: no finer progress)."""
        return self.status == self.Status.RUNNING and 0 < self.steps_total <= self.steps_done + 1

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return int(100 * self.steps_done / self.steps_total) if self.steps_total else 0


class QuestionBank(models.Model):
    """A course's questions on one competency (its tag), which quizzes draw from. One row per
    (course, competency): a bank is validated, edited, exported (banks/<tag>.yaml) and frozen
    into a quiz version (its `pools`) as a whole, in the quiz's own question format, so a list
    in one JSON column keeps its order and its question ids' uniqueness with the quiz's rules."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="question_banks")
    competency = models.ForeignKey(Competency, on_delete=models.PROTECT, related_name="question_banks")
    # [question], each as in a quiz spec's `questions` (validated by the quiz kind).
    questions = models.JSONField(default=list)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("question bank")
        verbose_name_plural = _("question banks")
        ordering = ["course", "competency__code"]
        constraints = [models.UniqueConstraint(fields=["course", "competency"], name="courses_questionbank_unique_tag")]

    def __str__(self) -> str:
        return f"{self.course_id}/{self.competency_id} ({len(self.questions)} questions)"


class CourseFile(models.Model):
    """A file attached to a course: a flag's artifact (a log, a capture, a document) or a dataset
    for code tests. Its bytes live in the database, like an import's archive, so any web host can
    serve it; its size is bounded by an archive entry's (settings COURSE_ARCHIVE_MAX_ENTRY_BYTES),
    so the course archive (files/<name>) can always carry it."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="files")
    # Safe in a URL and a zip entry: letters, digits, ".", "_" and "-" (courses.services.FILE_NAME_RE).
    name = models.CharField(_("name"), max_length=100)
    content = models.BinaryField(_("content"))
    size = models.PositiveIntegerField(_("size (bytes)"))
    # The kind kernel.uploads.sniff_kind found in the content: pdf, csv, log, pcap...
    content_kind = models.CharField(_("kind"), max_length=16)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("course file")
        verbose_name_plural = _("course files")
        ordering = ["course", "name"]
        constraints = [models.UniqueConstraint(fields=["course", "name"], name="courses_coursefile_unique_name")]

    def __str__(self) -> str:
        return f"{self.course_id}/{self.name}"

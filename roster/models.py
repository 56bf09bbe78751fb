"""The roster a university keeps in its SIS, as OneRoster sends it: its orgs (a district above its
schools), academic sessions (terms), courses, classes (a course offered for a term, with its own
learners and teachers), users and enrollments. Every record is keyed by the university and the
record's `sourcedId`, so a later delta may refer to anything an earlier import stored.

Records are never hard-deleted: one left out of a bulk file, or sent as `tobedeleted` in a delta,
is deactivated (`is_active=False`). What maps onto Kafaat (a class onto one of our courses, a user
onto an account) is resolved here; what does not map yet is kept and reported."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class RosterRecord(models.Model):
    """What every OneRoster record has: its university, its sourcedId, whether the SIS still has
    it, and when it was last changed (the SIS's dateLastModified, and ours)."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    sourced_id = models.CharField(_("sourcedId"), max_length=255)
    is_active = models.BooleanField(_("active"), default=True)
    date_last_modified = models.DateTimeField(_("last modified in the SIS"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Indexed: incremental exports and "what changed since" reads page on it.
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.sourced_id


def _unique(name: str) -> list:
    return [models.UniqueConstraint(fields=["organization", "sourced_id"], name=f"roster_{name}_unique_sourced_id")]


class Org(RosterRecord):
    class Type(models.TextChoices):
        DEPARTMENT = "department", _("Department")
        SCHOOL = "school", _("School")
        DISTRICT = "district", _("District")
        LOCAL = "local", _("Local")
        STATE = "state", _("State")
        NATIONAL = "national", _("National")

    name = models.CharField(_("name"), max_length=255)
    type = models.CharField(_("type"), max_length=16, choices=Type.choices)
    identifier = models.CharField(_("identifier"), max_length=255, blank=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children")

    class Meta:
        verbose_name = _("roster org")
        verbose_name_plural = _("roster orgs")
        constraints = _unique("org")
        ordering = ["name"]


class AcademicSession(RosterRecord):
    class Type(models.TextChoices):
        GRADING_PERIOD = "gradingPeriod", _("Grading period")
        SEMESTER = "semester", _("Semester")
        SCHOOL_YEAR = "schoolYear", _("School year")
        TERM = "term", _("Term")

    title = models.CharField(_("title"), max_length=255)
    type = models.CharField(_("type"), max_length=16, choices=Type.choices)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    school_year = models.CharField(_("school year"), max_length=4)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children")

    class Meta:
        verbose_name = _("academic session")
        verbose_name_plural = _("academic sessions")
        constraints = _unique("session")
        ordering = ["start_date", "title"]


class RosterCourse(RosterRecord):
    """A course of the SIS's catalogue. `course` is the Kafaat course it maps to: found by its
    courseCode, or set by the university's admin (`is_mapped_by_admin`), which an import keeps."""

    title = models.CharField(_("title"), max_length=255)
    course_code = models.CharField(_("course code"), max_length=255, blank=True)
    org = models.ForeignKey(Org, null=True, blank=True, on_delete=models.SET_NULL, related_name="courses")
    school_year = models.ForeignKey(AcademicSession, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    course = models.ForeignKey(
        "courses.Course", null=True, blank=True, on_delete=models.SET_NULL, related_name="roster_courses"
    )
    is_mapped_by_admin = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("roster course")
        verbose_name_plural = _("roster courses")
        constraints = _unique("course")
        ordering = ["title"]


class RosterClass(RosterRecord):
    """A class: an offering of a roster course for one or more terms, with its own members. Its
    Kafaat course is its own classCode's course when that is one of ours, else its course's."""

    class Type(models.TextChoices):
        HOMEROOM = "homeroom", _("Homeroom")
        SCHEDULED = "scheduled", _("Scheduled")

    title = models.CharField(_("title"), max_length=255)
    class_code = models.CharField(_("class code"), max_length=255, blank=True)
    class_type = models.CharField(_("class type"), max_length=16, choices=Type.choices)
    location = models.CharField(_("location"), max_length=255, blank=True)
    roster_course = models.ForeignKey(RosterCourse, on_delete=models.CASCADE, related_name="classes")
    school = models.ForeignKey(Org, null=True, blank=True, on_delete=models.SET_NULL, related_name="classes")
    terms = models.ManyToManyField(AcademicSession, blank=True, related_name="classes")
    course = models.ForeignKey(
        "courses.Course", null=True, blank=True, on_delete=models.SET_NULL, related_name="roster_classes"
    )

    class Meta:
        verbose_name = _("class")
        verbose_name_plural = _("classes")
        constraints = _unique("class")
        ordering = ["title"]


class RosterUser(RosterRecord):
    """A person of the roster. `user` is their Kafaat account, once one is needed (a student or a
    teacher of a mapped class); until then their name and address are kept here to create it.
    An erasure clears them (the privacy app's hook)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="roster_entries"
    )
    username = models.CharField(_("username"), max_length=255, blank=True)
    given_name = models.CharField(_("given name"), max_length=255, blank=True)
    family_name = models.CharField(_("family name"), max_length=255, blank=True)
    email = models.CharField(_("e-mail"), max_length=320, blank=True)
    is_enabled = models.BooleanField(_("enabled"), default=True)
    # OneRoster 1.1 carries the role on the user; 1.2 in roles.csv (the primary role is kept here).
    role = models.CharField(_("role"), max_length=32, blank=True)
    primary_org = models.ForeignKey(Org, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("roster user")
        verbose_name_plural = _("roster users")
        constraints = _unique("user")


class RosterRole(RosterRecord):
    """A 1.2 roles.csv row: a user's role in an org."""

    roster_user = models.ForeignKey(RosterUser, on_delete=models.CASCADE, related_name="roles")
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="+")
    role_type = models.CharField(_("role type"), max_length=16)
    role = models.CharField(_("role"), max_length=32)
    begin_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)

    class Meta:
        constraints = _unique("role")


class RosterEnrollment(RosterRecord):
    class Role(models.TextChoices):
        ADMINISTRATOR = "administrator", _("Administrator")
        PROCTOR = "proctor", _("Proctor")
        STUDENT = "student", _("Student")
        TEACHER = "teacher", _("Teacher")

    roster_class = models.ForeignKey(RosterClass, on_delete=models.CASCADE, related_name="enrollments")
    roster_user = models.ForeignKey(RosterUser, on_delete=models.CASCADE, related_name="enrollments")
    school = models.ForeignKey(Org, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    is_primary = models.BooleanField(default=False)
    begin_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name = _("class enrollment")
        verbose_name_plural = _("class enrollments")
        constraints = _unique("enrollment")
        indexes = [models.Index(fields=["roster_class", "role", "is_active"], name="roster_enr_class_role_idx")]


class RosterInstructor(models.Model):
    """An instructor assignment (Course.instructors) the roster gave: a teacher of a mapped class.
    Only these are taken back when the roster drops the teacher; one given by hand is kept."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    course = models.ForeignKey("courses.Course", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "course"], name="roster_instructor_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} teaches {self.course_id}"

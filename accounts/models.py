"""Users (log in by e-mail) and organizations (universities, hospitals, ministries)."""

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Organization(models.Model):
    class Kind(models.TextChoices):
        UNIVERSITY = "university", _("University")
        HOSPITAL = "hospital", _("Hospital")
        MINISTRY = "ministry", _("Ministry")

    slug = models.SlugField(_("slug"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.UNIVERSITY)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person. Learners, instructors, university admins and staff are all users; instructor
    is a per-course role (Course.instructors), university admin a per-organization one."""

    email = models.EmailField(_("e-mail address"), max_length=254, unique=True)
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    preferred_language = models.CharField(_("language"), max_length=8, blank=True)
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organization"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    # The university's own id for this learner, unique within the organization.
    external_id = models.CharField(_("external id"), max_length=128, null=True, blank=True)
    # The university whose sync or OneRoster import created this account. Only that university's
    # sync may change the account's address or name: never one it merely linked or found.
    created_by_organization = models.ForeignKey(
        Organization,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Set on a *stand-in*: the account a university's sync creates for a roster row whose address
    # already belongs to another account. It holds the row's external id and enrollments until the
    # owner of that address confirms the link (integrations.services.links), and is never usable
    # (inactive, no password, an undeliverable `email`). This is the address the roster gives,
    # shown wherever the account's address is shown (`display_email`).
    roster_email = models.EmailField(_("address in the roster"), max_length=254, blank=True, default="", db_default="")
    is_staff = models.BooleanField(_("staff status"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    # Self sign-ups can use their account at once; this says whether they proved the address.
    email_verified_at = models.DateTimeField(_("e-mail verified"), null=True, blank=True)
    # Set when the account was erased at its owner's request (or by retention): the row stays so
    # that aggregates still count it, with every personal field wiped.
    erased_at = models.DateTimeField(_("erased"), null=True, blank=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "external_id"],
                name="accounts_user_unique_external_id_per_org",
                condition=models.Q(external_id__isnull=False),
            ),
            models.UniqueConstraint(Lower("email"), name="accounts_user_unique_email_ci"),
            models.CheckConstraint(
                condition=models.Q(roster_email="") | models.Q(is_active=False),
                name="accounts_user_stand_in_never_active",
                violation_error_message=_("A stand-in for a university's roster entry cannot be activated."),
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.display_email

    @property
    def is_stand_in(self) -> bool:
        return bool(self.roster_email)

    @property
    def display_email(self) -> str:
        """The address to show: a stand-in's is the one its university's roster gives."""
        return self.roster_email or self.email

    def get_full_name(self) -> str:
        return self.full_name or self.display_email

    def get_short_name(self) -> str:
        return (self.full_name.split() or [self.display_email])[0]

    def get_language(self) -> str:
        """The language to write to this user in (e-mails): their choice, else the site's default."""
        return self.preferred_language or settings.LANGUAGE_CODE


class EmailChange(models.Model):
    """A change of an account's address. On an activated account it is *pending* until its owner,
    logged in, confirms it from the link sent to the new address (the old one is told, and can
    cancel); the old address stays the one to log in and reset the password with until then. On a
    never-activated invitee the change is applied at once (*corrected*): the invitation goes to the
    new address, and activating it is the confirmation; the old address is told."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for confirmation")
        CONFIRMED = "confirmed", _("Confirmed")
        CANCELLED = "cancelled", _("Cancelled")
        CORRECTED = "corrected", _("Corrected before activation")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="email_changes")
    old_email = models.EmailField(_("old address"), max_length=254)
    new_email = models.EmailField(_("new address"), max_length=254)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    # Who asked, as the e-mails name them: a university, a staff member.
    requested_by = models.CharField(_("asked by"), max_length=254, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # When the confirmation and the notice went out; None: the next `email_changes_notify` sends
    # them (a university's sync queues them this way, in bulk).
    notified_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("change of address")
        verbose_name_plural = _("changes of address")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(status="pending"), name="accounts_email_change_one_pending"
            ),
        ]
        indexes = [
            models.Index(fields=["id"], name="accounts_emailchg_unsent_idx", condition=models.Q(notified_at=None))
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.old_email} -> {self.new_email} ({self.status})"


class OrganizationMembership(models.Model):
    """A role a user holds in an organization. University admins see their organization's
    learners and progress, and manage its API clients."""

    class Role(models.TextChoices):
        ADMIN = "admin", _("University admin")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.ADMIN)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("organization membership")
        verbose_name_plural = _("organization memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "organization", "role"], name="accounts_membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.role} of {self.organization_id}"


class UserSession(models.Model):
    """A login: one row per session key, so people can see where they are logged in and end it."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="login_sessions")
    session_key = models.CharField(max_length=40, unique=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"session of {self.user_id} since {self.created_at}"


class Consent(models.Model):
    """A user accepted this version of the privacy notice, at this time, in this language."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="consents")
    notice_version = models.PositiveIntegerField(_("privacy notice version"))
    language = models.CharField(_("language"), max_length=8)
    accepted_at = models.DateTimeField(_("accepted"), auto_now_add=True)

    class Meta:
        ordering = ["-accepted_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "notice_version"], name="accounts_consent_unique_version"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} accepted v{self.notice_version}"


class AuditEntry(models.Model):
    """Someone other than the learner looked at the learner's data (written only by
    accounts.services.audit_reads)."""

    class Action(models.TextChoices):
        SUBMISSION_VIEW = "submission.view", _("Viewed a submission")
        PROFILE_VIEW = "profile.view", _("Viewed the profile")
        PROGRESS_VIEW = "progress.view", _("Viewed enrollments and progress")
        EXPORT_DOWNLOAD = "export.download", _("Downloaded a data export")
        GRADES_VIEW = "grades.view", _("Viewed grades in the gradebook")
        GRADES_EXPORT = "grades.export", _("Exported grades from the gradebook")
        CERTIFICATE_VIEW = "certificate.view", _("Viewed a certificate")
        RECORD_VIEW = "record.view", _("Viewed a record about you in the administration")
        LIST_VIEW = "list.view", _("Saw you in a list")

    actor = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    # Kept when the actor's account is gone, so the learner still knows who it was.
    actor_label = models.CharField(max_length=254)
    action = models.CharField(max_length=32, choices=Action.choices)
    subject_user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="audit_entries")
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # Which KAFAAT_AUDIT_DEDUPE_SECONDS slot of time the read fell in: one entry per actor, action,
    # subject and object per slot (a status poll reads every second). Null: never deduplicated.
    dedupe_slot = models.BigIntegerField(null=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = _("audit entries")
        constraints = [
            models.UniqueConstraint(
                fields=["actor", "action", "subject_user", "object_type", "object_id", "dedupe_slot"],
                name="accounts_auditentry_one_per_window",
            )
        ]

    def __str__(self) -> str:
        return f"{self.actor_label} {self.action} {self.subject_user_id}"

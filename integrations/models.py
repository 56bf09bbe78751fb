"""Integrations: what universities see of us. API clients (OAuth 2 applications tied to an
organization), the webhook deliveries of the event outbox (kernel.OutboxEvent), sync idempotency
and the audit log, and the invitation state of learners created by a sync."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Scope(models.TextChoices):
    CATALOG_READ = "catalog:read", _("Read the catalogue")
    ENROLLMENTS_READ = "enrollments:read", _("Read enrollments")
    ENROLLMENTS_WRITE = "enrollments:write", _("Sync learners and enrollments")
    GRADES_READ = "grades:read", _("Read grades and completions")
    WEBHOOKS_MANAGE = "webhooks:manage", _("Manage webhooks")


class ApiClient(models.Model):
    """A university's machine client: an OAuth 2 application (client credentials) acting for one
    organization, limited to its scopes. Its secret is stored hashed by django-oauth-toolkit."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="api_clients", verbose_name=_("organization")
    )
    application = models.OneToOneField(
        settings.OAUTH2_PROVIDER_APPLICATION_MODEL, on_delete=models.CASCADE, related_name="api_client"
    )
    name = models.CharField(_("name"), max_length=200)
    # Space-separated, like OAuth 2 scopes.
    scopes = models.CharField(_("scopes"), max_length=255)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    secret_rotated_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API client")
        verbose_name_plural = _("API clients")
        ordering = ["organization", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.organization})"

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()


class WebhookSubscription(models.Model):
    class EventType(models.TextChoices):
        SUBMISSION_GRADED = "submission.graded", "submission.graded"
        COURSE_COMPLETED = "course.completed", "course.completed"
        ENROLLMENT_CHANGED = "enrollment.changed", "enrollment.changed"
        LEARNER_ERASED = "learner.erased", "learner.erased"

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="webhooks")
    client = models.ForeignKey(ApiClient, null=True, blank=True, on_delete=models.SET_NULL, related_name="webhooks")
    url = models.URLField(_("URL"), max_length=500)
    event_types = models.JSONField(_("event types"), default=list)
    # The HMAC key; shown once at creation. Kept in clear because signing needs it.
    secret = models.CharField(max_length=128)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One event for one subscription: the delivery log. Pending ones are retried with
    exponential backoff; per learner, a delivery waits until the earlier ones are settled."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        DELIVERED = "delivered", _("Delivered")
        DEAD = "dead", _("Given up")

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey("kernel.OutboxEvent", on_delete=models.CASCADE, related_name="deliveries")
    # Ordering key: deliveries of one learner go out in event order.
    user_id_key = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "event"], name="integ_delivery_unique_event"),
        ]
        indexes = [models.Index(fields=["subscription", "status", "id"], name="integ_delivery_sub_status_idx")]

    def __str__(self) -> str:
        return f"{self.event_id} -> {self.subscription_id} ({self.status})"


class IdempotencyRecord(models.Model):
    """The first answer to a write sent with an Idempotency-Key, replayed for the same body."""

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    endpoint = models.CharField(max_length=200)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveIntegerField()
    response = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["client", "key"], name="integ_idempotency_unique_key")]

    def __str__(self) -> str:
        return f"{self.client_id}:{self.key}"


class AuditEntry(models.Model):
    """Every write through the API or the OneRoster importer: who, where, what it counted."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey(ApiClient, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    endpoint = models.CharField(max_length=200)
    action = models.CharField(max_length=64)
    counts = models.JSONField(default=dict)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.action} {self.endpoint} {self.counts}"


class LearnerInvite(models.Model):
    """A learner created by a sync: inactive, with an unusable password, until they follow the
    activation link (accounts' invitation) e-mailed to them from the `events` queue."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="learner_invite")
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # Set only once the mail server accepted the message (services/invites.py).
    sent_at = models.DateTimeField(null=True, blank=True)
    # Delivery: tries so far, when the next one is due (exponential backoff), the last refusal, and
    # the end of a worker's claim (no other worker takes the row until then). After
    # INVITE_MAX_ATTEMPTS refusals the invitation is failed: shown, resent only by hand.
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["id"], name="integ_invite_unsent_idx", condition=models.Q(sent_at__isnull=True))
        ]

    def __str__(self) -> str:
        return f"invite of {self.user_id}"

    @property
    def status(self) -> str:
        if self.sent_at is not None:
            return "sent"
        return "failed" if self.failed_at is not None else "pending"

    @property
    def error_summary(self) -> str:
        """The last refusal in a university admin's words (the raw error stays for staff, in
        the admin site and the logs): `last_error` starts with the exception's class name."""
        if not self.last_error:
            return ""
        kind, _sep, rest = self.last_error.partition(":")
        code = next((w for w in rest.replace(",", " ").replace("(", " ").split() if w.isdigit() and len(w) == 3), "")
        if kind in ("SMTPRecipientsRefused",):
            return str(_("The mail server refused this address."))
        if kind in ("SMTPAuthenticationError", "SMTPNotSupportedError"):
            return str(_("The mail server refused the platform's login: check EMAIL_URL."))
        if kind.startswith("SMTP") and kind != "SMTPServerDisconnected":
            if code:
                return str(_("The mail server refused the message (code %(code)s).") % {"code": code})
            return str(_("The mail server refused the message."))
        if kind in ("ConnectionRefusedError", "TimeoutError", "OSError", "socket.gaierror", "gaierror",
                    "SMTPServerDisconnected", "ConnectionResetError", "SoftTimeLimitExceeded"):  # fmt: skip
            return str(_("The mail server could not be reached."))
        return str(_("The message could not be sent."))


class RosterPolicy(models.Model):
    """What a university's OneRoster imports may do beyond enrolling learners. Staff set it (the
    admin site): by default a roster's teachers are stored but given no rights on our courses."""

    organization = models.OneToOneField(
        "accounts.Organization", on_delete=models.CASCADE, related_name="roster_policy", verbose_name=_("organization")
    )
    assign_teachers = models.BooleanField(
        _("teachers become instructors"),
        default=False,
        help_text=_("A roster teacher of a mapped class becomes an instructor of its course (accounts are created)."),
    )

    class Meta:
        verbose_name = _("roster policy")
        verbose_name_plural = _("roster policies")

    def __str__(self) -> str:
        return f"roster policy of {self.organization_id}"


class OneRosterImportJob(models.Model):
    """A OneRoster package uploaded through the API, imported by a worker
    (integrations.oneroster_import). The zip is kept in the database so any worker host can read
    it, and emptied once the job ends."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        REFUSED = "refused", _("Refused")

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey(ApiClient, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    file_name = models.CharField(max_length=255, blank=True)
    package = models.BinaryField(default=b"", blank=True)
    dry_run = models.BooleanField(default=False)
    force = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    errors = models.JSONField(default=list, blank=True)
    errors_total = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"OneRoster import {self.pk} ({self.status})"


# --- LTI 1.3 (Kafaat is the tool; a university's LMS is the platform) -----------------------


class LtiToolKey(models.Model):
    """One of the tool's RSA key pairs. The newest active key signs (deep-linking responses, the
    client assertions of AGS and NRPS token requests); every active key is published in the key
    set (/lti/jwks.json), so a platform that cached the previous set still verifies until the old
    key is retired (manage.py lti_rotate_key)."""

    kid = models.CharField(max_length=64, unique=True)
    private_pem = models.TextField()
    public_pem = models.TextField()
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.kid


class LtiPlatform(models.Model):
    """A university's LMS registered with us (issuer + client id). It belongs to one university:
    its launches arrive at its own URLs (/lti/<uuid>/login/, /lti/<uuid>/launch/), create and
    match that university's learners only, and only its origins may frame our pages."""

    uuid = models.UUIDField(unique=True, editable=False)
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="lti_platforms", verbose_name=_("organization")
    )
    name = models.CharField(_("name"), max_length=200)
    issuer = models.CharField(_("issuer"), max_length=255)
    client_id = models.CharField(_("client id"), max_length=255)
    auth_login_url = models.URLField(_("authentication request URL"), max_length=500)
    auth_token_url = models.URLField(_("access token URL"), max_length=500)
    key_set_url = models.URLField(_("public key set URL"), max_length=500)
    auth_audience = models.CharField(_("token audience"), max_length=255, blank=True)
    match_by_email = models.BooleanField(
        _("match learners by e-mail"),
        default=False,
        help_text=_(
            "A first launch may find this university's learner by the e-mail address the LMS gives. "
            "Only if the LMS checks its users' addresses."
        ),
    )
    frame_origins = models.JSONField(_("origins allowed to frame Kafaat"), default=list, blank=True)
    # Staff's word: in these courses (and only these) the LMS's instructors become instructors.
    instructor_courses = models.ManyToManyField(
        "courses.Course",
        blank=True,
        related_name="+",
        verbose_name=_("courses its instructors teach"),
        help_text=_("A launch with an LMS teaching role makes its person an instructor of these courses only."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    registered_by = models.CharField(max_length=16, default="manual")  # manual | dynamic
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("LTI platform")
        verbose_name_plural = _("LTI platforms")
        # A platform prepared (its URLs given to the LMS) but not completed has no client id yet.
        constraints = [
            models.UniqueConstraint(
                fields=["issuer", "client_id"], condition=~models.Q(client_id=""), name="lti_platform_issuer_client"
            )
        ]
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class LtiDeployment(models.Model):
    platform = models.ForeignKey(LtiPlatform, on_delete=models.CASCADE, related_name="deployments")
    deployment_id = models.CharField(_("deployment id"), max_length=255)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["platform", "deployment_id"], name="lti_deployment_platform_id")]

    def __str__(self) -> str:
        return self.deployment_id


class LtiRegistrationInvite(models.Model):
    """A one-time Dynamic Registration URL a university admin hands to their LMS admin: the
    platform that opens it is registered for this university. Expires; used once."""

    token_hash = models.CharField(max_length=64, unique=True)
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    platform = models.ForeignKey(LtiPlatform, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    def __str__(self) -> str:
        return f"LTI registration link {self.pk}"


class LtiIdentity(models.Model):
    """Who a platform's `sub` is here. Unique per platform (an issuer's subjects are its own)."""

    platform = models.ForeignKey(LtiPlatform, on_delete=models.CASCADE, related_name="identities")
    sub = models.CharField(max_length=255)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lti_identities")
    created_at = models.DateTimeField(auto_now_add=True)
    last_launch_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["platform", "sub"], name="lti_identity_platform_sub")]

    def __str__(self) -> str:
        return f"{self.platform_id}:{self.sub}"


class LtiNonce(models.Model):
    """A launch's nonce, kept until its id_token has expired: the same nonce twice is a replay."""

    platform = models.ForeignKey(LtiPlatform, on_delete=models.CASCADE, related_name="+")
    nonce = models.CharField(max_length=255)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["platform", "nonce"], name="lti_nonce_once")]

    def __str__(self) -> str:
        return self.nonce


class LtiContext(models.Model):
    """An LMS course (context) that launched one of our courses: where its roster (NRPS) is read."""

    platform = models.ForeignKey(LtiPlatform, on_delete=models.CASCADE, related_name="contexts")
    deployment_id = models.CharField(max_length=255)
    context_id = models.CharField(max_length=255)
    title = models.CharField(max_length=500, blank=True)
    course = models.ForeignKey("courses.Course", on_delete=models.CASCADE, related_name="+")
    memberships_url = models.URLField(max_length=500, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "deployment_id", "context_id", "course"], name="lti_context_course"
            )
        ]

    def __str__(self) -> str:
        return self.title or self.context_id


class LtiGradeLink(models.Model):
    """Where a learner's grade on an assignment goes back: the line item of the resource link they
    launched it from (AGS), with the scopes the platform granted."""

    platform = models.ForeignKey(LtiPlatform, on_delete=models.CASCADE, related_name="grade_links")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    sub = models.CharField(max_length=255)
    assignment = models.ForeignKey("courses.Assignment", on_delete=models.CASCADE, related_name="+")
    lineitem_url = models.URLField(max_length=500)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "user", "assignment", "lineitem_url"], name="lti_grade_link_once"
            )
        ]

    def __str__(self) -> str:
        return self.lineitem_url


class LtiScoreDelivery(models.Model):
    """One grade (an outbox `submission.graded` event) on its way to one line item. Unique per
    (link, event): a grade is sent once. A link's deliveries go in event order: a later one waits
    while an earlier one is pending or being sent."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        DELIVERED = "delivered", _("Delivered")
        SKIPPED = "skipped", _("Not sent: a later attempt is the grade")
        DEAD = "dead", _("Given up")

    link = models.ForeignKey(LtiGradeLink, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey("kernel.OutboxEvent", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["link", "event"], name="lti_score_once")]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="lti_score_due")]

    def __str__(self) -> str:
        return f"score {self.event_id} -> {self.link_id} ({self.status})"

"""Certificates: a learner's completion of a course or a whole path, in two forms (a page/PDF for
people, a signed Open Badges 3.0 credential for machines), and the issuer's signing keys."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class IssuerKey(models.Model):
    """An Ed25519 key of the platform as issuer. Exactly one is active and signs new credentials;
    retired keys stay published so that what they signed still verifies (rotation)."""

    kid = models.SlugField(_("key id"), max_length=64, unique=True)
    # Raw 32-byte Ed25519 seed. Only the signing service reads it.
    private_key = models.BinaryField(editable=False)
    public_key_multibase = models.CharField(_("public key (multibase)"), max_length=128)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(_("retired"), null=True, blank=True)

    class Meta:
        verbose_name = _("issuer key")
        verbose_name_plural = _("issuer keys")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(is_active=True), name="certificates_one_active_key"
            )
        ]

    def __str__(self) -> str:
        return self.kid


class Certificate(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="certificates")
    course = models.ForeignKey(
        "courses.Course", null=True, blank=True, on_delete=models.PROTECT, related_name="certificates"
    )
    path = models.ForeignKey(
        "courses.LearningPath", null=True, blank=True, on_delete=models.PROTECT, related_name="certificates"
    )
    # Snapshots: what the certificate says stays as it was issued, whatever is renamed later.
    learner_name = models.CharField(_("learner"), max_length=200)
    achievement_name = models.CharField(_("achievement"), max_length=200)
    issued_at = models.DateTimeField(_("issued"))
    credential = models.JSONField(_("signed credential"))
    key = models.ForeignKey(IssuerKey, on_delete=models.PROTECT, related_name="certificates")
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_reason = models.TextField(_("reason for revocation"), blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        ordering = ["-issued_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(course__isnull=False, path__isnull=True) | Q(course__isnull=True, path__isnull=False),
                name="certificates_course_xor_path",
            ),
            models.UniqueConstraint(
                fields=["user", "course"], condition=Q(course__isnull=False), name="certificates_one_per_course"
            ),
            models.UniqueConstraint(
                fields=["user", "path"], condition=Q(path__isnull=False), name="certificates_one_per_path"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.achievement_name} — {self.learner_name}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

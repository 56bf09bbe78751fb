"""Certificates: issuing them when a course or a whole path is completed, signing them as Open
Badges 3.0 credentials with the platform's Ed25519 key, rotating that key, and revoking them.
Issuing is idempotent (one certificate per learner and course or path, by constraint)."""

import hashlib
import logging
import secrets

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.privilege import is_platform_staff
from courses.models import Course, Enrollment, LearningPath, PathCourse, PublicationStatus
from courses.selectors import completed_course_ids
from kernel.errors import ApplicationError, PermissionDenied
from kernel.events import announce
from kernel.sites import absolute_url
from kernel.tasks import enqueue_on_commit

from . import signing
from .models import Certificate, IssuerKey

log = logging.getLogger(__name__)
ISSUER_NAME = "Kafaat"


def issuer_url() -> str:
    return absolute_url(reverse("certificates:issuer"))


def key_url(key: IssuerKey) -> str:
    return absolute_url(reverse("certificates:issuer-key", args=[key.kid]))


def verify_url(certificate_id) -> str:
    return absolute_url(reverse("certificates:verify", args=[certificate_id]))


def _new_key() -> IssuerKey:
    private = Ed25519PrivateKey.generate()
    return IssuerKey(
        kid=f"key-{timezone.now():%Y%m%d}-{secrets.token_hex(4)}",
        private_key=private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()),
        public_key_multibase=signing.public_key_multibase(private.public_key()),
    )


def issuer_key_active() -> IssuerKey:
    """The key that signs new credentials; the first call creates one."""
    key = IssuerKey.objects.filter(is_active=True).first()
    if key is not None:
        return key
    try:
        with transaction.atomic():
            key = _new_key()
            key.save()
            return key
    except IntegrityError:  # another process created it first
        return IssuerKey.objects.get(is_active=True)


@transaction.atomic
def issuer_key_rotate() -> IssuerKey:
    """Retire the active key (it stays published, so what it signed still verifies) and make a new one."""
    IssuerKey.objects.select_for_update().filter(is_active=True).update(is_active=False, retired_at=timezone.now())
    key = _new_key()
    key.save()
    return key


def _learner_identity(user) -> dict:
    """A salted hash of the learner's e-mail: an employer who knows it can match it; nobody else
    reads it off the credential."""
    salt = secrets.token_hex(8)
    digest = hashlib.sha256((user.email.lower() + salt).encode()).hexdigest()
    return {
        "type": "IdentityObject",
        "identityHash": f"sha256${digest}",
        "identityType": "emailAddress",
        "hashed": True,
        "salt": salt,
    }


def _credential(*, certificate: Certificate, user, achievement: dict) -> dict:
    return {
        "@context": [signing.VC_V2, signing.OB_V3],
        "id": f"urn:uuid:{certificate.id}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": issuer_url(), "type": ["Profile"], "name": ISSUER_NAME, "url": absolute_url("/")},
        "validFrom": certificate.issued_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "name": certificate.achievement_name,
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "name": certificate.learner_name,
            "identifier": [_learner_identity(user)],
            "achievement": achievement,
        },
    }


def _achievement(*, course: Course | None, path: LearningPath | None) -> dict:
    if course is not None:
        return {
            "id": absolute_url(reverse("courses:detail", args=[course.code])),
            "type": ["Achievement"],
            "achievementType": "Course",
            "name": course.title,
            "description": course.summary or course.title,
            "criteria": {"narrative": "Pass every required assignment of the course."},
            "inLanguage": course.language,
        }
    return {
        "id": absolute_url(reverse("courses:catalogue")) + f"#path-{path.code}",
        "type": ["Achievement"],
        "achievementType": "Certificate",
        "name": path.title,
        "description": path.summary or path.title,
        "criteria": {"narrative": "Complete every course of the learning path."},
    }


def _sign(credential: dict, key: IssuerKey) -> dict:
    private = Ed25519PrivateKey.from_private_bytes(bytes(key.private_key))
    return signing.sign(
        credential, private_key=private, verification_method=key_url(key), created=credential["validFrom"]
    )


def certificate_issue(*, user_id: int, course_id: int | None = None, path_id: int | None = None) -> Certificate:
    """Issue (once) the certificate of a completed course or path, sign it, and notify the learner.
    Returns the existing certificate when there is one. Refuses what is not complete."""
    if (course_id is None) == (path_id is None):
        raise ApplicationError("Name exactly one of a course or a path.")
    user = get_user_model().objects.get(pk=user_id)
    existing = Certificate.objects.filter(user_id=user_id, course_id=course_id, path_id=path_id).first()
    if existing is not None:
        return existing
    done = completed_course_ids(user=user)
    if course_id is not None:
        course, path = Course.objects.get(pk=course_id), None
        if course_id not in done:
            raise ApplicationError(_("This course is not complete yet."))
        name = course.title
    else:
        course, path = None, LearningPath.objects.get(pk=path_id)
        needed = set(PathCourse.objects.filter(path=path).values_list("course_id", flat=True))
        if not needed or not needed <= done:
            raise ApplicationError(_("This learning path is not complete yet."))
        name = path.title
    key = issuer_key_active()
    certificate = Certificate(
        user=user,
        course=course,
        path=path,
        learner_name=user.get_full_name(),
        achievement_name=name,
        issued_at=timezone.now().replace(microsecond=0),
        key=key,
    )
    certificate.credential = _sign(_credential(certificate=certificate, user=user, achievement=_achievement(
        course=course, path=path)), key)  # fmt: skip
    try:
        with transaction.atomic():
            certificate.save(force_insert=True)
            # Learning tells the learner.
            announce("certificate.issued", certificate=certificate, user=user, name=name)
    except IntegrityError:  # issued concurrently by another worker: one certificate, not two
        return Certificate.objects.get(user_id=user_id, course_id=course_id, path_id=path_id)
    return certificate


def certificates_issue_for_course(*, user_id: int, course_id: int) -> list[Certificate]:
    """After a course is completed: its certificate, then the certificate of every published path
    that this completion finishes."""
    issued = [certificate_issue(user_id=user_id, course_id=course_id)]
    done = completed_course_ids(user=get_user_model().objects.get(pk=user_id))
    steps: dict[int, set[int]] = {}
    path_ids = PathCourse.objects.filter(course_id=course_id, path__status=PublicationStatus.PUBLISHED).values(
        "path_id"
    )
    for path_id, cid in PathCourse.objects.filter(path_id__in=path_ids).values_list("path_id", "course_id"):
        steps.setdefault(path_id, set()).add(cid)
    for path_id, course_ids in sorted(steps.items()):
        if course_ids <= done:
            issued.append(certificate_issue(user_id=user_id, path_id=path_id))
    return issued


def certificate_issue_on_commit(*, user_id: int, course_id: int) -> None:
    """Enqueue certificate issuing after the current transaction commits (on `course.completed`,
    see certificates.handlers). A broker that is down is logged; the sweep issues it later."""
    from . import tasks  # certificates.tasks imports these services

    enqueue_on_commit(tasks.issue, user_id=user_id, course_id=course_id)


def certificates_sweep_missing() -> int:
    """Issue the certificates of completed courses that have none (a message lost while the broker
    was down). Returns how many completions it handled."""
    has_certificate = Certificate.objects.filter(user_id=OuterRef("user_id"), course_id=OuterRef("course_id"))
    missing = list(
        Enrollment.objects.filter(completed_at__isnull=False)
        .exclude(Exists(has_certificate))
        .values_list("user_id", "course_id")
        .order_by("pk")[:500]
    )
    for user_id, course_id in missing:
        certificates_issue_for_course(user_id=user_id, course_id=course_id)
    return len(missing)


@transaction.atomic
def certificate_revoke(*, certificate: Certificate, by, reason: str) -> Certificate:
    """Revoke a certificate (staff only), with a reason shown on the public verification page."""
    if by is None or not is_platform_staff(by):
        raise PermissionDenied(_("Only staff may revoke a certificate."))
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(_("Give the reason for revoking this certificate."), field="reason")
    certificate = Certificate.objects.select_for_update().get(pk=certificate.pk)
    if certificate.revoked_at is None:
        certificate.revoked_at = timezone.now()
        certificate.revoked_reason = reason[:2000]
        certificate.revoked_by = by
        certificate.save(update_fields=["revoked_at", "revoked_reason", "revoked_by"])
    return certificate

"""Privilege by role, not by path: a session of a privileged user (staff, instructors, university
admins) that has not passed two-factor gets no privileged permission anywhere. It is a learner's
session until verified: on the gated prefixes it is sent to verify; elsewhere it gets what a
learner gets (its own things; 404 for anyone else's)."""

import ast
from pathlib import Path

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from accounts import services as account_services
from accounts.models import AuditEntry
from certificates.models import Certificate
from certificates.services import certificate_issue
from courses.models import Enrollment
from grading.models import Submission
from tests.factories import CourseFactory, OrganizationFactory, UserFactory, enroll, make_quiz
from tests.processes import ROOT
from tests.twofactor import login_with_2fa, login_with_password_only

pytestmark = pytest.mark.django_db


@pytest.fixture
def course_world():
    course = CourseFactory()
    quiz = make_quiz(course=course)
    instructor, learner = UserFactory(), UserFactory(full_name="Salma Idrissi")
    course.instructors.add(instructor)
    enroll(learner, course)
    submission = Submission.objects.create(
        user=learner, assignment=quiz, version=quiz.current_version, attempt=1, answer={"q1": ["a"]},
        status="failed", staff_log="Traceback: grader blew up at /srv/kafaat/secret.py",
    )  # fmt: skip
    return {"course": course, "quiz": quiz, "instructor": instructor, "learner": learner, "submission": submission}


def _certificate():
    learner = UserFactory(full_name="Yassine Tazi")
    course = CourseFactory()
    Enrollment.objects.create(user=learner, course=course, completed_at=timezone.now())
    return certificate_issue(user_id=learner.pk, course_id=course.pk)


def test_an_instructor_with_a_password_alone_does_not_read_a_learners_submission(course_world):
    sub = course_world["submission"]
    client = Client()
    login_with_password_only(client, course_world["instructor"])

    for name in ("grading:submission", "grading:submission-status"):
        response = client.get(reverse(name, args=[sub.pk]))
        assert response.status_code == 404, name
        assert b"secret.py" not in response.content
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.SUBMISSION_VIEW).exists()

    # The same instructor, verified, reads it (and is audited).
    verified = Client()
    login_with_2fa(verified, course_world["instructor"])
    page = verified.get(reverse("grading:submission", args=[sub.pk]))
    assert page.status_code == 200 and b"secret.py" in page.content


def test_an_instructor_with_a_password_alone_cannot_retry_or_regrade(course_world):
    sub = course_world["submission"]
    client = Client()
    login_with_password_only(client, course_world["instructor"])
    assert client.post(reverse("grading:submission-retry", args=[sub.pk])).status_code in {302, 404}
    sub.refresh_from_db()
    assert sub.status == "failed"


def test_staff_with_a_password_alone_do_not_open_someone_elses_certificate():
    certificate = _certificate()
    staff = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    login_with_password_only(client, staff)

    for name in ("certificates:detail", "certificates:pdf", "certificates:credential"):
        response = client.get(reverse(name, args=[certificate.id]))
        assert response.status_code == 404, name
    assert b"Yassine Tazi" not in client.get(reverse("certificates:detail", args=[certificate.id])).content


def test_staff_with_a_password_alone_cannot_revoke_a_certificate_and_verify_still_says_valid():
    certificate = _certificate()
    staff = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    login_with_password_only(client, staff)

    response = client.post(reverse("certificates:revoke", args=[certificate.id]), {"reason": "fraud"})
    assert response.status_code == 404
    certificate.refresh_from_db()
    assert certificate.revoked_at is None and certificate.revoked_reason == ""
    page = Client().get(reverse("certificates:verify", args=[certificate.id]), HTTP_ACCEPT_LANGUAGE="fr")
    assert page.context["status"] == "valid"

    # Verified, the same staff member revokes it.
    verified = Client()
    login_with_2fa(verified, staff)
    assert verified.post(reverse("certificates:revoke", args=[certificate.id]), {"reason": "fraud"}).status_code == 302
    certificate.refresh_from_db()
    assert certificate.revoked_at is not None
    assert Certificate.objects.get(pk=certificate.pk).revoked_reason == "fraud"


@override_settings(KAFAAT_2FA_REQUIRED_PATHS=[])
def test_without_any_gated_path_an_unverified_session_still_gets_no_privilege(course_world):
    """The rule is the role's, not the path's: switch the path gate off and nothing opens."""
    staff = UserFactory(is_staff=True, is_superuser=True)
    admin = UserFactory()
    account_services.membership_grant(user=admin, organization=OrganizationFactory())
    course, quiz = course_world["course"], course_world["quiz"]

    staff_client, instructor_client, admin_client = Client(), Client(), Client()
    login_with_password_only(staff_client, staff)
    login_with_password_only(instructor_client, course_world["instructor"])
    login_with_password_only(admin_client, admin)

    # Django's admin: its own has_permission says no (it sends to its login page).
    response = staff_client.get("/admin/")
    assert response.status_code == 302 and response.url.startswith("/admin/login/")
    # Authoring, gradebooks, analytics, the review queue: what a learner gets.
    assert instructor_client.get(reverse("courses:author-outline", args=[course.code])).status_code == 403
    assert staff_client.get(reverse("courses:author-outline", args=[course.code])).status_code == 403
    assert instructor_client.get(reverse("analytics:gradebook", args=[course.code])).status_code == 403
    assert admin_client.get(reverse("analytics:gradebook", args=[course.code])).status_code == 403
    assert instructor_client.get(reverse("analytics:assignment", args=[course.code, quiz.pk])).status_code == 403
    index = instructor_client.get(reverse("analytics:index"))
    assert index.status_code == 200 and course.code not in index.content.decode()
    essay_queue = staff_client.get(reverse("grading:review-queue"))
    assert essay_queue.status_code == 200 and list(essay_queue.context["submissions"]) == []
    # A draft course's outline is its authors' only.
    course.status = "draft"
    course.save(update_fields=["status"])
    assert instructor_client.get(reverse("courses:detail", args=[course.code])).status_code == 404


def test_the_account_page_tells_an_unverified_privileged_user_to_verify_this_session():
    admin = UserFactory()
    account_services.membership_grant(user=admin, organization=OrganizationFactory())
    client = Client()
    login_with_password_only(client, admin)
    page = client.get(reverse("accounts:me"), HTTP_ACCEPT_LANGUAGE="en")
    assert reverse("accounts:otp-verify") in page.content.decode()
    assert reverse("accounts:organization") not in page.content.decode()

    login_with_2fa(client, admin)
    page = client.get(reverse("accounts:me"), HTTP_ACCEPT_LANGUAGE="en")
    assert reverse("accounts:organization") in page.content.decode()


def test_a_privileged_role_read_on_the_users_row_is_never_saved_as_its_unprivileged_face(course_world):
    """The unverified face of a staff user says is_staff=False; saving the request's user (the
    language switch does) must not write that to the database."""
    staff = UserFactory(is_staff=True, is_superuser=True, preferred_language="fr")
    client = Client()
    login_with_password_only(client, staff)
    client.post(reverse("set_language"), {"language": "ar", "next": "/"})
    staff.refresh_from_db()
    assert staff.is_staff and staff.is_superuser


# Where a privileged attribute of a user may be read: the permission modules, which apply the
# two-factor rule. Anywhere else a new `user.is_staff` check would bypass it.
PERMISSION_MODULES = {
    "accounts/privilege.py",
    "courses/permissions.py",
}
PRIVILEGED_ATTRIBUTES = {"is_staff", "is_superuser"}
APPS = ("accounts", "analytics", "certificates", "courses", "grading", "integrations", "learning", "platform")


def _privileged_reads(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(), filename=str(path))
    lines = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr in PRIVILEGED_ATTRIBUTES and isinstance(node.ctx, ast.Load)
    ]
    lines += [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "getattr"
        and any(isinstance(a, ast.Constant) and a.value in PRIVILEGED_ATTRIBUTES for a in node.args)
    ]
    return sorted(lines)


def test_no_module_outside_the_permission_modules_reads_is_staff_or_is_superuser():
    offenders = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if "/migrations/" in rel or rel in PERMISSION_MODULES:
                continue
            offenders += [f"{rel}:{line}" for line in _privileged_reads(path)]
    assert not offenders, (
        "read staff status through accounts.privilege (is_platform_staff) or courses.permissions, "
        f"which apply the two-factor rule: {offenders}"
    )


def test_the_privileged_read_finder_finds_what_it_looks_for(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("def f(user):\n    return user.is_staff or getattr(user, 'is_superuser', False)\n")
    assert _privileged_reads(sample) == [2, 2]


def test_a_superuser_without_staff_status_must_verify_too_but_a_plain_course_creator_need_not():
    from django.contrib.auth.models import Permission

    superuser = UserFactory(is_superuser=True)
    creator = UserFactory()
    creator.user_permissions.add(Permission.objects.get(codename="add_course", content_type__app_label="courses"))
    for user, expected in ((superuser, 302), (creator, 200)):
        client = Client()
        login_with_password_only(client, user)
        response = client.get(reverse("courses:author-home"))
        assert response.status_code == expected, user
        if expected == 302:
            assert response.url.startswith(reverse("accounts:otp-verify"))
    # The creator's first course makes them an instructor: from then on, two-factor.
    client = Client()
    login_with_password_only(client, creator)
    created = client.post(reverse("courses:author-course-new"), {"code": "first", "title": "First", "language": "en"})
    assert created.status_code == 302
    assert client.get(created["Location"]).url.startswith(reverse("accounts:otp-verify"))

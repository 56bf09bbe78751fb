"""Reads of another person's data leave an audit entry the person sees on their privacy page
(issue 12): whatever the page, the role or the `HX-Request` header, and deduplicated so a status
poll does not write one entry a second.

The last two tests walk every page of the project (and every admin page) as every role: a page
that shows the learner's name, address or essay to someone else must have recorded it, so a new
page cannot forget."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEntry, Consent
from analytics import services as analytics_services
from analytics.models import ExportJob
from grading.models import Submission
from tests.analytics.helpers import course_with_instructor, learner, make_assignment, org_admin, submit
from tests.factories import OrganizationFactory, UserFactory, enroll
from tests.grading.helpers import ESSAY_SPEC
from tests.grading.helpers import make_assignment as make_graded_assignment
from tests.twofactor import login_with_2fa

from .url_matrix import ROLES
from .urlwalk import iter_urls, rule_for, url_for

pytestmark = pytest.mark.django_db
User = get_user_model()
HX = {"HTTP_HX_REQUEST": "true"}


def _entries(reader, subject, action=None):
    qs = AuditEntry.objects.filter(actor=reader, subject_user=subject)
    return qs.filter(action=action) if action else qs


@pytest.fixture
def essay_world():
    essay = make_graded_assignment("essay", ESSAY_SPEC)
    owner = UserFactory(full_name="Salma Essayiste")
    enroll(owner, essay.course)
    submission = Submission.objects.create(
        user=owner, assignment=essay, version=essay.current_version, attempt=1,
        answer={"text": "Mon essai très personnel"}, status="needs_review", max_score=Decimal("10"),
    )  # fmt: skip
    teacher = UserFactory(full_name="Prof Lecteur")
    essay.course.instructors.add(teacher)
    return submission, owner, teacher


# --- The reads the issue lists ------------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
@pytest.mark.parametrize("page", ["grading:submission", "grading:submission-status", "grading:review"])
def test_course_staff_reading_a_submission_is_audited_whatever_the_header(client, essay_world, page, headers):
    submission, owner, teacher = essay_world
    login_with_2fa(client, teacher)
    response = client.get(reverse(page, args=[submission.pk]), **headers)
    assert response.status_code in (200, 286)  # 286: the status poll's final answer (stop polling)
    (entry,) = _entries(teacher, owner)
    assert (entry.action, entry.object_type, entry.object_id) == ("submission.view", "grading.submission",
                                                                  str(submission.pk))  # fmt: skip
    assert entry.actor_label == "Prof Lecteur"


@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
def test_a_learner_reading_their_own_submission_is_not_audited(client, essay_world, headers):
    submission, owner, _teacher = essay_world
    client.force_login(owner)
    for page in ("grading:submission", "grading:submission-status"):
        assert client.get(reverse(page, args=[submission.pk]), **headers).status_code in (200, 286)
    assert not AuditEntry.objects.exists()


def test_a_status_poll_writes_one_entry_per_reader_and_submission_per_window(
    client, essay_world, monkeypatch, settings
):
    submission, owner, teacher = essay_world
    login_with_2fa(client, teacher)
    url = reverse("grading:submission-status", args=[submission.pk])
    for _ in range(5):
        client.get(url, **HX)
    client.get(reverse("grading:submission", args=[submission.pk]))
    assert _entries(teacher, owner).count() == 1

    other = UserFactory(is_staff=True)  # another reader: their own entry
    other_client = Client()
    login_with_2fa(other_client, other)
    other_client.get(url, **HX)
    assert _entries(other, owner).count() == 1

    later = timezone.now() + timedelta(seconds=settings.KAFAAT_AUDIT_DEDUPE_SECONDS + 60)
    monkeypatch.setattr(timezone, "now", lambda: later)  # the clock: past the window
    client.get(url, **HX)
    assert _entries(teacher, owner).count() == 2


def test_staff_opening_a_submission_in_the_admin_is_audited(client, essay_world):
    submission, owner, _teacher = essay_world
    staff = UserFactory(is_staff=True, is_superuser=True)
    login_with_2fa(client, staff)
    response = client.get(reverse("admin:grading_submission_change", args=[submission.pk]))
    assert response.status_code == 200 and "Mon essai très personnel" in response.content.decode()
    assert _entries(staff, owner, "submission.view").count() == 1


def test_the_admins_other_views_of_people_are_audited_too(client, essay_world):
    """Beyond change pages and lists: the confirmation of an action on selected rows (delete
    selected lists each record and what goes with it) and the autocomplete search that any
    foreign key to a user offers (its JSON names the people found)."""
    submission, owner, _teacher = essay_world
    staff = UserFactory(is_staff=True, is_superuser=True)
    login_with_2fa(client, staff)
    confirm = client.post(
        reverse("admin:accounts_user_changelist"), {"action": "delete_selected", "_selected_action": [owner.pk]}
    )
    assert confirm.status_code == 200 and "Salma Essayiste" in confirm.content.decode()
    assert _entries(staff, owner, "list.view").count() == 1

    AuditEntry.objects.all().delete()
    found = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "accounts", "model_name": "organizationmembership", "field_name": "user", "term": "Salma"},
    )
    assert found.status_code == 200 and found.json()["results"] == [{"id": str(owner.pk), "text": "Salma Essayiste"}]
    assert _entries(staff, owner, "list.view").count() == 1

    for bad in ({"app_label": "nope"}, {"app_label": "accounts", "model_name": "user", "field_name": "nope"}):
        assert client.get(reverse("admin:autocomplete"), bad).status_code in (403, 404)


def _university_gradebook():
    uni, other_uni = OrganizationFactory(), OrganizationFactory()
    course, teacher = course_with_instructor()
    quiz = make_assignment(course, title="Lab")
    ours = [learner(course, org=uni, full_name=f"Ours {i}") for i in range(3)]
    theirs = learner(course, org=other_uni, full_name="Not ours")
    for u in [*ours, theirs]:
        submit(u, quiz, score=50)
    return course, teacher, org_admin(uni), ours, theirs


def test_a_university_admins_gradebook_is_audited_per_learner_shown_in_one_insert(client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    course, _teacher, reader, ours, theirs = _university_gradebook()
    login_with_2fa(client, reader)
    response = client.get(reverse("analytics:gradebook", args=[course.code]))
    assert response.status_code == 200 and "Ours 0" in response.content.decode()
    assert "Not ours" not in response.content.decode()
    assert {e.subject_user_id for e in AuditEntry.objects.filter(actor=reader, action="grades.view")} == {
        u.pk for u in ours
    }
    assert not AuditEntry.objects.filter(subject_user=theirs).exists()
    with CaptureQueriesContext(connection) as ctx:
        client.get(reverse("analytics:gradebook", args=[course.code]), {"page": "1"})
    inserts = [q for q in ctx.captured_queries if 'INSERT INTO "accounts_auditentry"' in q["sql"]]
    assert len(inserts) == 1  # bulk, whatever the number of learners shown


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_university_admins_gradebook_export_is_audited_per_learner_exported(client, fmt):
    course, _teacher, reader, ours, theirs = _university_gradebook()
    login_with_2fa(client, reader)
    response = client.get(reverse("analytics:export", args=[course.code, fmt]))
    assert response.status_code == 200
    b"".join(response.streaming_content)  # the export is read as it is sent
    exported = AuditEntry.objects.filter(actor=reader, action="grades.export")
    assert {e.subject_user_id for e in exported} == {u.pk for u in ours}
    assert {(e.object_type, e.object_id) for e in exported} == {("courses.course", str(course.pk))}
    assert not AuditEntry.objects.filter(subject_user=theirs).exists()


def test_a_prepared_gradebook_export_is_audited_for_who_asked(settings, tmp_path):
    settings.ANALYTICS_EXPORT_DIR = str(tmp_path)
    course, _teacher, reader, ours, _theirs = _university_gradebook()
    job = ExportJob.objects.create(course=course, requested_by=reader, format="csv")
    analytics_services.export_job_run(job_id=job.pk)
    exported = AuditEntry.objects.filter(actor=reader, action="grades.export")
    assert {e.subject_user_id for e in exported} == {u.pk for u in ours}


def test_the_learner_sees_who_read_their_work_on_the_privacy_page(client, essay_world):
    submission, owner, teacher = essay_world
    login_with_2fa(client, teacher)
    client.get(reverse("grading:review", args=[submission.pk]))
    client.force_login(owner)
    page = client.get(reverse("accounts:privacy")).content.decode()
    assert "Prof Lecteur" in page and "Viewed a submission" in page


# --- Every page, every role ---------------------------------------------------------------------

MARKERS = ("Zineb Marqueur", "zineb.marqueur@example.org", "MARQUEUR-ESSAI")
# Pages that show a learner to anyone by design, logged in or not: not a read to audit.
PUBLIC_BY_DESIGN = {"certificates:verify"}  # the holder hands this link to employers


def _shows_the_learner(response) -> bool:
    if response.status_code != 200:
        return False
    content = b"".join(response.streaming_content) if response.streaming else response.content
    text = content.decode("utf-8", errors="replace")
    return any(m in text for m in MARKERS)


def _mark(w):
    learner_user = w.users["learner"]
    User.objects.filter(pk=learner_user.pk).update(full_name=MARKERS[0], email=MARKERS[1])
    learner_user.refresh_from_db()
    Submission.objects.filter(pk=w.essay_submission.pk).update(answer={"text": MARKERS[2]})
    # Graded submissions have a score (the world's is bare: the export would add None to it).
    Submission.objects.filter(pk=w.submission.pk).update(score=Decimal("1"), max_score=Decimal("2"))
    Consent.objects.create(user=learner_user, notice_version=1, language="fr")
    return learner_user


def _verified_clients(world) -> dict:
    clients = {}
    for role in ROLES[1:]:
        clients[role] = Client()
        login_with_2fa(clients[role], world.users[role])
    return clients


def test_every_page_that_shows_a_learner_to_someone_else_audits_it(url_world):
    world = url_world
    subject = _mark(world)
    clients = _verified_clients(world)
    shown, missing = [], []
    for name, pattern in iter_urls():
        rule = rule_for(name)
        if name.split(":")[0] in {"admin", "api_v1"} or name in PUBLIC_BY_DESIGN:
            continue  # the admin: next test; the API: bearer tokens only
        url = url_for(name, pattern, rule, world)
        if url is None:
            continue
        for role in ROLES[1:]:
            for headers in ({}, HX):
                AuditEntry.objects.all().delete()
                response = clients[role].get(url, HTTP_ACCEPT_LANGUAGE="en", **headers)
                reader = world.users[role]
                if role == "learner":
                    if AuditEntry.objects.filter(subject_user=subject).exists():
                        missing.append(f"{name} as the learner themself: audited")
                    continue
                if _shows_the_learner(response):
                    shown.append(name)
                    if not _entries(reader, subject).exists():
                        missing.append(f"{name} {url} as {role} {'(htmx)' if headers else ''}: no audit entry")
    assert not missing, "\n".join(missing)
    # The walk did meet the pages that show the learner (so it is not vacuous).
    assert {"grading:review-queue", "grading:review", "analytics:gradebook", "analytics:export",
            "accounts:organization", "certificates:detail"} <= set(shown)  # fmt: skip


def test_every_admin_page_that_shows_a_learner_audits_it(url_world):
    world = url_world
    subject = _mark(world)
    from .url_matrix import _certificate

    _certificate(world)
    staff = world.users["staff"]
    client = Client()
    login_with_2fa(client, staff)
    shown, missing = [], []
    for model in admin.site._registry:
        opts = model._meta
        urls = [reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")]
        if model is User:
            owned = [subject.pk]
        else:
            fks = [f.name for f in opts.fields if f.is_relation and f.related_model is User]
            owned = list(
                model.objects.filter(
                    pk__in=[o.pk for fk in fks for o in model.objects.filter(**{fk: subject})]
                ).values_list("pk", flat=True)
            )
        urls += [reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[pk]) for pk in owned]
        for url in urls:
            AuditEntry.objects.all().delete()
            response = client.get(url)
            if _shows_the_learner(response):
                shown.append(url)
                if not _entries(staff, subject).exists():
                    missing.append(f"{url}: shows the learner, no audit entry")
    assert not missing, "\n".join(missing)
    assert reverse("admin:grading_submission_change", args=[world.submission.pk]) in shown
    assert reverse("admin:accounts_user_change", args=[subject.pk]) in shown
    assert len(shown) > 8


@pytest.mark.django_db(transaction=True)
def test_two_polls_at_once_write_one_entry():
    """Two requests record the same read in two open transactions at once: the unique constraint
    on the window keeps one entry (a check-then-insert would keep two)."""
    import threading

    from django.db import connection, transaction

    from accounts.services import audit_reads

    reader, subject = UserFactory(), UserFactory()
    inserted = threading.Barrier(2)
    errors = []

    def poll(first: bool):
        try:
            with transaction.atomic():
                if first:
                    audit_reads(actor=reader, action=AuditEntry.Action.SUBMISSION_VIEW, subjects=[subject])
                    inserted.wait(timeout=30)  # the first insert is made, not committed
                else:
                    inserted.wait(timeout=30)
                    # Waits on the first transaction's row, then finds the conflict.
                    audit_reads(actor=reader, action=AuditEntry.Action.SUBMISSION_VIEW, subjects=[subject])
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=poll, args=(i == 0,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert AuditEntry.objects.filter(actor=reader, subject_user=subject).count() == 1


@pytest.mark.parametrize("vendor", ["postgresql", "other"], ids=["one-statement", "bulk_create"])
def test_audit_reads_writes_one_entry_per_subject_and_slot_on_either_path(vendor, monkeypatch, settings):
    """PostgreSQL inserts from an array in one statement; other databases (the embedded SQLite)
    through bulk_create: the same rows either way."""
    from django.db import connection

    from accounts.services import audit_reads

    if vendor != "postgresql":
        monkeypatch.setattr(connection, "vendor", vendor)
    reader, obj_owner = UserFactory(full_name=""), UserFactory()
    subjects = [UserFactory() for _ in range(3)]
    for _ in range(2):
        audit_reads(
            actor=reader, action=AuditEntry.Action.GRADES_EXPORT, subjects=[*subjects, reader, None], obj=obj_owner
        )
    rows = AuditEntry.objects.filter(actor=reader).order_by("subject_user_id")
    assert [e.subject_user_id for e in rows] == sorted(u.pk for u in subjects)
    assert {(e.action, e.object_type, e.object_id, e.actor_label) for e in rows} == {
        ("grades.export", "accounts.user", str(obj_owner.pk), reader.email)
    }
    assert all(e.created_at is not None and e.dedupe_slot is not None for e in rows)
    settings.KAFAAT_AUDIT_DEDUPE_SECONDS = 0  # switched off: every read is an entry
    audit_reads(actor=reader, action=AuditEntry.Action.GRADES_EXPORT, subjects=subjects, obj=obj_owner)
    audit_reads(actor=reader, action=AuditEntry.Action.GRADES_EXPORT, subjects=subjects, obj=obj_owner)
    assert AuditEntry.objects.filter(actor=reader).count() == 3 + 6

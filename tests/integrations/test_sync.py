import pytest
from django.core import mail

from accounts.models import User
from courses.models import Enrollment
from integrations.models import AuditEntry, LearnerInvite
from integrations.services import invites
from kernel.models import OutboxEvent
from tests.factories import CourseFactory, UserFactory, enroll

from .conftest import row


@pytest.fixture(autouse=True, params=["copy", "bulk_create"])
def write_path(request, settings):
    """Every sync test runs on both write paths: COPY (PostgreSQL) and bulk_create (the
    embedded SQLite fallback)."""
    settings.INTEGRATIONS_SYNC_USE_COPY = request.param == "copy"
    return request.param


def sync(api, rows, **kw):
    return api.post("enrollments/sync", {"rows": rows, **kw})


def test_sync_creates_learners_and_enrollments_then_replay_is_a_no_op(api, org):
    c1, c2 = CourseFactory(), CourseFactory()
    rows = [row("s1", c1.code), row("s1", c2.code), row("s2", c1.code, status="completed-elsewhere")]

    first = sync(api, rows)
    assert first.status_code == 200, first.json()
    assert first.json()["counts"] == {"created": 3, "updated": 0, "unchanged": 0, "dropped": 0}
    assert first.json()["learners"] == {"created": 2, "updated": 0}
    s1 = User.objects.get(organization=org, external_id="s1")
    assert s1.email == "s1@univ.example.ma" and s1.full_name == "Amina Alaoui"
    assert not s1.is_active and not s1.has_usable_password()
    assert Enrollment.objects.get(user__external_id="s2").status == "completed-elsewhere"
    assert set(Enrollment.objects.filter(user=s1).values_list("source", flat=True)) == {"sync"}

    again = sync(api, rows)
    assert again.json()["counts"] == {"created": 0, "updated": 0, "unchanged": 3, "dropped": 0}
    assert User.objects.filter(organization=org).count() == 2
    assert OutboxEvent.objects.filter(event_type="enrollment.changed").count() == 3


def test_sync_updates_status_and_learner_details(api, org):
    course = CourseFactory()
    sync(api, [row("s1", course.code)])
    resp = sync(api, [row("s1", course.code, status="dropped", email="new@univ.example.ma", given="Nadia")])
    assert resp.json()["counts"]["updated"] == 1
    assert resp.json()["learners"]["updated"] == 1
    learner = User.objects.get(external_id="s1")
    assert learner.email == "new@univ.example.ma" and learner.full_name == "Nadia Alaoui"
    assert Enrollment.objects.get(user=learner).status == "dropped"
    event = OutboxEvent.objects.filter(event_type="enrollment.changed").last()
    assert event.payload["status"] == "dropped" and event.payload["previous_status"] == "active"


def test_sync_with_invalid_rows_names_each_row_and_field_and_writes_nothing(api, org):
    course = CourseFactory()
    rows = [
        row("s1", course.code),
        {"external_id": "s2", "email": "not-an-email", "course_code": course.code},
        row("s3", "no-such-course"),
        {"email": "x@y.ma", "course_code": course.code, "status": "paused"},
        "not an object",
        row("s1", course.code),
    ]
    resp = sync(api, rows)
    assert resp.status_code == 400
    body = resp.json()["error"]
    assert body["code"] == "invalid_rows"
    got = {(d["row"], d["field"], d["code"]) for d in body["details"]}
    assert got == {
        (1, "email", "invalid"),
        (2, "course_code", "unknown_course"),
        (3, "external_id", "required"),
        (3, "status", "invalid_choice"),
        (4, None, "invalid"),
        (5, "course_code", "duplicate"),
    }
    assert all(d["message"] for d in body["details"])
    assert not User.objects.filter(organization=org).exists()
    assert not Enrollment.objects.exists()
    assert not OutboxEvent.objects.exists()


def test_an_email_of_another_universitys_account_is_no_row_error_and_that_account_is_untouched(api, org, other_org):
    # Issue 12: refusing the row ("email_taken") told the university that the address has an
    # account, and failed its whole batch. tests/integrations/test_sync_accounts.py has the rest.
    course = CourseFactory()
    theirs = UserFactory(email="taken@univ.example.ma", organization=other_org, external_id="x9")
    resp = sync(api, [row("s1", course.code), row("s2", course.code, email="taken@univ.example.ma")])
    assert resp.status_code == 200, resp.json()
    assert resp.json()["learners"] == {"created": 2, "updated": 0}
    theirs.refresh_from_db()
    assert (theirs.organization, theirs.external_id) == (other_org, "x9")
    assert not Enrollment.objects.filter(user=theirs).exists()


def test_a_member_of_the_same_university_is_not_adopted_by_email(api, org):
    course = CourseFactory()
    member = UserFactory(email="member@univ.example.ma", organization=org)
    resp = sync(api, [row("m1", course.code, email="member@univ.example.ma")])
    assert resp.json()["learners"] == {"created": 1, "updated": 0}
    member.refresh_from_db()
    assert member.external_id is None and not Enrollment.objects.filter(user=member).exists()


def test_full_sync_drops_only_this_universitys_enrollments_in_the_named_courses(api, org, other_org):
    named, other_course = CourseFactory(), CourseFactory()
    rows = [row(f"s{i}", named.code) for i in range(10)] + [row("s0", other_course.code)]
    sync(api, rows)
    outsider = UserFactory(organization=other_org, external_id="s5")
    enroll(outsider, named)

    resp = sync(api, rows[1:10], mode="full")  # s0 left out of `named`; other_course not named
    assert resp.status_code == 200, resp.json()
    assert resp.json()["counts"] == {"created": 0, "updated": 0, "unchanged": 9, "dropped": 1}
    assert Enrollment.objects.get(user__external_id="s0", user__organization=org, course=named).status == "dropped"
    assert Enrollment.objects.get(user__external_id="s0", course=other_course).status == "active"
    assert Enrollment.objects.get(user=outsider).status == "active"
    assert Enrollment.objects.filter(status="dropped").count() == 1  # deactivated, never deleted
    assert Enrollment.objects.count() == 12


def test_full_sync_dry_run_reports_without_changing(api, org):
    course = CourseFactory()
    sync(api, [row(f"s{i}", course.code) for i in range(10)])
    before = list(Enrollment.objects.order_by("pk").values_list("pk", "status", "updated_at"))
    events = OutboxEvent.objects.count()
    resp = sync(api, [row("s1", course.code), row("new", course.code)], mode="full", dry_run=True, force=True)
    assert resp.status_code == 200
    assert resp.json()["dry_run"] is True
    assert resp.json()["counts"] == {"created": 1, "updated": 0, "unchanged": 1, "dropped": 9}
    assert resp.json()["learners"]["created"] == 1
    assert list(Enrollment.objects.order_by("pk").values_list("pk", "status", "updated_at")) == before
    assert not User.objects.filter(external_id="new").exists()
    assert OutboxEvent.objects.count() == events
    assert AuditEntry.objects.filter(action="enrollments.sync.dry_run").count() == 1


def test_full_sync_that_drops_too_much_is_refused_unless_forced(api, org, settings):
    settings.INTEGRATIONS_SYNC_MAX_DROP_SHARE = 0.2
    course = CourseFactory()
    sync(api, [row(f"s{i}", course.code) for i in range(10)])
    rows = [row(f"s{i}", course.code) for i in range(7)]  # would drop 3 of 10

    refused = sync(api, rows, mode="full")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "drop_threshold_exceeded"
    assert not Enrollment.objects.filter(status="dropped").exists()

    forced = sync(api, rows, mode="full", force=True)
    assert forced.status_code == 200
    assert forced.json()["counts"]["dropped"] == 3
    assert Enrollment.objects.filter(status="dropped").count() == 3


def test_idempotency_key_replays_the_first_answer_without_a_second_effect(api, org):
    course = CourseFactory()
    rows = [row("s1", course.code)]
    first = api.post("enrollments/sync", {"rows": rows}, headers={"idempotency-key": "k-1"})
    # Meanwhile someone drops the enrollment by hand: a replay must not re-activate it.
    Enrollment.objects.update(status="dropped")
    replay = api.post("enrollments/sync", {"rows": rows}, headers={"idempotency-key": "k-1"})
    assert replay.status_code == 200
    assert replay.json() == first.json()
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert Enrollment.objects.get().status == "dropped"
    assert AuditEntry.objects.filter(action="enrollments.sync").count() == 1

    other = api.post("enrollments/sync", {"rows": [row("s2", course.code)]}, headers={"idempotency-key": "k-1"})
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert not User.objects.filter(external_id="s2").exists()


def test_idempotency_keys_belong_to_one_client(api, other_api):
    course = CourseFactory()
    api.post("enrollments/sync", {"rows": [row("s1", course.code)]}, headers={"idempotency-key": "same"})
    rows = [row("s1", course.code, email="s1@other.example.ma")]
    resp = other_api.post("enrollments/sync", {"rows": rows}, headers={"idempotency-key": "same"})
    assert resp.status_code == 200
    assert resp.json()["counts"]["created"] == 1
    assert User.objects.filter(external_id="s1").count() == 2


def test_every_sync_is_audited_with_its_client_and_counts(api, org):
    course = CourseFactory()
    sync(api, [row("s1", course.code), row("s2", course.code)])
    entry = AuditEntry.objects.get()
    assert entry.client == api.client_model and entry.organization == org
    assert entry.endpoint == "enrollments/sync"
    assert entry.counts["created"] == 2 and entry.counts["rows"] == 2


def test_batches_over_the_limit_are_refused(api, settings):
    settings.INTEGRATIONS_SYNC_MAX_ROWS = 3
    course = CourseFactory()
    resp = sync(api, [row(f"s{i}", course.code) for i in range(4)])
    assert resp.status_code == 400
    assert resp.json()["error"]["details"][0]["field"] == "rows"
    assert resp.json()["error"]["details"][0]["code"] == "too_many_rows"


def test_sync_costs_a_constant_number_of_queries(api, django_assert_max_num_queries):
    course = CourseFactory()
    small = [row(f"a{i}", course.code) for i in range(5)]
    large = [row(f"b{i}", course.code) for i in range(300)]
    # Token check, lock, reads, bulk writes, audit: the same count whatever the batch size.
    with django_assert_max_num_queries(25) as small_ctx:
        sync(api, small)
    with django_assert_max_num_queries(25) as large_ctx:
        sync(api, large)
    assert len(small_ctx.captured_queries) == len(large_ctx.captured_queries)


def test_new_learners_activate_their_account_from_the_emailed_link(
    api, org, client, django_capture_on_commit_callbacks
):
    course = CourseFactory()
    sync(api, [row("s1", course.code)])
    assert LearnerInvite.objects.filter(sent_at__isnull=True).count() == 1

    with django_capture_on_commit_callbacks(execute=True):
        assert invites.invites_send() == 1
    assert invites.invites_send() == 0  # sent once
    (message,) = mail.outbox
    assert message.to == ["s1@univ.example.ma"]
    link = next(line for line in message.body.split() if "/accounts/activate/" in line)
    path = link[link.index("/accounts/") :]

    assert client.get(path).status_code == 200
    password = "a-long Passphrase 42"
    resp = client.post(path, {"password1": password, "password2": password, "accept_privacy": "on"})
    assert resp.status_code == 302
    learner = User.objects.get(external_id="s1")
    assert learner.is_active and learner.check_password(password) and learner.email_verified_at
    assert client.get(path).status_code == 400  # the link works once


def test_pending_invitations_go_out_in_batches(api, org, django_capture_on_commit_callbacks):
    course = CourseFactory()
    sync(api, [row(f"s{i}", course.code) for i in range(5)])
    with django_capture_on_commit_callbacks(execute=True):
        assert invites.invites_send_pending() == 5
    assert len(mail.outbox) == 5
    assert not LearnerInvite.objects.filter(sent_at__isnull=True).exists()

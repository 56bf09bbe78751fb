"""A resync of unchanged rows reads, compares and writes nothing: no statement changes a row,
no timestamp moves, no event, no audit entry. A resync that changes a row writes that row only."""

import pytest
from django.core.validators import validate_email
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import EmailChange, User
from courses.models import Enrollment
from integrations.models import AuditEntry, LearnerInvite
from integrations.services.sync import enrollment_sync
from integrations.services.sync_rows import email_is_valid
from kernel.models import OutboxEvent
from tests.factories import CourseFactory, UserFactory

from .conftest import row

pytestmark = pytest.mark.django_db
WRITES = ("INSERT", "UPDATE", "DELETE", "MERGE")


@pytest.fixture(autouse=True, params=["copy", "bulk_create"])
def write_path(request, settings):
    """Both write paths: compared in the database (COPY, PostgreSQL) and in Python (the
    embedded SQLite fallback)."""
    settings.INTEGRATIONS_SYNC_USE_COPY = request.param == "copy"
    return request.param


def _state(org):
    return {
        "users": dict(User.objects.filter(organization=org).values_list("pk", "updated_at")),
        "enrollments": dict(Enrollment.objects.values_list("pk", "updated_at")),
        "statuses": dict(Enrollment.objects.values_list("pk", "status")),
        "events": OutboxEvent.objects.count(),
        "audit": AuditEntry.objects.count(),
        "invites": LearnerInvite.objects.count(),
        "email_changes": EmailChange.objects.count(),
    }


def _batch(c1, c2):
    UserFactory(email="taken@univ.example.ma")  # this row's learner is a stand-in (a pending link)
    return [
        row("s1", c1.code),
        row("s1", c2.code, status="completed-elsewhere"),
        row("s2", c1.code, given="", family=""),  # no name given: the stored one stands
        row("s3", c2.code, email="Taken@Univ.example.ma"),
        row("s4", c1.code, status="dropped"),
    ]


@pytest.mark.parametrize("mode", ["upsert", "full"])
def test_a_resync_of_unchanged_rows_runs_no_write_statement_and_changes_nothing(org, mode):
    c1, c2 = CourseFactory(), CourseFactory()
    rows = _batch(c1, c2)
    first = enrollment_sync(organization=org, raw_rows=rows, mode=mode)
    assert first.body["counts"]["created"] == 5
    before = _state(org)

    with CaptureQueriesContext(connection) as ctx:
        again = enrollment_sync(organization=org, raw_rows=rows, mode=mode)

    assert again.body["counts"] == {"created": 0, "updated": 0, "unchanged": 5, "dropped": 0}
    assert again.body["learners"] == {"created": 0, "updated": 0}
    writes = [q["sql"] for q in ctx.captured_queries if q["sql"].lstrip().upper().startswith(WRITES)]
    assert writes == []
    assert _state(org) == before  # no timestamp moved, no event, no audit entry, no invitation


def test_a_resync_with_one_changed_status_and_one_new_name_writes_those_rows_only(org):
    c1, c2 = CourseFactory(), CourseFactory()
    rows = _batch(c1, c2)
    enrollment_sync(organization=org, raw_rows=rows)
    before = _state(org)
    rows[0] = {**rows[0], "status": "dropped"}
    rows[2] = {**rows[2], "given_name": "Nadia"}

    again = enrollment_sync(organization=org, raw_rows=rows)

    assert again.body["counts"] == {"created": 0, "updated": 1, "unchanged": 4, "dropped": 0}
    assert again.body["learners"] == {"created": 0, "updated": 1}
    after = _state(org)
    s1_c1 = Enrollment.objects.get(user__external_id="s1", course=c1)
    s2 = User.objects.get(organization=org, external_id="s2")
    assert s1_c1.status == "dropped" and s2.full_name == "Nadia"
    assert {pk for pk, at in after["enrollments"].items() if at != before["enrollments"][pk]} == {s1_c1.pk}
    assert {pk for pk, at in after["users"].items() if at != before["users"][pk]} == {s2.pk}
    assert after["events"] == before["events"] + 1
    event = OutboxEvent.objects.order_by("-id").first()
    assert event.payload["status"] == "dropped" and event.payload["previous_status"] == "active"
    assert after["audit"] == before["audit"] + 1


def test_a_full_resync_that_omits_a_row_drops_that_enrollment_only(org):
    c1, c2 = CourseFactory(), CourseFactory()
    rows = _batch(c1, c2)
    enrollment_sync(organization=org, raw_rows=rows, mode="full")
    again = enrollment_sync(organization=org, raw_rows=rows[1:], mode="full", force=True)
    assert again.body["counts"] == {"created": 0, "updated": 0, "unchanged": 4, "dropped": 1}
    assert Enrollment.objects.get(user__external_id="s1", course=c1).status == "dropped"
    assert Enrollment.objects.filter(status="dropped").count() == 2  # and s4's, dropped by its row


ADDRESSES = [
    "amina@univ.example.ma", "a.b-c+d@x.co", "o'brien@example.org", "x@a-b.example.museum",
    "a..b@example.org", ".a@example.org", "a.@example.org", "a@-example.org", "a@example-.org",
    "a@example", "a@example.c", "a@example.c0m", "a@@example.org", "a@example..org", "a b@example.org",
    '"a b"@example.org', "a@[127.0.0.1]", "a@localhost", "a@xn--bcher-kva.example", "a@exa_mple.org",
    "é@example.org", "a@exämple.org", "a@" + "b" * 64 + ".org", "a" * 300 + "@example.org",
]  # fmt: skip


@pytest.mark.parametrize("address", ADDRESSES)
def test_the_fast_address_check_agrees_with_validate_email(address):
    try:
        validate_email(address)
        expected = True
    except Exception:
        expected = False
    assert email_is_valid(address) is expected

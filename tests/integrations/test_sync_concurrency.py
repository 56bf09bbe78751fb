"""Two syncs of one university at the same moment, in two real transactions."""

import threading

import pytest
from django.db import connection

from accounts.models import User
from courses.models import Enrollment
from integrations.models import AuditEntry
from integrations.services.sync import enrollment_sync
from tests.factories import CourseFactory, OrganizationFactory

from .conftest import row


def run_together(*calls):
    barrier = threading.Barrier(len(calls))
    results, errors = [None] * len(calls), []

    def go(i, fn):
        try:
            barrier.wait(10)
            results[i] = fn()
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=go, args=(i, fn)) for i, fn in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    return results


@pytest.mark.django_db(transaction=True)
def test_two_identical_syncs_at_once_create_each_learner_and_enrollment_once():
    org = OrganizationFactory()
    course = CourseFactory()
    rows = [row(f"s{i}", course.code) for i in range(50)]
    a, b = run_together(
        lambda: enrollment_sync(organization=org, raw_rows=rows),
        lambda: enrollment_sync(organization=org, raw_rows=rows),
    )
    assert sorted([a.body["counts"]["created"], b.body["counts"]["created"]]) == [0, 50]
    assert sorted([a.body["counts"]["unchanged"], b.body["counts"]["unchanged"]]) == [0, 50]
    assert User.objects.filter(organization=org).count() == 50
    assert Enrollment.objects.count() == 50


@pytest.mark.django_db(transaction=True)
def test_the_same_idempotency_key_at_once_has_one_effect():
    from integrations.services.clients import api_client_create
    from integrations.services.sync import request_fingerprint

    org = OrganizationFactory()
    client = api_client_create(organization=org, name="SIS", scopes=["enrollments:write"]).client
    course = CourseFactory()
    rows = [row(f"s{i}", course.code) for i in range(20)]

    def call():
        return enrollment_sync(
            organization=org, client=client, raw_rows=rows, idempotency_key="k", request_hash=request_fingerprint(rows)
        )

    a, b = run_together(call, call)
    assert a.body == b.body and {a.replayed, b.replayed} == {True, False}
    assert AuditEntry.objects.filter(action="enrollments.sync").count() == 1

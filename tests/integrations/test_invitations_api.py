"""GET /api/v1/invitations: a university's system sees which of its learners' invitations the
mail server has not taken yet; never another university's."""

import pytest
from django.utils import timezone

from accounts.models import User
from integrations.models import LearnerInvite

from .conftest import Api


def invite(org, ext, **fields):
    user = User.objects.create(email=f"{ext}@univ.example.ma", external_id=ext, organization=org, is_active=False)
    return LearnerInvite.objects.create(user=user, organization=org, **fields)


@pytest.fixture
def invites_of(org, other_org):
    invite(org, "p1", attempts=1, next_attempt_at=timezone.now())
    invite(org, "f1", attempts=10, failed_at=timezone.now(), last_error="SMTPSenderRefused: internal detail")
    invite(org, "s1", sent_at=timezone.now())
    invite(other_org, "theirs", failed_at=timezone.now())


@pytest.mark.parametrize("extra", [0, 4])
def test_a_client_sees_its_pending_and_failed_invitations_in_constant_queries(
    api, org, invites_of, extra, django_assert_num_queries
):
    for i in range(extra):
        invite(org, f"more{i}")
    with django_assert_num_queries(4):  # token, client, counts, rows with their users
        resp = api.get("invitations")
    assert resp.status_code == 200
    body = resp.json()
    assert (body["pending"], body["failed"]) == (1 + extra, 1)
    assert [r["external_id"] for r in body["results"]][:2] == ["f1", "p1"]
    failed = body["results"][0]
    assert failed == {
        "external_id": "f1",
        "email": "f1@univ.example.ma",
        "status": "failed",
        "attempts": 10,
        "next_attempt_at": None,
        "created_at": failed["created_at"],
    }
    assert "internal detail" not in resp.content.decode()
    assert {r["external_id"] for r in body["results"]}.isdisjoint({"s1", "theirs"})
    assert LearnerInvite.objects.count() == 4 + extra  # a read changes nothing


def test_the_status_filter_and_limit_are_checked(api, invites_of):
    resp = api.get("invitations", {"status": "failed"})
    assert [r["external_id"] for r in resp.json()["results"]] == ["f1"]
    bad = api.get("invitations", {"status": "lost", "limit": "0"})
    assert bad.status_code == 400
    assert {d["field"] for d in bad.json()["error"]["details"]} == {"status", "limit"}


def test_a_client_without_the_enrollments_read_scope_is_refused(org, invites_of):
    resp = Api(org, scopes=["catalog:read"]).get("invitations")
    assert resp.status_code == 403 and resp.json()["error"]["code"] == "permission_denied"

"""A university admin sees their invitations the mail server has not taken (pending, failed) and
sends them again; nobody else sees them."""

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import services as account_services
from integrations.models import LearnerInvite
from tests.factories import OrganizationFactory, UserFactory
from tests.twofactor import login_with_2fa

REFUSED = "SMTPSenderRefused: (451, b'4.3.0 try later', 'noreply@kafaat.ma')"  # as invites.py stores it


def invite(org, email, **fields):
    user = UserFactory(email=email, is_active=False, organization=org)
    return LearnerInvite.objects.create(user=user, organization=org, **fields)


@pytest.fixture
def world(db):
    org, other = OrganizationFactory(name="Université A"), OrganizationFactory(name="Université B")
    failed = invite(org, "failed@a.ma", attempts=10, failed_at=timezone.now(), last_error=REFUSED)
    pending = invite(org, "pending@a.ma", attempts=2, last_error="ConnectionRefusedError")
    invite(org, "sent@a.ma", sent_at=timezone.now())
    invite(other, "theirs@b.ma", failed_at=timezone.now())
    admin = UserFactory()
    account_services.membership_grant(user=admin, organization=org)
    return {"org": org, "failed": failed, "pending": pending, "admin": admin}


@pytest.mark.parametrize("extra", [0, 5])
def test_a_university_admin_sees_pending_and_failed_invitations_in_constant_queries(
    client, world, extra, django_assert_num_queries
):
    for i in range(extra):
        invite(world["org"], f"more{i}@a.ma")
    login_with_2fa(client, world["admin"])
    with django_assert_num_queries(8):
        resp = client.get(reverse("organization-invitations"))
    assert resp.status_code == 200
    assert (resp.context["pending"], resp.context["failed"]) == (1 + extra, 1)
    emails = [i.user.email for i in resp.context["rows"]]
    assert emails[:2] == ["failed@a.ma", "pending@a.ma"]  # failed first
    body = resp.content.decode()
    assert "failed@a.ma" in body and "The mail server refused the message (code 451)." in body
    assert "The mail server could not be reached." in body  # pending's ConnectionRefusedError
    assert "SMTPSenderRefused" not in body and "ConnectionRefusedError" not in body  # no Python names
    assert "sent@a.ma" not in body and "theirs@b.ma" not in body


def test_send_again_makes_a_failed_invitation_due_now(client, world):
    login_with_2fa(client, world["admin"])
    resp = client.post(reverse("organization-invitations"), {"invite": world["failed"].pk})
    assert resp.status_code == 302
    world["failed"].refresh_from_db()
    assert world["failed"].failed_at is None and world["failed"].attempts == 0
    assert world["failed"].next_attempt_at is None


def test_send_all_again_touches_only_this_universitys_invitations(client, world):
    login_with_2fa(client, world["admin"])
    client.post(reverse("organization-invitations"))
    assert not LearnerInvite.objects.filter(organization=world["org"], failed_at__isnull=False).exists()
    assert LearnerInvite.objects.exclude(organization=world["org"]).get().failed_at is not None


def test_a_learner_sees_no_invitations_and_resends_none(client, world):
    client.force_login(UserFactory(organization=world["org"]))
    assert client.get(reverse("organization-invitations")).status_code == 404
    assert client.post(reverse("organization-invitations")).status_code == 404
    assert LearnerInvite.objects.filter(failed_at__isnull=False).count() == 2


def test_a_posted_id_that_is_not_a_plain_number_resends_nothing(client, world):
    login_with_2fa(client, world["admin"])
    resp = client.post(reverse("organization-invitations"), {"invite": ["²", "x"]})
    assert resp.status_code == 302
    assert LearnerInvite.objects.filter(organization=world["org"], failed_at__isnull=False).count() == 1

"""Invitations go through a real SMTP server on localhost: an invitation is marked sent only once
the server accepted its message, in its own commit; refusals back off and end as failed."""

import os
import signal
from datetime import timedelta

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.db import connections
from django.utils import timezone

from accounts.models import User
from integrations.models import LearnerInvite
from integrations.services import invites
from tests.factories import OrganizationFactory, UserFactory
from tests.smtp_server import SmtpServer


def make_invites(n: int, organization=None) -> list[LearnerInvite]:
    organization = organization or OrganizationFactory()
    made = []
    for i in range(n):
        user = UserFactory(email=f"learner{i}@univ.example.ma", is_active=False, organization=organization)
        user.set_unusable_password()
        user.save()
        made.append(LearnerInvite.objects.create(user=user, organization=organization))
    return made


@pytest.fixture
def smtp(settings):
    server = SmtpServer()
    settings.MAILERS = {"default": server.mailer()}
    yield server
    server.stop()


def states() -> list[tuple]:
    return list(LearnerInvite.objects.order_by("id").values_list("sent_at", "attempts", "failed_at"))


@pytest.mark.django_db(transaction=True)
def test_an_invitation_is_marked_sent_only_after_the_mail_server_accepted_it(smtp, settings):
    settings.INVITE_RETRY_BASE_SECONDS = 60
    (invite,) = make_invites(1)

    # The server is down: nothing is marked sent, the refusal is counted and a retry is scheduled.
    before = timezone.now()
    assert invites.invites_send_pending() == 0
    invite.refresh_from_db()
    assert invite.sent_at is None and invite.failed_at is None and invite.claimed_until is None
    assert invite.attempts == 1 and "Connection refused" in invite.last_error
    assert before + timedelta(seconds=59) < invite.next_attempt_at < timezone.now() + timedelta(seconds=61)

    # Not due yet: the server comes up, but nothing goes out before the backoff is over.
    smtp.start()
    assert invites.invites_send_pending() == 0 and smtp.messages == []

    LearnerInvite.objects.filter(pk=invite.pk).update(next_attempt_at=timezone.now())  # the clock moves on
    assert invites.invites_send_pending() == 1
    invite.refresh_from_db()
    assert invite.sent_at is not None and invite.attempts == 2 and invite.last_error == ""
    assert smtp.recipients == ["learner0@univ.example.ma"]
    assert "/accounts/activate/" in smtp.messages[0].get_content()

    # Sent exactly once, whatever runs next.
    assert invites.invites_send_pending() == 0
    assert len(smtp.messages) == 1


@pytest.mark.django_db(transaction=True)
def test_a_failure_midway_keeps_the_accepted_ones_sent_and_the_rest_pending(smtp, settings):
    settings.INVITE_RETRY_BASE_SECONDS = 0  # due again at once
    made = make_invites(6)
    smtp.accept_limit = 3
    committed_when_accepted = []

    def check_committed(_message):
        # Seen from another connection (the server's thread): each earlier acceptance is committed.
        committed_when_accepted.append(LearnerInvite.objects.filter(sent_at__isnull=False).count())
        connections.close_all()

    smtp.on_message = check_committed
    smtp.start()

    assert invites.invites_send_pending() == 3
    assert committed_when_accepted == [0, 1, 2]
    rows = states()
    assert [sent is not None for sent, _a, _f in rows] == [True] * 3 + [False] * 3
    assert [attempts for _s, attempts, _f in rows] == [1, 1, 1, 1, 0, 0]  # the 4th was tried, 5-6 wait
    assert LearnerInvite.objects.get(pk=made[3].pk).last_error.startswith("SMTPSenderRefused")
    assert not LearnerInvite.objects.filter(claimed_until__isnull=False).exists()

    smtp.accept_limit = None
    assert invites.invites_send_pending() == 3
    assert sorted(smtp.recipients) == sorted(f"learner{i}@univ.example.ma" for i in range(6))  # once each
    assert not LearnerInvite.objects.filter(sent_at__isnull=True).exists()


@pytest.mark.django_db(transaction=True)
def test_an_invitation_refused_too_often_is_failed_and_can_be_resent(smtp, settings):
    settings.INVITE_RETRY_BASE_SECONDS = 0
    settings.INVITE_MAX_ATTEMPTS = 3
    (invite,) = make_invites(1)
    smtp.refuse = True
    smtp.start()
    for _ in range(5):
        invites.invites_send_pending()
    invite.refresh_from_db()
    assert invite.attempts == 3 and invite.failed_at is not None and invite.status == "failed"
    assert invites.invites_unsent_counts(organization_id=invite.organization_id) == {"pending": 0, "failed": 1}

    smtp.refuse = False
    assert invites.invites_send_pending() == 0  # failed: no more automatic tries
    assert invites.invites_resend(organization_ids=[invite.organization_id]) == 1
    assert invites.invites_send_pending() == 1
    invite.refresh_from_db()
    assert invite.status == "sent" and len(smtp.messages) == 1


@pytest.mark.django_db(transaction=True)
def test_a_claimed_invitation_is_not_taken_by_a_second_worker(smtp):
    made = make_invites(3)
    smtp.start()
    # Another worker holds the first two (its claim runs until after its hard time limit).
    LearnerInvite.objects.filter(pk__in=[made[0].pk, made[1].pk]).update(
        claimed_until=timezone.now() + timedelta(minutes=5)
    )
    assert invites.invites_send_pending() == 1
    assert smtp.recipients == ["learner2@univ.example.ma"]
    # Its claim expired (the worker died before sending): the next run takes them.
    LearnerInvite.objects.filter(pk__in=[made[0].pk, made[1].pk]).update(claimed_until=timezone.now())
    assert invites.invites_send_pending() == 2
    assert len(smtp.messages) == 3


@pytest.mark.django_db(transaction=True)
def test_an_activated_learner_gets_no_invitation(smtp):
    (invite,) = make_invites(1)
    User.objects.filter(pk=invite.user_id).update(is_active=True, password="md5$x$y")
    smtp.start()
    assert invites.invites_send_pending() == 0
    assert smtp.messages == []
    invite.refresh_from_db()
    assert invite.sent_at is not None  # nothing left to send


@pytest.mark.django_db(transaction=True)
def test_a_message_that_cannot_be_built_does_not_hold_up_the_others(smtp):
    made = make_invites(3)
    User.objects.filter(pk=made[0].user_id).update(email="bad\naddress@univ.example.ma")
    smtp.start()
    assert invites.invites_send_pending() == 2
    bad = LearnerInvite.objects.get(pk=made[0].pk)
    assert bad.sent_at is None and bad.attempts == 1 and bad.last_error and bad.next_attempt_at
    assert sorted(smtp.recipients) == ["learner1@univ.example.ma", "learner2@univ.example.ma"]


@pytest.mark.django_db(transaction=True)
def test_a_soft_time_limit_midway_loses_nothing_and_leaves_nothing_claimed(smtp):
    """The soft time limit is a signal raising SoftTimeLimitExceeded in the worker (billiard)."""
    made = make_invites(5)

    def time_is_up(*_args):
        raise SoftTimeLimitExceeded

    previous = signal.signal(signal.SIGUSR2, time_is_up)
    smtp.on_message = lambda _m: len(smtp.messages) == 2 and os.kill(os.getpid(), signal.SIGUSR2)
    smtp.start()
    try:
        with pytest.raises(SoftTimeLimitExceeded):
            invites.invites_send_pending()
    finally:
        signal.signal(signal.SIGUSR2, previous)
    smtp.on_message = None
    # The two accepted before the signal are sent; the one in flight when it came, and the rest,
    # are handed back at once (not left claimed for INVITE_CLAIM_SECONDS).
    assert [i.sent_at is not None for i in LearnerInvite.objects.order_by("id")] == [True, True, False, False, False]
    assert not LearnerInvite.objects.filter(claimed_until__isnull=False).exists()
    assert LearnerInvite.objects.filter(attempts=0, sent_at__isnull=True).count() == 3

    assert invites.invites_send_pending() == 3
    assert not LearnerInvite.objects.filter(sent_at__isnull=True).exists()
    # Only the message in flight at the signal can arrive twice: its acceptance was never recorded.
    assert set(smtp.recipients) == {i.user.email for i in made} and len(smtp.messages) <= 6


@pytest.mark.django_db(transaction=True)
def test_send_again_leaves_an_invitation_a_worker_is_sending_right_now(smtp):
    made = make_invites(2)
    LearnerInvite.objects.filter(pk=made[0].pk).update(claimed_until=timezone.now() + timedelta(minutes=5))
    assert invites.invites_resend(organization_ids=[made[0].organization_id]) == 1
    assert LearnerInvite.objects.get(pk=made[0].pk).claimed_until is not None  # still the worker's

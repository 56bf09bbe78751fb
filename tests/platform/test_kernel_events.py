"""kernel's domain events: handlers run in the announcing transaction, in the order they
subscribed; `outbox=` writes the event's outbox row first (for the user's organization), and
every outbox write is heard by `outbox.recorded` subscribers (integrations' webhook nudge)."""

import pytest
from django.db import transaction

from kernel import events, tasks
from kernel.events import OUTBOX_RECORDED, announce, subscribe
from kernel.models import OutboxEvent
from kernel.tasks import resend_pending, resender
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def registry(monkeypatch):
    """A registry of this test's own (the apps' handlers stay out of it)."""
    monkeypatch.setattr(events, "_handlers", events.defaultdict(list))
    return events._handlers


def test_handlers_hear_the_facts_in_order_and_the_outbox_row_is_written_first(registry):
    heard = []
    user = UserFactory(organization=OrganizationFactory())

    @subscribe("thing.happened")
    def first(*, user, size, **facts):
        heard.append(("first", user.pk, size, OutboxEvent.objects.count()))

    @subscribe("thing.happened")
    def second(**facts):
        heard.append(("second", facts["size"]))

    subscribe("thing.happened")(first)  # subscribing twice still runs it once
    recorded = []
    subscribe(OUTBOX_RECORDED)(lambda *, event, **facts: recorded.append(event.pk))

    event = announce("thing.happened", user=user, size=3, outbox={"size": 3})
    assert heard == [("first", user.pk, 3, 1), ("second", 3)]
    assert (event.event_type, event.payload, event.user, event.organization) == (
        "thing.happened", {"size": 3}, user, user.organization,
    )  # fmt: skip
    assert recorded == [event.pk]
    assert announce("nobody.listens", size=1) is None


def test_a_handler_that_raises_rolls_the_announcing_transaction_back(registry):
    @subscribe("thing.happened")
    def broken(**facts):
        raise RuntimeError("no")

    with pytest.raises(RuntimeError), transaction.atomic():
        announce("thing.happened", outbox={"x": 1})
    assert not OutboxEvent.objects.exists()


def test_the_resend_sweep_runs_every_resender_even_after_one_fails(monkeypatch):
    monkeypatch.setattr(tasks, "_resenders", [])

    def broken():
        raise RuntimeError("no")

    resender(broken)
    resender(lambda: 2)
    assert resend_pending() == 2

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
    subscribe(OUTBOX_RECORDED)(lambda *, events, **facts: recorded.extend(e.pk for e in events))

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


class _Recorder:
    """A task stand-in that records what is published (the selection is what is tested here)."""

    name = "test.recorder"

    def __init__(self):
        self.sent = []

    def apply_async(self, args, kwargs):
        self.sent.append(args[0])


def test_resend_stale_sends_again_only_the_pending_rows_older_than_the_delay_and_younger_than_a_day(settings):
    from datetime import timedelta

    from django.utils import timezone

    from privacy.models import DataExport

    settings.KERNEL_RESEND_AFTER_SECONDS = 300
    now = timezone.now()
    ages = {"fresh": timedelta(seconds=60), "lost": timedelta(minutes=10), "ancient": timedelta(days=2)}
    rows = {}
    for label, age in ages.items():
        export = DataExport.objects.create(user=UserFactory())
        DataExport.objects.filter(pk=export.pk).update(requested_at=now - age)
        rows[label] = export.pk
    done = DataExport.objects.create(user=UserFactory(), status=DataExport.Status.READY)
    DataExport.objects.filter(pk=done.pk).update(requested_at=now - timedelta(minutes=10))

    task = _Recorder()
    pending = DataExport.objects.filter(status=DataExport.Status.PENDING)
    assert tasks.resend_stale(pending, asked_at="requested_at", task=task) == 1
    assert task.sent == [rows["lost"]]

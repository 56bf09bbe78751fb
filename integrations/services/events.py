"""The outbox's webhook side: each event kernel writes (kernel.events.event_record) nudges the
`events` queue after commit, if anyone listens to that organization's events. Subscribed in
IntegrationsConfig.ready()."""

from django.db import transaction

from kernel.events import OUTBOX_RECORDED, subscribe

from ..models import WebhookSubscription
from .webhooks import enqueue_tick


def kick_dispatch(organization_id: int | None) -> None:
    """After commit: nudge the `events` queue, if anyone listens to this organization's events.
    (Without a subscriber the beat tick still marks the events dispatched.)"""
    if organization_id and WebhookSubscription.objects.filter(organization_id=organization_id, is_active=True).exists():
        enqueue_tick()


@subscribe(OUTBOX_RECORDED)
def _kick_dispatch_on_commit(*, event, **facts) -> None:
    org_id = event.organization_id
    transaction.on_commit(lambda: kick_dispatch(org_id), robust=True)

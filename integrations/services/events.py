"""The outbox's webhook side: each event kernel writes (kernel.events.event_record) nudges the
`events` queue after commit, if anyone listens to that organization's events. Subscribed in
IntegrationsConfig.ready()."""

from django.db import transaction

from kernel.events import OUTBOX_RECORDED, subscribe

from ..models import WebhookSubscription
from .webhooks import enqueue_tick


def kick_dispatch(organization_ids) -> None:
    """After commit: nudge the `events` queue, if anyone listens to these organizations' events.
    (Without a subscriber the beat tick still marks the events dispatched.)"""
    ids = {pk for pk in organization_ids if pk}
    if ids and WebhookSubscription.objects.filter(organization_id__in=ids, is_active=True).exists():
        enqueue_tick()


@subscribe(OUTBOX_RECORDED)
def _kick_dispatch_on_commit(*, events, **facts) -> None:
    org_ids = {event.organization_id for event in events}
    transaction.on_commit(lambda: kick_dispatch(org_ids), robust=True)

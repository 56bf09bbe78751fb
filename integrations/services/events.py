"""The event outbox: written in the caller's transaction, fanned out to webhooks later."""

from django.db import transaction

from ..models import OutboxEvent


def kick_dispatch(organization_id: int | None) -> None:
    """After commit: nudge the `events` queue, if anyone listens to this organization's events.
    (Without a subscriber the beat tick still marks the events dispatched.)"""
    from ..models import WebhookSubscription
    from .webhooks import enqueue_tick

    if organization_id and WebhookSubscription.objects.filter(organization_id=organization_id, is_active=True).exists():
        enqueue_tick()


def event_record(*, event_type: str, payload: dict, user=None, organization=None) -> OutboxEvent:
    """Write an event to the outbox. Call it inside the transaction of the change it reports;
    after commit the `events` queue is nudged (the beat tick delivers it anyway)."""
    if organization is None and user is not None:
        organization = user.organization
    event = OutboxEvent.objects.create(event_type=event_type, payload=payload, user=user, organization=organization)
    org_id = event.organization_id
    transaction.on_commit(lambda: kick_dispatch(org_id), robust=True)
    return event

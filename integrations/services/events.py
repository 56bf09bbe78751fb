"""The event outbox: written in the caller's transaction, fanned out to webhooks later."""

from django.db import transaction

from ..models import OutboxEvent


def _kick_dispatch() -> None:
    from .webhooks import enqueue_tick

    enqueue_tick()


def event_record(*, event_type: str, payload: dict, user=None, organization=None) -> OutboxEvent:
    """Write an event to the outbox. Call it inside the transaction of the change it reports;
    after commit the `events` queue is nudged (the beat tick delivers it anyway)."""
    if organization is None and user is not None:
        organization = user.organization
    event = OutboxEvent.objects.create(event_type=event_type, payload=payload, user=user, organization=organization)
    transaction.on_commit(_kick_dispatch, robust=True)
    return event

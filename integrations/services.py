"""Integrations: what universities see of us. Events go to the outbox in the caller's
transaction; the `events` queue delivers them."""

from .models import OutboxEvent


def event_record(*, event_type: str, payload: dict, user=None, organization=None) -> OutboxEvent:
    """Write an event to the outbox. Call it inside the transaction of the change it reports."""
    if organization is None and user is not None:
        organization = user.organization
    return OutboxEvent.objects.create(event_type=event_type, payload=payload, user=user, organization=organization)

"""Domain events and the outbox.

A lower app announces a fact; it never knows who listens. Upper apps subscribe in their
`AppConfig.ready()`:

    @subscribe("submission.graded")
    def _tell_the_learner(*, submission, **facts): ...

and `announce("submission.graded", submission=sub, user=sub.user, outbox={...})` runs every handler
synchronously, in the caller's transaction (a handler that raises rolls the change back with it;
work for after commit is the handler's to defer, see kernel.tasks). With `outbox=`, the event's
payload is first written to the outbox for universities (`event_record`), with the `user` (and
`organization`, else the user's) among the facts.

`event_record` announces `outbox.recorded` (fact: `event`) for each row it writes: integrations
listens to nudge its webhook queue after commit."""

from collections import defaultdict
from collections.abc import Callable

from .models import OutboxEvent

OUTBOX_RECORDED = "outbox.recorded"

_handlers: dict[str, list[Callable]] = defaultdict(list)


def subscribe(event_name: str) -> Callable[[Callable], Callable]:
    """Register the decorated function as a handler of `event_name` (once, however often the
    module is imported or ready() runs). Handlers take the announced facts as keyword arguments
    and should accept `**facts` so that a new fact does not break them."""

    def register(handler: Callable) -> Callable:
        if handler not in _handlers[event_name]:
            _handlers[event_name].append(handler)
        return handler

    return register


def handlers(event_name: str) -> list[Callable]:
    return list(_handlers.get(event_name, ()))


def announce(event_name: str, /, *, outbox: dict | None = None, **facts) -> OutboxEvent | None:
    """Tell every subscriber of `event_name` that it happened, in the caller's transaction, in the
    order they subscribed. With `outbox`, write it first as the event's outbox payload (for the
    `user`/`organization` among the facts). Returns the outbox row, if any."""
    event = None
    if outbox is not None:
        event = event_record(
            event_type=event_name, payload=outbox, user=facts.get("user"), organization=facts.get("organization")
        )
    for handler in handlers(event_name):
        handler(**facts)
    return event


def event_record(*, event_type: str, payload: dict, user=None, organization=None) -> OutboxEvent:
    """Write an event to the outbox. Call it inside the transaction of the change it reports;
    the subscribers of `outbox.recorded` hear of it (integrations nudges its `events` queue after
    commit; the beat tick delivers it anyway)."""
    if organization is None and user is not None:
        organization = user.organization
    event = OutboxEvent.objects.create(event_type=event_type, payload=payload, user=user, organization=organization)
    for handler in handlers(OUTBOX_RECORDED):
        handler(event=event)
    return event

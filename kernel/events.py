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

`event_record` (and `events_record`, for many rows in one write) announces `outbox.recorded`
(fact: `events`, the rows of that write) once per write: integrations listens to queue LTI scores
and nudge its webhook queue after commit, in a constant number of queries for the write.

`announce_many(name, [(facts, outbox), ...], defer=True)` is `announce` for many events of one
kind at once (a batch of grades): one INSERT for their outbox rows.

**Deferred handlers** take a list of outbox rows instead of facts, so that they can do their work
for many events at once with a constant number of queries:

    @subscribe_deferred("submission.graded")
    def _tell_the_learners(*, events, **facts): ...   # events: [OutboxEvent], in id order

`announce(..., outbox=..., defer=True)` leaves them to the batch consumer: the row is written
pending (`is_deferred_pending`) in the caller's transaction, and after commit the `kernel.deferred_run`
task is sent (at most once per KERNEL_DEFERRED_BATCH_SECONDS per process, with that countdown, so
it runs after every event this process committed meanwhile). The consumer (`deferred_run`) takes
pending rows under `skip_locked` row locks, runs the handlers of each event type once for the
batch, and clears the flag in the same transaction: each event's deferred handlers run once, and
a handler that raises rolls its batch back (each event is then tried alone; one that still fails
stays pending and is logged). The beat runs the consumer too, for a kick lost with the broker.
Without `defer`, the deferred handlers run at once, in the caller's transaction, with `[event]`."""

import logging
import time
from collections import defaultdict
from collections.abc import Callable

from celery import current_app, shared_task
from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from .models import OutboxEvent

log = logging.getLogger(__name__)

OUTBOX_RECORDED = "outbox.recorded"
DEFERRED_TASK = "kernel.deferred_run"  # deferred_run_task, below
DEFERRED_BATCH = 500
# An event whose handlers fail alone this many times (in separate runs) leaves the queue, logged:
# otherwise a handler's bug on the oldest 500 rows would stop every later grade's side effects.
DEFERRED_MAX_FAILURES = 5

_handlers: dict[str, list[Callable]] = defaultdict(list)
_deferred: dict[str, list[Callable]] = defaultdict(list)


def subscribe(event_name: str) -> Callable[[Callable], Callable]:
    """Register the decorated function as a handler of `event_name` (once, however often the
    module is imported or ready() runs). Handlers take the announced facts as keyword arguments
    and should accept `**facts` so that a new fact does not break them."""

    def register(handler: Callable) -> Callable:
        if handler not in _handlers[event_name]:
            _handlers[event_name].append(handler)
        return handler

    return register


def subscribe_deferred(event_name: str) -> Callable[[Callable], Callable]:
    """Register the decorated function as a deferred handler of `event_name`, an event announced
    with an outbox row: it is called as `handler(events=[OutboxEvent, ...])` (id order, `user`
    loaded), inside a transaction, for one event or for a batch of them (see the module's
    docstring). It should read what it needs for all the events at once."""

    def register(handler: Callable) -> Callable:
        if handler not in _deferred[event_name]:
            _deferred[event_name].append(handler)
        return handler

    return register


def handlers(event_name: str) -> list[Callable]:
    return list(_handlers.get(event_name, ()))


def deferred_handlers(event_name: str) -> list[Callable]:
    return list(_deferred.get(event_name, ()))


def announce(event_name: str, /, *, outbox: dict | None = None, defer: bool = False, **facts) -> OutboxEvent | None:
    """Tell every subscriber of `event_name` that it happened, in the caller's transaction, in the
    order they subscribed. With `outbox`, write it first as the event's outbox payload (for the
    `user`/`organization` among the facts), and run the deferred subscribers now (with `[event]`)
    or, with `defer`, in a batch after commit. Returns the outbox row, if any."""
    if outbox is not None:
        (event,) = announce_many(event_name, [(facts, outbox)], defer=defer)
        return event
    if defer:
        raise ValueError("only an event with an outbox row can defer its handlers")
    for handler in handlers(event_name):
        handler(**facts)
    return None


def announce_many(event_name: str, announced: list[tuple[dict, dict]], /, *, defer: bool = False) -> list[OutboxEvent]:
    """`announce` for many events of one kind, each `(facts, outbox payload)`, with one INSERT
    for their outbox rows: each subscriber hears each event's facts in order; the deferred ones
    hear the whole list at once (now, or with `defer` in a batch after commit). Returns the rows."""
    if not announced:
        return []
    rows = [(outbox, facts.get("user"), facts.get("organization")) for facts, outbox in announced]
    events = events_record(event_type=event_name, rows=rows, defer=defer)
    for facts, _outbox in announced:
        for handler in handlers(event_name):
            handler(**facts)
    if not defer:
        for handler in deferred_handlers(event_name):
            handler(events=events)
    return events


def event_record(*, event_type: str, payload: dict, user=None, organization=None, defer: bool = False) -> OutboxEvent:
    """Write an event to the outbox. Call it inside the transaction of the change it reports;
    the subscribers of `outbox.recorded` hear of it (integrations nudges its `events` queue after
    commit; the beat tick delivers it anyway). With `defer`, the event's deferred handlers are
    left to the batch consumer (see the module's docstring)."""
    (event,) = events_record(event_type=event_type, rows=[(payload, user, organization)], defer=defer)
    return event


def events_record(*, event_type: str, rows: list[tuple], defer: bool = False) -> list[OutboxEvent]:
    """Write events of one type to the outbox in one INSERT, each `(payload, user, organization)`
    (the organization, when None, is the user's); see event_record. Returns them, with their ids."""
    pending = defer and bool(_deferred.get(event_type))
    events = [
        OutboxEvent(
            event_type=event_type,
            payload=payload,
            user=user,
            organization=organization if organization is not None or user is None else user.organization,
            is_deferred_pending=pending,
        )
        for payload, user, organization in rows
    ]
    events = OutboxEvent.objects.bulk_create(events)
    for handler in handlers(OUTBOX_RECORDED):
        handler(events=events)
    if pending:
        transaction.on_commit(_kick, robust=True)
    return events


# --- the batch consumer -------------------------------------------------------------------------

_next_kick = 0.0  # this process's: no kick before this (time.monotonic())


def _kick() -> None:
    """After a deferred event's commit: send the consumer, with a countdown of the batch window,
    unless this process sent one within the window (it runs after this commit, so it sees the
    event). A broker that is down is logged; the beat's run of the consumer handles the event."""
    global _next_kick
    now = time.monotonic()
    if now < _next_kick:
        return
    window = settings.KERNEL_DEFERRED_BATCH_SECONDS
    _next_kick = now + window
    try:
        current_app.send_task(DEFERRED_TASK, countdown=window)
    except Exception:  # kombu raises OperationalError, redis ConnectionError, OSError...
        _next_kick = 0.0
        log.warning("broker unavailable: %s left to the beat", DEFERRED_TASK, exc_info=True)


def _run_handlers(events: list[OutboxEvent]) -> None:
    by_type: dict[str, list[OutboxEvent]] = defaultdict(list)
    for event in events:
        by_type[event.event_type].append(event)
    for event_type, group in by_type.items():
        for handler in deferred_handlers(event_type):
            handler(events=group)


def _failed_again(event: OutboxEvent) -> int:
    """How many runs have now failed on `event` alone (counted in the shared cache for a day)."""
    key = f"kafaat:deferred-failures:{event.pk}"
    try:
        cache.add(key, 0, timeout=86400)
        return cache.incr(key)
    except Exception:  # a cache outage: count nothing, the event stays pending
        log.warning("cache unavailable: outbox event %s's failures not counted", event.pk, exc_info=True)
        return 0


def deferred_run(*, limit: int = DEFERRED_BATCH) -> int:
    """Run the deferred handlers of up to `limit` pending outbox events (the oldest first; rows
    another consumer holds are skipped), and clear their flag, in one transaction. A batch whose
    handlers raise is rolled back and each of its events tried alone; an event that still fails
    stays pending (logged), for the next run. Returns how many events were handled; when the batch
    was full, the consumer is sent again at once."""
    with transaction.atomic():
        events = list(
            OutboxEvent.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("user")
            .filter(is_deferred_pending=True)
            .order_by("id")[:limit]
        )
        if not events:
            return 0
        given_up = []
        try:
            with transaction.atomic():
                _run_handlers(events)
            handled = events
        except Exception:
            log.exception("deferred handlers failed for a batch of %d events; trying each alone", len(events))
            handled = []
            for event in events:
                try:
                    with transaction.atomic():
                        _run_handlers([event])
                    handled.append(event)
                except Exception:
                    if _failed_again(event) < DEFERRED_MAX_FAILURES:
                        log.exception("deferred handlers failed for outbox event %s; it stays pending", event.pk)
                    else:  # a bug, not an outage: the oldest pending rows must not block every later one
                        given_up.append(event)
                        log.exception(
                            "deferred handlers failed %d times for outbox event %s; given up",
                            DEFERRED_MAX_FAILURES, event.pk,
                        )  # fmt: skip
        OutboxEvent.objects.filter(pk__in=[e.pk for e in handled + given_up]).update(is_deferred_pending=False)
    if len(events) >= limit and (handled or given_up):  # more may wait (not at once for a batch that only fails)
        try:
            current_app.send_task(DEFERRED_TASK)
        except Exception:
            log.warning("broker unavailable: %s left to the beat", DEFERRED_TASK, exc_info=True)
    return len(handled)


# Here rather than in kernel.tasks: that module is imported before the apps are ready (apps.py
# files register re-senders), and this one needs the outbox model. Every process that announces
# events imports this module, the worker included.
@shared_task(name=DEFERRED_TASK, acks_late=True, time_limit=120, soft_time_limit=100)
def deferred_run_task() -> int:
    """The batch consumer of deferred handlers: sent after the commit of deferred events, and by
    the beat for a kick lost with the broker."""
    return deferred_run()

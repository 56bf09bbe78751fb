"""The one way to hand work to a worker: publish a task, and survive a dead broker.

Every job we publish is first saved as a row (a submission, a regrade item, an export job...)
that a beat sweep finds again when its message never arrived. So publishing must never fail the
caller: a broker that is down is logged, not raised, and the sweep sends the work later.

    enqueue_on_commit(tasks.export_build, job.pk)   # after the current transaction commits
    enqueue(tasks.regrade_item, item.pk, queue="sandbox")   # now (a sweep, a task)

Apps whose jobs have no sweep of their own (exports) register a re-sender in their
`AppConfig.ready()` (`@resender`): the beat's `kernel.resend_pending` runs them all, and each sends
again the jobs still waiting past KERNEL_RESEND_AFTER_SECONDS (sending a job twice is harmless:
each job runs once)."""

import logging
from collections.abc import Callable
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

log = logging.getLogger(__name__)

_resenders: list[Callable[[], int]] = []


def enqueue(task, *args, queue: str | None = None, **kwargs) -> bool:
    """Publish `task(*args, **kwargs)` now (on `queue`, else its route). Returns whether the broker
    took it; a broker that is down is logged and False is returned: the job's row waits for its
    sweep."""
    try:
        if queue is None:
            task.apply_async(args, kwargs)
        else:
            task.apply_async(args, kwargs, queue=queue)
        return True
    except Exception:  # kombu raises OperationalError, redis ConnectionError, OSError...
        log.warning("broker unavailable: %s%r left to its sweep", task.name, args, exc_info=True)
        return False


def enqueue_on_commit(task, *args, queue: str | None = None, **kwargs) -> None:
    """Publish `task(*args, **kwargs)` once the current transaction commits (at once outside
    one); a broker that is down is logged, never raised (see `enqueue`)."""
    transaction.on_commit(lambda: enqueue(task, *args, queue=queue, **kwargs))


def resender(fn: Callable[[], int]) -> Callable[[], int]:
    """Register `fn` (no arguments; returns how many jobs it sent again) with the re-send sweep."""
    if fn not in _resenders:
        _resenders.append(fn)
    return fn


def resend_stale(queryset, *, asked_at: str, task) -> int:
    """What a re-sender does: send `task(pk)` again for each row of `queryset` (the jobs still
    pending) whose `asked_at` field is more than KERNEL_RESEND_AFTER_SECONDS and less than a day
    old, at most 500 per sweep. Returns how many were sent."""
    now = timezone.now()
    ids = queryset.filter(
        **{
            f"{asked_at}__lte": now - timedelta(seconds=settings.KERNEL_RESEND_AFTER_SECONDS),
            f"{asked_at}__gte": now - timedelta(days=1),
        }
    ).values_list("pk", flat=True)[:500]
    return sum(enqueue(task, pk) for pk in ids)


def resend_pending() -> int:
    """Run every registered re-sender; one that fails is logged and the others still run.
    Returns how many jobs were sent again."""
    sent = 0
    for fn in list(_resenders):
        try:
            sent += fn()
        except Exception:
            log.exception("re-sender %s failed", getattr(fn, "__qualname__", fn))
    return sent


@shared_task(name="kernel.resend_pending", acks_late=True, time_limit=120, soft_time_limit=100)
def resend_pending_task() -> int:
    return resend_pending()

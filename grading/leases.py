"""Claims with a lease, for submissions and regrade items alike.

A worker that takes a row writes `status=running`, a claim token (the Celery task id and its
retry number: "<task id>/<retries>") and `lease_expires_at = now + GRADING_LEASE_SECONDS`. While
the grader runs, a heartbeat thread renews the lease every third of it. The row is written only
while the claim still holds (same status and token), so a worker that lost it writes nothing.
The sweeper takes back rows whose lease expired: their worker is dead or cut off."""

import logging
import threading
import uuid
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

log = logging.getLogger(__name__)

# How long a queued row waits before the sweeper sends it again grows with its age (half of it),
# from GRADING_QUEUED_RESEND_SECONDS up to this: a queue nobody consumes (every sandbox broken)
# does not fill up with copies.
MAX_RESEND_SECONDS = 600


def lease_until(now=None):
    return (now or timezone.now()) + timedelta(seconds=settings.GRADING_LEASE_SECONDS)


def resend_at(*, now, since) -> "timezone.datetime":
    """When the sweeper should send a waiting row again: after GRADING_QUEUED_RESEND_SECONDS,
    then less and less often as the row ages (half its age, at most MAX_RESEND_SECONDS)."""
    age = (now - since).total_seconds() if since else 0
    delay = max(settings.GRADING_QUEUED_RESEND_SECONDS, min(age / 2, MAX_RESEND_SECONDS))
    return now + timedelta(seconds=delay)


def new_token(task_id: str | None = None, retries: int = 0) -> str:
    return f"{task_id or 'local-' + uuid.uuid4().hex}/{int(retries or 0)}"


def may_reclaim(held: str, token: str) -> bool:
    """A task's own retry may take back the row its earlier try holds (its lease is still fresh:
    the earlier try failed on the database, it did not die): same task id, a later retry. A
    duplicate delivery of the same try may not."""
    held_id, _, held_try = (held or "").rpartition("/")
    token_id, _, token_try = (token or "").rpartition("/")
    if not held_id or held_id != token_id:
        return False
    try:
        return int(token_try) > int(held_try)
    except ValueError:
        return False


def claimable(row, *, token: str, pending: str, running: str = "running", now=None) -> bool:
    """Whether a locked submission or regrade item may be taken with `token`: it waits
    (`pending`), or it runs under a lease that expired (its worker is dead or cut off), or under an
    earlier try of this same task (`may_reclaim`)."""
    if row.status == pending:
        return True
    if row.status != running:
        return False
    expired = row.lease_expires_at is None or row.lease_expires_at <= (now or timezone.now())
    return expired or may_reclaim(row.claim_token, token)


@contextmanager
def heartbeat(model, pk: int, token: str, *, running: str = "running"):
    """Renew the lease on `model` row `pk` every third of GRADING_LEASE_SECONDS while the body
    runs, from a thread with its own database connection. A failed renewal (the database went
    away) is logged and tried again at the next beat; a lost claim stops it."""
    stop = threading.Event()
    interval = max(0.5, settings.GRADING_LEASE_SECONDS / 3)

    def beat():
        try:
            while not stop.wait(interval):
                try:
                    renewed = model.objects.filter(pk=pk, status=running, claim_token=token).update(
                        lease_expires_at=lease_until()
                    )
                except Exception:
                    log.warning("heartbeat of %s %s failed; trying again", model.__name__, pk, exc_info=True)
                    connection.close()
                    continue
                if not renewed:
                    return  # the claim was taken back: nothing to keep alive
        finally:
            connection.close()

    thread = threading.Thread(target=beat, name=f"heartbeat-{model.__name__}-{pk}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(interval + 5)

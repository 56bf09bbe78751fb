"""Webhooks: subscriptions, fan-out of outbox events into deliveries, signed delivery with
exponential backoff, replay.

Ordering: for one subscription, a learner's deliveries go out in event order. A delivery is only
attempted when no earlier delivery of the same learner is still pending or being sent, so a
receiver that is down for an hour gets every event, in order, once it is back.

Network I/O never happens inside a transaction: deliveries are claimed (status `sending`, with a
lease) under the subscription's row lock, sent, then settled.

Each round resolves the receiver's name once, refuses it when any address is not public, and
sends to the checked addresses only (`targets`: SSRF and DNS rebinding)."""

import hashlib
import hmac
import json
import logging
import secrets
import time
from datetime import timedelta

import urllib3
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kernel.errors import ApplicationError, NotFound
from kernel.models import OutboxEvent
from kernel.tasks import enqueue

from ..models import ApiClient, AuditEntry, WebhookDelivery, WebhookSubscription
from . import targets

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "Kafaat-Signature"
LEASE = timedelta(seconds=120)


class WebhookRefused(ApplicationError):
    pass


def enqueue_tick() -> None:
    """Nudge the `events` queue; with the broker down, the beat tick delivers the events later."""
    from .. import tasks  # integrations.tasks imports these services

    enqueue(tasks.webhooks_tick)


def sign(*, secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t." + body>."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def subscription_create(*, client: ApiClient, url: str, event_types: list[str]) -> WebhookSubscription:
    """Subscribe a URL to event types for the client's university. The secret is returned on the
    object once; it signs every delivery."""
    with transaction.atomic():
        sub = WebhookSubscription.objects.create(
            organization_id=client.organization_id,
            client=client,
            url=url,
            event_types=sorted(set(event_types)),
            secret="whsec_" + secrets.token_urlsafe(32),
        )
        AuditEntry.objects.create(
            organization_id=client.organization_id,
            client=client,
            endpoint="webhooks",
            action="webhooks.create",
            counts={"created": 1},
            detail={"subscription_id": sub.pk},
        )
    return sub


def subscription_delete(*, client: ApiClient, subscription_id: int) -> None:
    """Remove a subscription (and its delivery log) of the client's university."""
    with transaction.atomic():
        deleted, _detail = WebhookSubscription.objects.filter(
            pk=subscription_id, organization_id=client.organization_id
        ).delete()
        if not deleted:
            raise NotFound(_("Not found."), extra={"code": "not_found"})
        AuditEntry.objects.create(
            organization_id=client.organization_id,
            client=client,
            endpoint="webhooks",
            action="webhooks.delete",
            counts={"deleted": 1},
            detail={"subscription_id": subscription_id},
        )


def delivery_replay(*, client: ApiClient, subscription_id: int, delivery_id: int) -> WebhookDelivery:
    """Send a delivery again (delivered or given up): back to pending, due now."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update()
            .filter(
                pk=delivery_id,
                subscription_id=subscription_id,
                subscription__organization_id=client.organization_id,
            )
            .first()
        )
        if delivery is None:
            raise NotFound(_("Not found."), extra={"code": "not_found"})
        if delivery.status in (WebhookDelivery.Status.PENDING, WebhookDelivery.Status.SENDING):
            raise WebhookRefused(_("This delivery is already on its way."), extra={"code": "already_pending"})
        delivery.status = WebhookDelivery.Status.PENDING
        delivery.next_attempt_at = timezone.now()
        delivery.attempts = 0
        delivery.save(update_fields=["status", "next_attempt_at", "attempts", "updated_at"])
        AuditEntry.objects.create(
            organization_id=client.organization_id,
            client=client,
            endpoint="webhooks/deliveries/replay",
            action="webhooks.replay",
            counts={"replayed": 1},
            detail={"delivery_id": delivery.pk},
        )
    transaction.on_commit(enqueue_tick, robust=True)
    return delivery


def events_dispatch(*, limit: int = 1000) -> int:
    """Fan undispatched outbox events out into one pending delivery per matching subscription
    active now. Returns how many events were dispatched."""
    now = timezone.now()
    with transaction.atomic():
        events = list(
            OutboxEvent.objects.select_for_update(skip_locked=True)
            .filter(dispatched_at__isnull=True)
            .order_by("id")
            .values_list("pk", "event_type", "organization_id", "user_id")[:limit]
        )
        if not events:
            return 0
        org_ids = {e[2] for e in events if e[2] is not None}
        subs: dict[int, list[tuple[int, set]]] = {}
        for pk, org_id, types in WebhookSubscription.objects.filter(
            organization_id__in=org_ids, is_active=True
        ).values_list("pk", "organization_id", "event_types"):
            subs.setdefault(org_id, []).append((pk, set(types)))
        deliveries = [
            WebhookDelivery(subscription_id=sub_pk, event_id=pk, user_id_key=user_id, next_attempt_at=now)
            for pk, event_type, org_id, user_id in events
            for sub_pk, types in subs.get(org_id, [])
            if event_type in types
        ]
        WebhookDelivery.objects.bulk_create(deliveries, batch_size=2000, ignore_conflicts=True)
        OutboxEvent.objects.filter(pk__in=[e[0] for e in events]).update(dispatched_at=now)
    return len(events)


def subscriptions_due() -> list[int]:
    """Subscriptions with a delivery due now (or a sending lease expired)."""
    now = timezone.now()
    due = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now)
    stale = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.SENDING, claimed_at__lt=now - LEASE)
    return sorted(
        set(due.values_list("subscription_id", flat=True)) | set(stale.values_list("subscription_id", flat=True))
    )


def _claim(*, subscription_id: int, limit: int) -> tuple[WebhookSubscription | None, list[WebhookDelivery]]:
    now = timezone.now()
    with transaction.atomic():
        sub = WebhookSubscription.objects.select_for_update().filter(pk=subscription_id, is_active=True).first()
        if sub is None:
            return None, []
        # Expired leases: the worker that held them died; they are pending again.
        WebhookDelivery.objects.filter(
            subscription=sub, status=WebhookDelivery.Status.SENDING, claimed_at__lt=now - LEASE
        ).update(status=WebhookDelivery.Status.PENDING)
        open_rows = list(
            WebhookDelivery.objects.filter(
                subscription=sub,
                status__in=[WebhookDelivery.Status.PENDING, WebhookDelivery.Status.SENDING],
            )
            .order_by("event_id")
            .only("pk", "status", "user_id_key", "next_attempt_at", "event_id", "attempts")[: limit * 10]
        )
        blocked: set = set()
        claimed: list[WebhookDelivery] = []
        for d in open_rows:
            key = d.user_id_key
            if key in blocked:
                continue
            # Whatever happens to this one, later deliveries of the same learner wait for it.
            blocked.add(key)
            if d.status == WebhookDelivery.Status.PENDING and d.next_attempt_at <= now and len(claimed) < limit:
                claimed.append(d)
        WebhookDelivery.objects.filter(pk__in=[d.pk for d in claimed]).update(
            status=WebhookDelivery.Status.SENDING, claimed_at=now
        )
    return sub, claimed


def _body(event: OutboxEvent) -> bytes:
    user = event.user
    data = dict(event.payload)
    if user is not None and "learner" not in data:
        # A stand-in reads as the invitee its roster row describes: its login address is
        # undeliverable and would tell that the row's address has an account (sync.py).
        data["learner"] = {"external_id": user.external_id, "email": user.display_email}
    envelope = {
        "id": event.pk,
        "type": event.event_type,
        "created_at": event.created_at.isoformat(),
        "data": data,
    }
    return json.dumps(envelope, separators=(",", ":"), sort_keys=True).encode()


def _backoff(attempts: int) -> timedelta:
    seconds = settings.WEBHOOK_RETRY_BASE_SECONDS * (2 ** max(attempts - 1, 0))
    return timedelta(seconds=min(seconds, settings.WEBHOOK_RETRY_MAX_SECONDS))


def webhooks_deliver(*, subscription_id: int, limit: int = 100) -> dict:
    """Send the subscription's due deliveries, learner order kept. A failure schedules a retry
    with exponential backoff and holds that learner's later events back. Returns counts."""
    sub, claimed = _claim(subscription_id=subscription_id, limit=limit)
    result = {"delivered": 0, "failed": 0}
    if sub is None or not claimed:
        return result
    events = {e.pk: e for e in OutboxEvent.objects.filter(pk__in=[d.event_id for d in claimed]).select_related("user")}
    try:
        target, refused = targets.target_resolve(sub.url), ""
    except targets.TargetRefused as exc:
        # Logged on each delivery of the round and retried on the usual backoff: the university
        # may fix its DNS; nothing is sent meanwhile.
        target, refused = None, f"refused: {exc.message}"
    failed_keys: set = set()
    for d in claimed:
        event = events[d.event_id]
        if d.user_id_key in failed_keys:
            # An earlier event of this learner failed in this round: keep the order, retry later.
            WebhookDelivery.objects.filter(pk=d.pk).update(status=WebhookDelivery.Status.PENDING)
            continue
        body = _body(event)
        ts = int(time.time())
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(secret=sub.secret, timestamp=ts, body=body),
            "Kafaat-Event-Id": str(event.pk),
            "Kafaat-Event-Type": event.event_type,
            "Kafaat-Delivery-Id": str(d.pk),
            "User-Agent": "Kafaat-Webhooks/1",
        }
        status_code, error = None, ""
        if target is None:
            ok, error = False, refused[:1000]
        else:
            try:
                status_code = target.post(body=body, headers=headers, timeout=settings.WEBHOOK_TIMEOUT_SECONDS)
                ok = 200 <= status_code < 300
                if not ok:
                    error = f"HTTP {status_code}"
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                ok, error = False, f"{exc.__class__.__name__}: {exc}"[:1000]
        now = timezone.now()
        attempts = d.attempts + 1
        if ok:
            WebhookDelivery.objects.filter(pk=d.pk).update(
                status=WebhookDelivery.Status.DELIVERED,
                attempts=attempts,
                last_status_code=status_code,
                last_error="",
                delivered_at=now,
                updated_at=now,
            )
            result["delivered"] += 1
        else:
            failed_keys.add(d.user_id_key)
            dead = attempts >= settings.WEBHOOK_MAX_ATTEMPTS
            WebhookDelivery.objects.filter(pk=d.pk).update(
                status=WebhookDelivery.Status.DEAD if dead else WebhookDelivery.Status.PENDING,
                attempts=attempts,
                last_status_code=status_code,
                last_error=error,
                next_attempt_at=now + _backoff(attempts),
                updated_at=now,
            )
            result["failed"] += 1
    if target is not None:
        target.close()
    return result


def webhooks_tick() -> dict:
    """Beat's heartbeat: dispatch new events, then deliver what is due, subscription by
    subscription (each in its own task so one slow receiver does not hold the others)."""
    from .. import tasks  # integrations.tasks imports these services

    dispatched, batch = 0, 1000
    for _round in range(50):  # a 10,000-row sync is 10 rounds; bounded so the task stays short
        n = events_dispatch(limit=batch)
        dispatched += n
        if n < batch:
            break
    due = subscriptions_due()
    for sub_id in due:
        if not enqueue(tasks.webhooks_deliver, sub_id):
            break  # the broker is down: every subscription waits for the next tick
    return {"dispatched": dispatched, "subscriptions": len(due)}

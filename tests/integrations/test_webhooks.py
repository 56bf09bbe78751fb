import hashlib
import hmac
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.models import WebhookDelivery
from integrations.services import webhooks
from kernel.models import OutboxEvent
from tests.factories import CourseFactory, make_quiz
from tests.processes import wait_for

from .conftest import Api, row
from .helpers import RIGHT, WRONG, graded, learner
from .receiver import Receiver


def verify(secret: str, header: str, body: bytes, tolerance: int = 300) -> bool:
    """The README's verification snippet, as a university would run it."""
    parts = dict(p.split("=", 1) for p in header.split(","))
    timestamp, signature = int(parts["t"]), parts["v1"]
    if abs(time.time() - timestamp) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()


def subscribe(api, url, types=("enrollment.changed", "submission.graded", "course.completed")):
    resp = api.post("webhooks", {"url": url, "event_types": list(types)})
    assert resp.status_code == 201, resp.json()
    return resp.json()


def test_subscriptions_are_created_listed_and_deleted_with_a_secret_shown_once(api):
    created = subscribe(api, "https://sis.example.ma/hooks", ["course.completed", "learner.erased"])
    assert created["secret"].startswith("whsec_")
    listed = api.get("webhooks").json()
    assert listed == [{k: v for k, v in created.items() if k != "secret"}]
    assert api.get(f"webhooks/{created['id']}").json()["event_types"] == ["course.completed", "learner.erased"]
    assert api.delete(f"webhooks/{created['id']}").status_code == 204
    assert api.get("webhooks").json() == []


def test_bad_subscriptions_get_field_errors(api):
    resp = api.post("webhooks", {"url": "ftp://x", "event_types": ["nope"]})
    assert resp.status_code == 400
    fields = {d["field"] for d in resp.json()["error"]["details"]}
    assert fields == {"url", "event_types.0"}


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/x",
        "http://localhost/x",
        "https://10.1.2.3/x",
        "http://[::1]/x",
        "http://169.254.169.254/",
    ],
)
def test_subscriptions_to_private_addresses_are_refused(api, settings, url):
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = False
    resp = api.post("webhooks", {"url": url, "event_types": ["course.completed"]})
    assert resp.status_code == 400
    assert resp.json()["error"]["details"][0]["code"] == "private_host"


def test_a_receiver_down_for_an_hour_gets_every_event_in_order_per_learner(api, org, receiver):
    sub = subscribe(api, receiver.url)
    course = CourseFactory()
    quiz = make_quiz()
    api.post("enrollments/sync", {"rows": [row("amina", course.code), row("omar", course.code)]})
    amina = learner(org, "amina2")
    graded(amina, quiz, WRONG)
    graded(amina, quiz, RIGHT)  # graded + course.completed
    api.post("enrollments/sync", {"rows": [row("amina", course.code, "dropped"), row("omar", course.code)]})
    events = list(OutboxEvent.objects.filter(organization=org).order_by("id"))
    assert len(events) == 6

    # The receiver is down (nothing listens on its port) for an hour of retries.
    webhooks.events_dispatch()
    start = timezone.now()
    for attempt in range(9):
        if attempt:  # the clock: jump to when the retry is due
            WebhookDelivery.objects.filter(status="pending").update(next_attempt_at=timezone.now())
        result = webhooks.webhooks_deliver(subscription_id=sub["id"])
        assert result["delivered"] == 0 and result["failed"] == 3  # one per learner: the others wait
    head = WebhookDelivery.objects.filter(attempts=9).first()
    assert "ConnectionError" in head.last_error
    assert timedelta(seconds=2550) < head.next_attempt_at - head.updated_at < timedelta(seconds=2570)
    # Exponential backoff: 10 s, 20 s, ... the ninth failure waits 2560 s; together more than an hour.
    waits = sum(10 * 2**i for i in range(9))
    assert waits > 3600
    assert WebhookDelivery.objects.filter(attempts=0).count() == 3  # later events held back
    assert not WebhookDelivery.objects.filter(status="dead").exists()

    webhooks.webhooks_deliver(subscription_id=sub["id"])  # not due yet: nothing is sent
    assert WebhookDelivery.objects.filter(attempts=10).count() == 0

    receiver.start()
    WebhookDelivery.objects.filter(status="pending").update(next_attempt_at=timezone.now())
    for _ in range(5):
        webhooks.webhooks_deliver(subscription_id=sub["id"])
    assert WebhookDelivery.objects.filter(status="delivered").count() == 6
    assert sorted(r["json"]["id"] for r in receiver.received) == [e.pk for e in events]
    by_learner = {}
    for r in receiver.received:
        by_learner.setdefault(r["json"]["data"]["learner"]["external_id"], []).append(r["json"]["id"])
    assert all(ids == sorted(ids) for ids in by_learner.values())
    assert set(by_learner) == {"amina", "omar", "amina2"}
    for r in receiver.received:
        assert verify(sub["secret"], r["headers"]["Kafaat-Signature"], r["body"])
        assert not verify("whsec_wrong", r["headers"]["Kafaat-Signature"], r["body"])
        assert r["headers"]["Kafaat-Event-Type"] == r["json"]["type"]
    assert (timezone.now() - start) < timedelta(minutes=5)  # time was driven, not slept


def test_deliveries_are_logged_and_can_be_replayed(api, org, receiver):
    receiver.start()
    sub = subscribe(api, receiver.url, ["enrollment.changed"])
    api.post("enrollments/sync", {"rows": [row("amina", CourseFactory().code)]})
    webhooks.events_dispatch()
    webhooks.webhooks_deliver(subscription_id=sub["id"])
    (log,) = api.get(f"webhooks/{sub['id']}/deliveries").json()
    assert log["status"] == "delivered" and log["attempts"] == 1 and log["last_status_code"] == 200

    replay = api.post(f"webhooks/{sub['id']}/deliveries/{log['id']}/replay")
    assert replay.status_code == 202 and replay.json()["status"] == "pending"
    assert api.post(f"webhooks/{sub['id']}/deliveries/{log['id']}/replay").status_code == 400
    webhooks.webhooks_deliver(subscription_id=sub["id"])
    assert len(receiver.received) == 2
    assert receiver.received[0]["body"] == receiver.received[1]["body"]


def test_a_delivery_that_keeps_failing_is_given_up_and_no_longer_blocks(api, org, receiver, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    receiver.status = 500
    receiver.start()
    sub = subscribe(api, receiver.url, ["enrollment.changed"])
    course = CourseFactory()
    api.post("enrollments/sync", {"rows": [row("amina", course.code)]})
    api.post("enrollments/sync", {"rows": [row("amina", course.code, "dropped")]})
    webhooks.events_dispatch()
    for _ in range(2):
        webhooks.webhooks_deliver(subscription_id=sub["id"])
        WebhookDelivery.objects.filter(status="pending").update(next_attempt_at=timezone.now())
    first, second = WebhookDelivery.objects.order_by("id")
    assert first.status == "dead" and first.last_status_code == 500 and second.attempts == 0
    receiver.status = 200
    webhooks.webhooks_deliver(subscription_id=sub["id"])
    second.refresh_from_db()
    assert second.status == "delivered"


def test_events_before_a_subscription_or_of_other_types_are_not_sent(api, org, receiver):
    course = CourseFactory()
    api.post("enrollments/sync", {"rows": [row("early", course.code)]})
    webhooks.events_dispatch()
    sub = subscribe(api, receiver.url, ["course.completed"])
    api.post("enrollments/sync", {"rows": [row("late", course.code)]})
    webhooks.events_dispatch()
    assert not WebhookDelivery.objects.filter(subscription_id=sub["id"]).exists()


@pytest.mark.worker
def test_the_events_queue_delivers_signed_webhooks_end_to_end(worker, receiver):
    from tests.factories import OrganizationFactory

    receiver.start()
    api = Api(OrganizationFactory())
    sub = subscribe(api, receiver.url, ["enrollment.changed"])
    resp = api.post("enrollments/sync", {"rows": [row("amina", CourseFactory().code)]})
    assert resp.status_code == 200
    # The sync's commit nudges the events queue; a real worker fans out and delivers.
    wait_for(lambda: receiver.received, timeout=90, message="the webhook delivery")
    wait_for(lambda: WebhookDelivery.objects.filter(status="delivered").exists(), timeout=60, message="the log")
    (got,) = receiver.received
    assert got["json"]["type"] == "enrollment.changed"
    assert got["json"]["data"]["learner"]["external_id"] == "amina"
    assert verify(sub["secret"], got["headers"]["Kafaat-Signature"], got["body"])

"""LTI Assignment and Grade Services: every grade of a launched assignment goes back to the line
item of the link it was launched from.

Each `submission.graded` outbox event (grader, regrade, review, override) of a learner with an
LtiGradeLink for that assignment becomes one LtiScoreDelivery, in the grading transaction
(`_record`, subscribed to kernel's `outbox.recorded`): unique per (link, event), so a grade is
queued once however often the event is heard. A link's deliveries go out in event order, one
round at a time under the link's row lock, with a lease: a worker that dies mid-round leaves its
deliveries to the next round once the lease expires. A platform that is down gets the score later
with exponential backoff; nothing is lost, nothing is sent twice by two workers.

Network I/O never happens inside a transaction."""

import logging
from datetime import timedelta

import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.exception import LtiException, LtiServiceException
from pylti1p3.grade import Grade
from pylti1p3.service_connector import ServiceConnector

from kernel.events import OUTBOX_RECORDED, subscribe
from kernel.models import OutboxEvent
from kernel.tasks import enqueue

from ..models import LtiGradeLink, LtiScoreDelivery
from .lti import http_session, registration_for

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=120)
GRADED = "submission.graded"


def enqueue_tick() -> None:
    from .. import tasks  # integrations.tasks imports these services

    enqueue(tasks.lti_scores_tick)


@subscribe(OUTBOX_RECORDED)
def _record(*, event: OutboxEvent, **facts) -> None:
    """In the grading transaction: queue the grade for every line item it goes to."""
    if event.event_type != GRADED or event.user_id is None:
        return
    assignment_id = (event.payload or {}).get("assignment_id")
    if not assignment_id:
        return
    link_ids = list(
        LtiGradeLink.objects.filter(
            user_id=event.user_id, assignment_id=assignment_id, platform__is_active=True
        ).values_list("pk", flat=True)
    )
    if not link_ids:
        return
    now = timezone.now()
    LtiScoreDelivery.objects.bulk_create(
        [LtiScoreDelivery(link_id=pk, event=event, next_attempt_at=now) for pk in link_ids], ignore_conflicts=True
    )
    transaction.on_commit(enqueue_tick, robust=True)


def links_due() -> list[int]:
    now = timezone.now()
    due = LtiScoreDelivery.objects.filter(status=LtiScoreDelivery.Status.PENDING, next_attempt_at__lte=now)
    stale = LtiScoreDelivery.objects.filter(status=LtiScoreDelivery.Status.SENDING, claimed_at__lt=now - LEASE)
    return sorted(set(due.values_list("link_id", flat=True)) | set(stale.values_list("link_id", flat=True)))


def _claim(*, link_id: int, limit: int) -> tuple[LtiGradeLink | None, list[LtiScoreDelivery]]:
    """Under the link's row lock: the link's open deliveries in event order, up to the first one
    not yet due (later grades wait for it)."""
    now = timezone.now()
    with transaction.atomic():
        link = LtiGradeLink.objects.select_for_update().select_related("platform").filter(pk=link_id).first()
        if link is None:
            return None, []
        LtiScoreDelivery.objects.filter(
            link=link, status=LtiScoreDelivery.Status.SENDING, claimed_at__lt=now - LEASE
        ).update(status=LtiScoreDelivery.Status.PENDING)
        claimed = []
        for d in LtiScoreDelivery.objects.filter(
            link=link, status__in=[LtiScoreDelivery.Status.PENDING, LtiScoreDelivery.Status.SENDING]
        ).order_by("event_id")[:limit]:
            if d.status != LtiScoreDelivery.Status.PENDING or d.next_attempt_at > now:
                break
            claimed.append(d)
        LtiScoreDelivery.objects.filter(pk__in=[d.pk for d in claimed]).update(
            status=LtiScoreDelivery.Status.SENDING, claimed_at=now
        )
    return link, claimed


def grade_for(*, link: LtiGradeLink, event: OutboxEvent) -> Grade:
    """The AGS score of one grade: given and maximum points, complete and fully graded, stamped
    with the time it was graded (a platform keeps the latest timestamp, so order holds even if an
    older score arrives late)."""
    payload = event.payload or {}
    graded_at = payload.get("graded_at") or event.created_at.isoformat()
    return (
        Grade()
        .set_score_given(float(payload.get("score") or 0))
        .set_score_maximum(float(payload.get("max_score") or 0))
        .set_timestamp(graded_at)
        .set_activity_progress("Completed")
        .set_grading_progress("FullyGraded")
        .set_user_id(link.sub)
    )


def _backoff(attempts: int) -> timedelta:
    seconds = settings.LTI_SCORE_RETRY_BASE_SECONDS * (2 ** max(attempts - 1, 0))
    return timedelta(seconds=min(seconds, settings.LTI_SCORE_RETRY_MAX_SECONDS))


def _error_text(exc: Exception) -> str:
    if isinstance(exc, LtiServiceException):
        return str(exc)[:1000]
    return f"{exc.__class__.__name__}: {exc}"[:1000]


def scores_deliver(*, link_id: int, limit: int = 20) -> dict:
    """Send a link's due scores in order. A failure schedules a retry with backoff and holds the
    link's later scores back (they go after it). Returns counts."""
    link, claimed = _claim(link_id=link_id, limit=limit)
    result = {"delivered": 0, "failed": 0}
    if link is None or not claimed:
        return result
    events = {e.pk: e for e in OutboxEvent.objects.filter(pk__in=[d.event_id for d in claimed])}
    service = AssignmentsGradesService(
        ServiceConnector(registration_for(link.platform), http_session()),
        {"scope": list(link.scopes), "lineitem": link.lineitem_url},
    )
    for i, d in enumerate(claimed):
        now = timezone.now()
        try:
            service.put_grade(grade_for(link=link, event=events[d.event_id]))
        except (LtiException, LtiServiceException, requests.RequestException, ValueError) as exc:
            attempts = d.attempts + 1
            dead = attempts >= settings.LTI_SCORE_MAX_ATTEMPTS
            LtiScoreDelivery.objects.filter(pk=d.pk).update(
                status=LtiScoreDelivery.Status.DEAD if dead else LtiScoreDelivery.Status.PENDING,
                attempts=attempts,
                last_error=_error_text(exc),
                next_attempt_at=now + _backoff(attempts),
                updated_at=now,
            )
            # The rest of this round waits behind the failed one, in order.
            LtiScoreDelivery.objects.filter(pk__in=[x.pk for x in claimed[i + 1 :]]).update(
                status=LtiScoreDelivery.Status.PENDING
            )
            result["failed"] += 1
            log.info("LTI score for link %s not delivered: %s", link.pk, _error_text(exc))
            break
        LtiScoreDelivery.objects.filter(pk=d.pk).update(
            status=LtiScoreDelivery.Status.DELIVERED,
            attempts=d.attempts + 1,
            last_error="",
            delivered_at=now,
            updated_at=now,
        )
        result["delivered"] += 1
    return result


def scores_tick() -> dict:
    """Beat's heartbeat (and the nudge after a grade): one task per link with a score due."""
    from .. import tasks

    due = links_due()
    for link_id in due:
        if not enqueue(tasks.lti_scores_deliver, link_id):
            break  # broker down: the next tick sends them
    return {"links": len(due)}

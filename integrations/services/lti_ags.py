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
import time
from datetime import timedelta

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.exception import LtiException, LtiServiceException
from pylti1p3.grade import Grade
from pylti1p3.service_connector import ServiceConnector

from grading.models import Submission
from kernel.events import OUTBOX_RECORDED, subscribe
from kernel.models import OutboxEvent
from kernel.tasks import enqueue

from ..models import LtiGradeLink, LtiScoreDelivery
from .lti import http_session, registration_for

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=300)  # above the deliver task's hard time limit (120 s): a live worker keeps its claim
ROUND = 5  # scores per round: 5 x (token + score) at the 10 s timeout stays inside the task's limit
RETRYABLE = {401, 408, 425, 429}  # 4xx worth a retry (an expired token, a timeout, a rate limit)
GRADED = "submission.graded"


def enqueue_tick() -> None:
    from .. import tasks  # integrations.tasks imports these services

    enqueue(tasks.lti_scores_tick)


def enqueue_links(link_ids) -> None:
    """After a grade's commit: one delivery task per link it went to (a bulk regrade of a thousand
    learners is a thousand tasks, never one per link per grade)."""
    from .. import tasks

    for pk in sorted(set(link_ids)):
        if not enqueue(tasks.lti_scores_deliver, pk):
            break  # the broker is down: beat's tick sends them


def _nudge_after_commit(link_ids: list[int]) -> None:
    """The links of every grade of this transaction, nudged once when it commits."""
    conn = transaction.get_connection()
    pending = getattr(conn, "_lti_links_pending", None)
    if pending is None:
        pending = conn._lti_links_pending = set()

        def flush():
            links, conn._lti_links_pending = conn._lti_links_pending or set(), None
            enqueue_links(links)

        transaction.on_commit(flush, robust=True)
    pending.update(link_ids)


@subscribe(OUTBOX_RECORDED)
def _record(*, events: list[OutboxEvent], **facts) -> None:
    """In the grading transaction: queue each grade for every line item it goes to (one query for
    the links of the whole write, however many grades it holds)."""
    grades = {}  # (user, assignment) -> the write's events for it
    for event in events:
        assignment_id = (event.payload or {}).get("assignment_id")
        if event.event_type == GRADED and event.user_id is not None and assignment_id:
            grades.setdefault((event.user_id, assignment_id), []).append(event)
    if not grades:
        return
    users, assignments = {u for u, _a in grades}, {a for _u, a in grades}
    links = LtiGradeLink.objects.filter(user_id__in=users, assignment_id__in=assignments, platform__is_active=True)
    now, deliveries, link_ids = timezone.now(), [], []
    for pk, user_id, assignment_id in links.values_list("pk", "user_id", "assignment_id"):
        for event in grades.get((user_id, assignment_id), ()):
            deliveries.append(LtiScoreDelivery(link_id=pk, event=event, next_attempt_at=now))
            link_ids.append(pk)
    if not deliveries:
        return
    LtiScoreDelivery.objects.bulk_create(deliveries, ignore_conflicts=True)
    _nudge_after_commit(link_ids)


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


def _superseded(link: LtiGradeLink, event: OutboxEvent) -> bool:
    """A regrade of an earlier attempt: the gradebook (and so the LMS) keeps the latest attempt's
    grade, which this is not."""
    sub_id = (event.payload or {}).get("submission_id")
    if not sub_id:
        return False  # an override with no submission: it is the grade
    latest = (
        Submission.objects.filter(user_id=link.user_id, assignment_id=link.assignment_id)
        .order_by("-attempt")
        .values_list("pk", flat=True)
        .first()
    )
    return latest is not None and latest != sub_id


def _permanent(exc: Exception) -> bool:
    """An LMS's refusal that no retry will change (400, 403, 404, 409, 422...)."""
    response = getattr(exc, "response", None)
    code = getattr(response, "status_code", None)
    return isinstance(code, int) and 400 <= code < 500 and code not in RETRYABLE


def scores_deliver(*, link_id: int, limit: int = ROUND, budget_seconds: float = 60.0) -> dict:
    """Send a link's due scores in order, round after round while more are due (a grade
    committed while a round was sending is taken by the next round, not left to beat's tick),
    within `budget_seconds` (below the task's time limit). Returns counts."""
    total = {"delivered": 0, "failed": 0, "skipped": 0}
    deadline = time.monotonic() + budget_seconds
    services: dict = {}  # one AGS client (and access token) for all the rounds of this task
    while time.monotonic() < deadline:
        result = _deliver_round(link_id=link_id, limit=limit, services=services)
        for key in total:
            total[key] += result.get(key, 0)
        if result.get("failed") or not (result.get("delivered") or result.get("skipped")):
            break
    return total


def _deliver_round(*, link_id: int, limit: int, services: dict) -> dict:
    """One round: a failure schedules a retry with backoff and holds the link's later scores back
    (they go after it)."""
    link, claimed = _claim(link_id=link_id, limit=limit)
    result = {"delivered": 0, "failed": 0}
    if link is None or not claimed:
        return result
    events = {e.pk: e for e in OutboxEvent.objects.filter(pk__in=[d.event_id for d in claimed])}
    connector = services.get("connector")
    if connector is None:
        connector = services["connector"] = ServiceConnector(registration_for(link.platform), http_session())
    service = AssignmentsGradesService(connector, {"scope": list(link.scopes), "lineitem": link.lineitem_url})
    result["skipped"] = 0
    for i, d in enumerate(claimed):
        now = timezone.now()
        event = events[d.event_id]
        if _superseded(link, event):
            LtiScoreDelivery.objects.filter(pk=d.pk).update(status=LtiScoreDelivery.Status.SKIPPED, updated_at=now)
            result["skipped"] += 1
            continue
        try:
            service.put_grade(grade_for(link=link, event=event))
        except (LtiException, LtiServiceException, requests.RequestException, ValueError) as exc:
            attempts = d.attempts + 1
            dead = attempts >= settings.LTI_SCORE_MAX_ATTEMPTS or _permanent(exc)
            retry_at = now + _backoff(attempts)
            LtiScoreDelivery.objects.filter(pk=d.pk).update(
                status=LtiScoreDelivery.Status.DEAD if dead else LtiScoreDelivery.Status.PENDING,
                attempts=attempts,
                last_error=_error_text(exc),
                next_attempt_at=retry_at,
                updated_at=now,
            )
            if not dead:
                # The link's later grades wait behind this one, in order, and are not due before
                # it: beat's tick does not wake a blocked link every 10 s during an outage.
                LtiScoreDelivery.objects.filter(
                    link=link,
                    status__in=[LtiScoreDelivery.Status.PENDING, LtiScoreDelivery.Status.SENDING],
                    event_id__gt=d.event_id,
                ).filter(Q(status=LtiScoreDelivery.Status.PENDING) | Q(pk__in=[x.pk for x in claimed[i + 1 :]])).update(
                    status=LtiScoreDelivery.Status.PENDING, next_attempt_at=retry_at
                )
            else:
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

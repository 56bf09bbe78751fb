"""Reads of the university API, each scoped to the calling client's organization: another
university's records are simply not found. Lists cost a constant number of queries.

Incremental reads page by a stable cursor over (updated_at, id): a row changed after a client
read it moves to the end, so a client that follows `next` until it is null, then keeps its last
cursor (or `updated_since`), sees every change."""

import base64
import binascii
import json
from datetime import datetime

from django.db.models import Count, F, Q
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from courses.models import Assignment, Course, Enrollment, LearningPath, PathCourse, PublicationStatus
from grading.models import Submission
from grading.selectors import latest_graded_per_learner
from kernel.errors import ApplicationError, NotFound

from .models import ApiClient, LearnerInvite, WebhookDelivery, WebhookSubscription

MAX_LIMIT = 1000
DEFAULT_LIMIT = 100


class BadQuery(ApplicationError):
    pass


def _not_found():
    return NotFound(_("Not found."), extra={"code": "not_found"})


# --- Catalogue: published content only ------------------------------------------------------


def path_list() -> list[LearningPath]:
    return list(
        LearningPath.objects.filter(status=PublicationStatus.PUBLISHED)
        .order_by("code")
        .prefetch_related("path_courses__course")
    )


def path_get(*, code: str) -> LearningPath:
    path = (
        LearningPath.objects.filter(status=PublicationStatus.PUBLISHED, code=code)
        .prefetch_related("path_courses__course")
        .first()
    )
    if path is None:
        raise _not_found()
    return path


def path_course_codes(path: LearningPath) -> list[dict]:
    steps: list[PathCourse] = sorted(path.path_courses.all(), key=lambda pc: pc.position)
    return [
        {"position": s.position, "course_code": s.course.code, "gate": s.gate}
        for s in steps
        if s.course.status == PublicationStatus.PUBLISHED
    ]


def course_list() -> list[Course]:
    return list(Course.objects.filter(status=PublicationStatus.PUBLISHED).order_by("code"))


def course_get(*, code: str) -> Course:
    course = Course.objects.filter(status=PublicationStatus.PUBLISHED, code=code).first()
    if course is None:
        raise _not_found()
    return course


def assignment_list(*, course: Course) -> list[Assignment]:
    return list(
        Assignment.objects.filter(course=course, current_version__isnull=False)
        .select_related("module")
        .order_by("module__position", "position", "id")
    )


# --- Cursor pagination ----------------------------------------------------------------------


def encode_cursor(updated_at: datetime, pk: int) -> str:
    raw = json.dumps([updated_at.isoformat(), pk]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        stamp, pk = json.loads(base64.urlsafe_b64decode(padded.encode()))
        moment = parse_datetime(stamp)
        if moment is None or not isinstance(pk, int):
            raise ValueError
        return moment, pk
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, json.JSONDecodeError):
        raise BadQuery(_("This cursor is not valid."), field="cursor", extra={"code": "invalid_cursor"}) from None


def _page(qs, *, updated_since: datetime | None, cursor: str | None, limit: int, field: str = "updated_at"):
    if updated_since is not None:
        qs = qs.filter(**{f"{field}__gt": updated_since})
    if cursor:
        moment, pk = decode_cursor(cursor)
        qs = qs.filter(Q(**{f"{field}__gt": moment}) | Q(**{field: moment, "pk__gt": pk}))
    rows = list(qs.order_by(field, "pk")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(getattr(rows[-1], field), rows[-1].pk) if rows else cursor
    return rows, next_cursor, more


def enrollment_page(*, client: ApiClient, updated_since=None, cursor=None, limit=DEFAULT_LIMIT):
    qs = Enrollment.objects.filter(
        user__organization_id=client.organization_id, user__external_id__isnull=False
    ).select_related("user", "course")
    return _page(qs, updated_since=updated_since, cursor=cursor, limit=limit)


def learner_get(*, client: ApiClient, external_id: str):
    """A learner of the client's university, with their enrollments (two queries)."""
    from django.contrib.auth import get_user_model
    from django.db.models import Prefetch

    if "\x00" in external_id:
        raise _not_found()
    learner = (
        get_user_model()
        .objects.filter(organization_id=client.organization_id, external_id=external_id)
        .prefetch_related(Prefetch("enrollments", queryset=Enrollment.objects.select_related("course").order_by("id")))
        .first()
    )
    if learner is None:
        raise _not_found()
    return learner


def completion_page(*, client: ApiClient, updated_since=None, cursor=None, limit=DEFAULT_LIMIT):
    qs = Enrollment.objects.filter(
        user__organization_id=client.organization_id, user__external_id__isnull=False, completed_at__isnull=False
    ).select_related("user", "course")
    return _page(qs, updated_since=updated_since, cursor=cursor, limit=limit)


def grade_page(*, client: ApiClient, updated_since=None, cursor=None, limit=DEFAULT_LIMIT):
    """One row per (learner, assignment): the latest graded attempt."""
    qs = (
        latest_graded_per_learner(
            Submission.objects.filter(user__organization_id=client.organization_id, user__external_id__isnull=False)
        )
        .select_related("user", "assignment__course")
        .only(
            "pk",
            "attempt",
            "score",
            "max_score",
            "graded_at",
            "updated_at",
            "user__external_id",
            "user__email",
            "user__roster_email",
            "assignment__id",
            "assignment__title",
            "assignment__course__code",
        )
    )
    return _page(qs, updated_since=updated_since, cursor=cursor, limit=limit)


# --- Webhooks ---------------------------------------------------------------------------------


def subscription_list(*, client: ApiClient) -> list[WebhookSubscription]:
    return list(WebhookSubscription.objects.filter(organization_id=client.organization_id).order_by("id"))


def subscription_get(*, client: ApiClient, subscription_id: int) -> WebhookSubscription:
    sub = WebhookSubscription.objects.filter(pk=subscription_id, organization_id=client.organization_id).first()
    if sub is None:
        raise _not_found()
    return sub


def delivery_list(*, client: ApiClient, subscription_id: int, limit: int = DEFAULT_LIMIT) -> list[WebhookDelivery]:
    sub = subscription_get(client=client, subscription_id=subscription_id)
    return list(WebhookDelivery.objects.filter(subscription=sub).select_related("event").order_by("-id")[:limit])


# --- Invitations (a university admin's page) ----------------------------------------------------

UNSENT_INVITES_SHOWN = 200


def invites_unsent(
    *, organization_ids: list[int], limit: int = UNSENT_INVITES_SHOWN, status: str | None = None
) -> dict:
    """The invitations of these organizations not accepted by the mail server yet: failed first
    (they wait for a resend), then pending by age. Counts of each, and the first `limit` rows
    (only `status`'s: "pending" or "failed", if given)."""
    qs = LearnerInvite.objects.filter(organization_id__in=organization_ids, sent_at__isnull=True)
    counts = qs.aggregate(
        failed=Count("id", filter=Q(failed_at__isnull=False)), pending=Count("id", filter=Q(failed_at__isnull=True))
    )
    if status is not None:
        qs = qs.filter(failed_at__isnull=status != "failed")
    rows = list(
        qs.select_related("user", "organization").order_by(F("failed_at").desc(nulls_last=True), "created_at", "id")[
            :limit
        ]
    )
    return {"failed": counts["failed"], "pending": counts["pending"], "rows": rows}

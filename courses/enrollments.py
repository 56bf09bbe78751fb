"""Enrollments read and written in bulk, for a university's roster (the enrollment sync): a
constant number of statements whatever the batch's size, in the caller's transaction. One
learner's own enrollment goes through services.enrollment_create."""

from collections.abc import Iterable
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import connection

from kernel import bulk

from .models import Course, Enrollment, PublicationStatus

User = get_user_model()


def open_course_ids() -> dict[str, int]:
    """Code -> id of every course a roster may enroll learners in (the published ones)."""
    return dict(Course.objects.filter(status=PublicationStatus.PUBLISHED).values_list("code", "id"))


def enrollments_status_map(*, user_ids: Iterable[int], course_ids: Iterable[int]) -> dict[tuple[int, int], str]:
    """(user id, course id) -> status of the enrollments these learners have in these courses."""
    return {
        (uid, cid): status
        for uid, cid, status in Enrollment.objects.filter(
            **bulk.in_filter("user_id", user_ids), course_id__in=list(course_ids)
        ).values_list("user_id", "course_id", "status")
    }


def organization_enrollments_open(*, organization, course_ids: Iterable[int]) -> list[tuple[int, int, int, str, str]]:
    """(pk, user id, course id, status, external id) of the enrollments not dropped, in these
    courses, of this university's learners that have an external id (those its roster manages)."""
    return list(
        Enrollment.objects.filter(
            course_id__in=list(course_ids), user__organization=organization, user__external_id__isnull=False
        )
        .exclude(status=Enrollment.Status.DROPPED)
        .values_list("pk", "user_id", "course_id", "status", "user__external_id")
    )


def enrollments_differing(*, organization, stage: bulk.Stage) -> list[tuple[str, int, int | None, str | None]]:
    """The rows of a staged batch (columns external_id, course_id, status) whose enrollment of
    this university's learner is missing or has another status: (external id, course id, user id
    or None for a learner still to be created, current status or None). Compared in the
    database, one statement: a resync of unchanged rows brings back nothing."""
    users, enrollments = User._meta.db_table, Enrollment._meta.db_table
    # The enrollments through LATERAL ... OFFSET 0 (a fence: a plain subquery is flattened into
    # a join): one probe of the unique index per row, whatever the planner guesses of a new
    # university's learners (it took them for one row, then hashed the whole enrollment table:
    # 0.5-1 s for 10,000 rows).
    query = f"""
        SELECT t.external_id, t.course_id, u.id, e.status FROM {stage.name} t
        LEFT JOIN {users} u ON u.organization_id = %s AND u.external_id = t.external_id
        LEFT JOIN LATERAL (
            SELECT id, status FROM {enrollments} WHERE user_id = u.id AND course_id = t.course_id OFFSET 0
        ) e ON true
        WHERE e.id IS NULL OR e.status <> t.status
    """  # noqa: S608 - table names from the models, values bound
    with connection.cursor() as cursor:
        cursor.execute(query, [organization.pk])
        return cursor.fetchall()


def organization_enrollments_absent(
    *, organization, course_ids: Iterable[int], stage: bulk.Stage
) -> tuple[list[tuple[int, int, int, str, str]], int]:
    """`organization_enrollments_open` compared with a staged batch (columns external_id,
    course_id) in the database: those the batch omits, and how many are open in all (0 when none
    is omitted: nothing to weigh)."""
    users, enrollments = User._meta.db_table, Enrollment._meta.db_table
    query = f"""
        SELECT id, user_id, course_id, status, external_id, total FROM (
            SELECT e.id, e.user_id, e.course_id, e.status, u.external_id, count(*) OVER () AS total,
                   NOT EXISTS (SELECT 1 FROM {stage.name} t
                               WHERE t.external_id = u.external_id AND t.course_id = e.course_id) AS absent
            FROM {enrollments} e JOIN {users} u ON u.id = e.user_id
            WHERE e.course_id = ANY(%s) AND u.organization_id = %s AND u.external_id IS NOT NULL
              AND e.status <> %s
        ) open_ WHERE absent
    """  # noqa: S608 - table names from the models, values bound
    with connection.cursor() as cursor:
        cursor.execute(query, [list(course_ids), organization.pk, Enrollment.Status.DROPPED])
        rows = cursor.fetchall()
    return [r[:5] for r in rows], (rows[0][5] if rows else 0)


def enrollments_upsert_bulk(*, enrollments: list[tuple[int, int, str]], source: str, now: datetime) -> None:
    """Create or set the status of enrollments, (user id, course id, status) each, in one
    statement. `source` only sticks on the new ones."""
    bulk.upsert(
        Enrollment,
        ["user_id", "course_id", "status", "source", "updated_at"],
        [(uid, cid, status, source, now) for uid, cid, status in enrollments],
        unique=["user", "course"],
        update=["status", "updated_at"],
        now=now,
    )


def enrollments_drop_bulk(*, ids: list[int], now: datetime) -> None:
    """Drop (deactivate, never delete) these enrollments."""
    if ids:
        Enrollment.objects.filter(pk__in=ids).update(status=Enrollment.Status.DROPPED, updated_at=now)


def enrollments_move(*, from_user, to_user, now: datetime) -> int:
    """Give `to_user` the enrollments of `from_user` (a stand-in linked to its owner's account):
    where both are enrolled in a course, the moved enrollment's status applies. Locks both
    learners' enrollments; call it inside the caller's transaction. Returns how many moved."""
    theirs = {e.course_id: e for e in Enrollment.objects.select_for_update().filter(user=to_user)}
    moved = 0
    for enrollment in Enrollment.objects.select_for_update().filter(user=from_user):
        mine = theirs.get(enrollment.course_id)
        if mine is None:
            Enrollment.objects.filter(pk=enrollment.pk).update(user=to_user, updated_at=now)
        else:  # already enrolled on their own: the university's status applies
            Enrollment.objects.filter(pk=mine.pk).update(status=enrollment.status, updated_at=now)
            enrollment.delete()
        moved += 1
    return moved

"""Reads of the stored roster."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db.models import Q

from accounts.models import Organization
from courses.models import Course

from .models import RosterClass, RosterCourse, RosterEnrollment, RosterUser

UNMAPPED_LISTED = 100


@dataclass(slots=True)
class StudentSeat:
    """What the enrollment sync needs of one learner in one Kafaat course: active when any of
    their active student enrollments of an active class maps there."""

    user_sourced_id: str
    enrollment_sourced_id: str
    email: str
    given_name: str
    family_name: str
    course_code: str
    active: bool
    has_account: bool


def roster_student_seats(
    *, organization: Organization, class_ids: Iterable[int] = (), user_ids: Iterable[int] = (),
    enrollment_ids: Iterable[int] = (), course_codes: Iterable[str] | None = None,
    left: Mapping[int, int | None] | None = None,
) -> list[StudentSeat]:  # fmt: skip
    """The (learner, course) seats touched by these changed classes, users and enrollments, each
    decided from all of the learner's student enrollments into that course. Only classes mapped
    onto a course (of `course_codes`, when given) count. `left` (class pk -> the course it no
    longer maps to) adds its students' seats in that course: inactive unless another class still
    gives them."""
    base = RosterEnrollment.objects.filter(
        organization=organization, role=RosterEnrollment.Role.STUDENT, roster_class__course__isnull=False
    )
    if course_codes is not None:
        base = base.filter(roster_class__course__code__in=list(course_codes))
    touched = Q(pk__in=list(enrollment_ids)) | Q(roster_class_id__in=list(class_ids))
    touched |= Q(roster_user_id__in=list(user_ids))
    users = set(base.filter(touched).values_list("roster_user_id", flat=True))
    pairs = set(base.filter(touched).values_list("roster_user_id", "roster_class__course_id"))
    left = {pk: cid for pk, cid in (left or {}).items() if cid is not None}
    gone = {
        (uid, left[cls])
        for uid, cls in RosterEnrollment.objects.filter(
            organization=organization, role=RosterEnrollment.Role.STUDENT, roster_class_id__in=list(left)
        ).values_list("roster_user_id", "roster_class_id")
    }
    pairs |= gone
    users |= {uid for uid, _cid in gone}
    seats: dict[tuple[int, int], StudentSeat] = {}
    rows = base.filter(roster_user_id__in=users).values_list(
        "roster_user_id", "roster_class__course_id", "sourced_id", "is_active", "roster_class__is_active",
        "roster_user__sourced_id", "roster_user__email", "roster_user__given_name", "roster_user__family_name",
        "roster_user__is_active", "roster_user__is_enabled", "roster_user__user_id", "roster_class__course__code",
    ).order_by("pk")  # fmt: skip
    for uid, cid, sid, active, class_active, usid, email, given, family, u_active, enabled, account, code in rows:
        if (uid, cid) not in pairs:
            continue
        on = bool(active and class_active and u_active and enabled)
        seat = seats.get((uid, cid))
        if seat is None:
            seats[(uid, cid)] = StudentSeat(usid, sid, email, given, family, code, on, account is not None)
        elif on and not seat.active:
            seat.active, seat.enrollment_sourced_id = True, sid
    missing = gone - set(seats)
    if missing:
        codes = dict(Course.objects.filter(pk__in={cid for _uid, cid in missing}).values_list("pk", "code"))
        wanted = None if course_codes is None else set(course_codes)
        people = {
            row[0]: row[1:]
            for row in RosterUser.objects.filter(pk__in={uid for uid, _cid in missing}).values_list(
                "pk", "sourced_id", "email", "given_name", "family_name", "user_id"
            )
        }
        for uid, cid in missing:
            if wanted is not None and codes.get(cid) not in wanted:
                continue
            usid, email, given, family, account = people[uid]
            seats[(uid, cid)] = StudentSeat(usid, "", email, given, family, codes[cid], False, account is not None)
    return list(seats.values())


def roster_unmapped(*, organization: Organization, limit: int = UNMAPPED_LISTED) -> dict:
    """The university's active classes and courses that map onto none of our courses: how many,
    and the first `limit` sourcedIds of each."""
    out = {}
    for key, model in (("classes", RosterClass), ("courses", RosterCourse)):
        qs = model.objects.filter(organization=organization, is_active=True, course__isnull=True)
        listed = qs.order_by("sourced_id").values_list("sourced_id", flat=True)[:limit]
        out[key] = {"count": qs.count(), "sourced_ids": list(listed)}
    return out


def roster_course_get(*, organization: Organization, sourced_id: str) -> RosterCourse | None:
    return RosterCourse.objects.filter(organization=organization, sourced_id=sourced_id).first()

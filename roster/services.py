"""Writes of the stored roster.

`roster_apply` stores a checked OneRoster package for one university, file by file, in batches
keyed by sourcedId: a record new to us is created, a changed one updated, an unchanged one left
alone (so re-sending the same bulk changes nothing and its counts say so). A bulk file is a full
snapshot of its type: what it omits, of the university's stored records, is deactivated. A delta
row upserts; `tobedeleted` deactivates. Nothing is ever hard-deleted.

References (parentSourcedId, orgSourcedId, classSourcedId...) resolve against what is stored for
the same university once the package's earlier files are written: the package's records first,
then what earlier imports stored; never another university's. A reference that resolves to
nothing is reported through the caller's `error` callback (file, line, column, the quoted value)
and the whole apply is rolled back (RosterInvalid).

`roster_course_map` lets a university admin map a roster course onto one of our courses; an
import never overrides that choice."""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext_lazy

from accounts.models import Organization, OrganizationMembership, User
from courses.enrollments import open_course_ids
from courses.models import Course
from kernel.errors import ApplicationError, PermissionDenied

from .models import (
    AcademicSession,
    Org,
    RosterClass,
    RosterCourse,
    RosterEnrollment,
    RosterInstructor,
    RosterRole,
    RosterUser,
)

BATCH = 1000
ORDER = ["orgs", "academicSessions", "courses", "classes", "users", "roles", "enrollments"]


class RosterInvalid(ApplicationError):
    """Some references of the package resolve to nothing; nothing was stored."""


class RosterRecordIn(Protocol):
    line: int
    values: Mapping[str, str]


ErrorFn = Callable[..., None]  # error(file, line, column, code, message, params=None)


@dataclass
class RosterOutcome:
    """Per file: created, updated, unchanged, deactivated. `changed` holds the pks of the classes,
    users and enrollments this apply created or changed (what the enrollment sync must look at)."""

    counts: dict = field(default_factory=dict)
    changed: dict = field(default_factory=lambda: {"classes": set(), "users": set(), "enrollments": set()})
    # Classes whose Kafaat course changed from one of ours: class pk -> the course it left (its
    # students' seats there are decided again: dropped unless another class still gives them).
    left: dict = field(default_factory=dict)
    error_count: int = 0


def _date(value: str) -> date | None:
    try:
        return parse_date(value) if value else None
    except ValueError:
        return None


def _stamp(value: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parse_datetime(value)
    except ValueError:
        parsed = None
    if parsed is None:
        day = _date(value)
        if day is None:
            return None
        parsed = datetime(day.year, day.month, day.day)
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.UTC)
    return parsed


class _Resolver:
    """sourcedId -> pk of one university's stored records of one model, loaded once per file."""

    def __init__(self, model, organization):
        self.model, self.organization, self._map = model, organization, None

    def get(self, sid: str) -> int | None:
        if self._map is None:
            self._map = dict(self.model.objects.filter(organization=self.organization).values_list("sourced_id", "pk"))
        return self._map.get(sid)

    def reset(self) -> None:
        self._map = None


NOT_FOUND = gettext_lazy("No stored or sent %(what)s has the sourcedId %(value)s.")


class _Apply:
    def __init__(self, *, organization, modes, error: ErrorFn, now):
        self.org, self.modes, self.report, self.now = organization, modes, error, now
        self.out = RosterOutcome()
        self.orgs = _Resolver(Org, organization)
        self.sessions = _Resolver(AcademicSession, organization)
        self.courses = _Resolver(RosterCourse, organization)
        self.classes = _Resolver(RosterClass, organization)
        self.users = _Resolver(RosterUser, organization)
        self.codes = open_course_ids()
        self.org_types: dict[int, str] | None = None
        self.written: dict[str, set[int]] = {}  # per file: pks created or updated by store()

    def error(self, file, line, column, code, message, params=None) -> None:
        self.out.error_count += 1
        self.report(file, line, column, code, message, params)

    def ref(self, resolver, file, rec, column, what, *, required=True, value=None) -> int | None:
        value = rec.values.get(column, "") if value is None else value
        if not value:
            return None
        pk = resolver.get(value)
        if pk is None:
            self.error(file, rec.line, column, "invalid_reference", NOT_FOUND, {"what": what, "value": f'"{value}"'})
        return pk

    def school(self, file, rec, column) -> int | None:
        pk = self.ref(self.orgs, file, rec, column, gettext_lazy("org"))
        if pk is None:
            return None
        if self.org_types is None:
            self.org_types = dict(Org.objects.filter(organization=self.org).values_list("pk", "type"))
        if self.org_types.get(pk) != Org.Type.SCHOOL:
            self.error(file, rec.line, column, "invalid_reference", gettext_lazy("This org is not a school."))
        return pk

    def active(self, rec) -> bool:
        return rec.values.get("status", "") != "tobedeleted"

    # --- one file: compare, then create / update / deactivate in batches ----------------------

    def store(self, name, model, records: Iterable, fields: list[str], build) -> dict[str, int]:
        """Upsert `records` (built into field dicts by `build`, None to skip a bad one) and, for a
        bulk file, deactivate what it omits. Returns sourcedId -> pk of the file's records."""
        mode = self.modes.get(name, "absent")
        counts = {"created": 0, "updated": 0, "unchanged": 0, "deactivated": 0}
        names = [*fields, "is_active", "date_last_modified"]
        existing = {
            row[0]: (row[1], row[2:])
            for row in model.objects.filter(organization=self.org).values_list("sourced_id", "pk", *names)
        }
        create, update, seen = [], [], {}
        for rec in records:
            values = build(rec)
            if values is None:
                continue
            sid = rec.values["sourcedId"]
            values["is_active"] = self.active(rec)
            values["date_last_modified"] = _stamp(rec.values.get("dateLastModified", ""))
            current = existing.get(sid)
            if current is None:
                create.append(model(organization=self.org, sourced_id=sid, **values))
                counts["created"] += 1
                continue
            pk, old = current
            seen[sid] = pk
            if tuple(values[n] for n in names) == old:
                counts["unchanged"] += 1
                continue
            update.append(model(pk=pk, organization=self.org, sourced_id=sid, updated_at=self.now, **values))
            was_active = old[names.index("is_active")]
            counts["deactivated" if was_active and not values["is_active"] else "updated"] += 1
        for i in range(0, len(create), BATCH):
            for obj in model.objects.bulk_create(create[i : i + BATCH]):
                seen[obj.sourced_id] = obj.pk
        if update:
            model.objects.bulk_update(update, [*names, "updated_at"], batch_size=BATCH)
        changed = {o.pk for o in create} | {o.pk for o in update}
        self.written[name] = changed.copy()
        if mode == "bulk":
            gone = model.objects.filter(organization=self.org, is_active=True).exclude(pk__in=seen.values())
            gone_pks = list(gone.values_list("pk", flat=True))
            for i in range(0, len(gone_pks), BATCH):
                model.objects.filter(pk__in=gone_pks[i : i + BATCH]).update(is_active=False, updated_at=self.now)
            counts["deactivated"] += len(gone_pks)
            changed |= set(gone_pks)
        self.out.counts[name] = counts
        if name in self.out.changed:
            self.out.changed[name] |= changed
        return seen

    # --- the files -----------------------------------------------------------------------------

    def orgs_store(self, records: list) -> None:
        self.store(
            "orgs",
            Org,
            records,
            ["name", "type", "identifier"],
            lambda r: {
                "name": r.values["name"],
                "type": r.values["type"],
                "identifier": r.values.get("identifier", ""),
            },
        )
        self.orgs.reset()
        self._parents("orgs", Org, self.orgs, records, gettext_lazy("org"))

    def _parents(self, name, model, resolver, records, what) -> None:
        """Second pass of a self-referencing file: its parents may come later in the file."""
        current = dict(model.objects.filter(organization=self.org).values_list("pk", "parent_id"))
        changes = []
        for rec in records:
            pk = resolver.get(rec.values["sourcedId"])
            parent = self.ref(resolver, name, rec, "parentSourcedId", what)
            if pk is not None and current.get(pk) != parent:
                changes.append(model(pk=pk, parent_id=parent, updated_at=self.now))
        if changes:
            model.objects.bulk_update(changes, ["parent", "updated_at"], batch_size=BATCH)
            counts, written = self.out.counts[name], self.written.get(name, set())
            moved = sum(1 for c in changes if c.pk not in written)  # only its parent changed
            counts["updated"] += moved
            counts["unchanged"] -= moved

    def sessions_store(self, records: list) -> None:
        def build(r):
            start, end = _date(r.values["startDate"]), _date(r.values["endDate"])
            for column, value in (("startDate", start), ("endDate", end)):
                if value is None:
                    self.error(
                        "academicSessions", r.line, column, "invalid", gettext_lazy("Expected a date (YYYY-MM-DD).")
                    )
            if start is None or end is None:
                return None
            return {
                "title": r.values["title"],
                "type": r.values["type"],
                "start_date": start,
                "end_date": end,
                "school_year": r.values["schoolYear"][:4],
            }

        self.store("academicSessions", AcademicSession, records, ["title", "type", "start_date", "end_date",
                                                                  "school_year"], build)  # fmt: skip
        self.sessions.reset()
        self._parents("academicSessions", AcademicSession, self.sessions, records, gettext_lazy("academic session"))

    def courses_store(self, records: list) -> None:
        admin_mapped = dict(
            RosterCourse.objects.filter(organization=self.org, is_mapped_by_admin=True).values_list(
                "sourced_id", "course_id"
            )
        )

        def build(r):
            sid, code = r.values["sourcedId"], r.values.get("courseCode", "")
            return {
                "title": r.values["title"],
                "course_code": code,
                "org_id": self.ref(self.orgs, "courses", r, "orgSourcedId", gettext_lazy("org")),
                "school_year_id": self.ref(
                    self.sessions, "courses", r, "schoolYearSourcedId", gettext_lazy("academic session")
                ),
                "course_id": admin_mapped[sid] if sid in admin_mapped else self.codes.get(code),
            }

        self.store("courses", RosterCourse, records, ["title", "course_code", "org_id", "school_year_id",
                                                      "course_id"], build)  # fmt: skip
        self.courses.reset()

    def classes_store(self, records: list) -> None:
        course_of = dict(RosterCourse.objects.filter(organization=self.org).values_list("pk", "course_id"))
        before = dict(
            RosterClass.objects.filter(organization=self.org, course__isnull=False).values_list("pk", "course_id")
        )
        terms: dict[str, list[int]] = {}

        def build(r):
            roster_course = self.ref(self.courses, "classes", r, "courseSourcedId", gettext_lazy("course"))
            school = self.school("classes", r, "schoolSourcedId")
            term_ids = []
            for sid in (t.strip() for t in r.values.get("termSourcedIds", "").split(",")):
                if sid:
                    pk = self.ref(self.sessions, "classes", r, "termSourcedIds", gettext_lazy("academic session"),
                                  value=sid)  # fmt: skip
                    if pk is not None:
                        term_ids.append(pk)
            if roster_course is None:
                return None
            terms[r.values["sourcedId"]] = term_ids
            code = r.values.get("classCode", "")
            return {
                "title": r.values["title"],
                "class_code": code,
                "class_type": r.values["classType"],
                "location": r.values.get("location", ""),
                "roster_course_id": roster_course,
                "school_id": school,
                "course_id": self.codes.get(code) or course_of.get(roster_course),
            }

        fields = ["title", "class_code", "class_type", "location", "roster_course_id", "school_id", "course_id"]
        pks = self.store("classes", RosterClass, records, fields, build)
        self.classes.reset()
        if before:
            now = dict(RosterClass.objects.filter(pk__in=list(before)).values_list("pk", "course_id"))
            self.out.left.update({pk: cid for pk, cid in before.items() if now.get(pk) != cid})
        if not pks:
            return
        through = RosterClass.terms.through
        wanted = {(pks[sid], t) for sid, ts in terms.items() if sid in pks for t in ts}
        have = set(
            through.objects.filter(rosterclass_id__in=[pks[s] for s in terms if s in pks]).values_list(
                "rosterclass_id", "academicsession_id"
            )
        )
        stale = have - wanted
        for cls_pk, term_pk in stale:
            through.objects.filter(rosterclass_id=cls_pk, academicsession_id=term_pk).delete()
        through.objects.bulk_create(
            [through(rosterclass_id=c, academicsession_id=t) for c, t in wanted - have], batch_size=BATCH
        )

    def users_store(self, records: list, version: str) -> None:
        # An erased learner's roster record keeps saying nothing of them, whatever the SIS resends.
        erased = set(
            RosterUser.objects.filter(organization=self.org, user__erased_at__isnull=False).values_list(
                "sourced_id", flat=True
            )
        )

        def build(r):
            v = r.values
            if v["sourcedId"] in erased:
                v = {**v, "username": "", "givenName": "", "familyName": "", "email": ""}
            if version == "1.1":
                org_sid = next((s.strip() for s in v.get("orgSourcedIds", "").split(",") if s.strip()), "")
                primary = self.ref(self.orgs, "users", r, "orgSourcedIds", gettext_lazy("org"), value=org_sid)
                role = v.get("role", "")
            else:
                primary = self.ref(self.orgs, "users", r, "primaryOrgSourcedId", gettext_lazy("org"))
                role = None
            out = {
                "username": v.get("username", ""),
                "given_name": v.get("givenName", ""),
                "family_name": v.get("familyName", ""),
                "email": v.get("email", "").lower(),
                "is_enabled": v.get("enabledUser") == "true",
                "primary_org_id": primary,
            }
            if role is not None:
                out["role"] = role
            return out

        fields = ["username", "given_name", "family_name", "email", "is_enabled", "primary_org_id"]
        self.store("users", RosterUser, records, [*fields, "role"] if version == "1.1" else fields, build)
        self.users.reset()

    def roles_store(self, records: list) -> None:
        primary: dict[int, str] = {}

        def build(r):
            user = self.ref(self.users, "roles", r, "userSourcedId", gettext_lazy("user"))
            org = self.ref(self.orgs, "roles", r, "orgSourcedId", gettext_lazy("org"))
            if user is None or org is None:
                return None
            if r.values["roleType"] == "primary" and self.active(r):
                primary[user] = r.values["role"]
            return {
                "roster_user_id": user,
                "org_id": org,
                "role_type": r.values["roleType"],
                "role": r.values["role"],
                "begin_date": _date(r.values.get("beginDate", "")),
                "end_date": _date(r.values.get("endDate", "")),
            }

        self.store("roles", RosterRole, records, ["roster_user_id", "org_id", "role_type", "role", "begin_date",
                                                  "end_date"], build)  # fmt: skip
        if primary and not self.out.error_count:
            RosterUser.objects.bulk_update(
                [RosterUser(pk=pk, role=role) for pk, role in primary.items()], ["role"], batch_size=BATCH
            )

    def enrollments_store(self, records: list) -> None:
        def build(r):
            cls = self.ref(self.classes, "enrollments", r, "classSourcedId", gettext_lazy("class"))
            school = self.school("enrollments", r, "schoolSourcedId")
            user = self.ref(self.users, "enrollments", r, "userSourcedId", gettext_lazy("user"))
            if cls is None or user is None:
                return None
            return {
                "roster_class_id": cls,
                "roster_user_id": user,
                "school_id": school,
                "role": r.values["role"],
                "is_primary": r.values.get("primary", "") == "true",
                "begin_date": _date(r.values.get("beginDate", "")),
                "end_date": _date(r.values.get("endDate", "")),
            }

        fields = ["roster_class_id", "roster_user_id", "school_id", "role", "is_primary", "begin_date", "end_date"]
        self.store("enrollments", RosterEnrollment, records, fields, build)


def roster_apply(
    *,
    organization: Organization,
    files: Mapping[str, Iterable[RosterRecordIn]],
    modes: Mapping[str, str],
    version: str = "1.2",
    error: ErrorFn,
    now: datetime | None = None,
) -> RosterOutcome:
    """Store a checked package's records for `organization` (see the module docstring). Reference
    errors go to `error(file, line, column, code, message, params)`; if there is any, RosterInvalid
    is raised and nothing is stored."""
    now = now or timezone.now()
    with transaction.atomic():
        run = _Apply(organization=organization, modes=modes, error=error, now=now)
        steps = {
            "orgs": run.orgs_store,
            "academicSessions": run.sessions_store,
            "courses": run.courses_store,
            "classes": run.classes_store,
            "users": lambda recs: run.users_store(recs, version),
            "roles": run.roles_store,
            "enrollments": run.enrollments_store,
        }
        for name in ORDER:
            if modes.get(name, "absent") == "absent":
                continue
            records = files.get(name) or []
            steps[name](list(records.values() if isinstance(records, Mapping) else records))
        if run.out.error_count:
            raise RosterInvalid(
                gettext_lazy("Some references resolve to nothing."), extra={"code": "invalid_reference"}
            )
        roster_users_link(organization=organization)
    return run.out


def roster_users_link(*, organization: Organization) -> int:
    """Link the university's roster users to the Kafaat accounts that hold their sourcedId as
    external id (created by the enrollment sync, or earlier). Returns how many were linked."""
    accounts = dict(
        User.objects.filter(organization=organization, external_id__in=RosterUser.objects.filter(
            organization=organization, user__isnull=True).values("sourced_id")).values_list("external_id", "pk")
    )  # fmt: skip
    if not accounts:
        return 0
    linked = [
        RosterUser(pk=pk, user_id=accounts[sid])
        for pk, sid in RosterUser.objects.filter(
            organization=organization, user__isnull=True, sourced_id__in=list(accounts)
        ).values_list("pk", "sourced_id")
    ]
    RosterUser.objects.bulk_update(linked, ["user"], batch_size=BATCH)
    return len(linked)


def roster_course_map(
    *,
    roster_course: RosterCourse,
    course: Course | None,
    user: User | None = None,
    organization: Organization | None = None,
) -> dict[int, int | None]:
    """Map (or with None, unmap) a roster course onto one of our courses; imports keep this
    choice. Allowed to the university's admins (`user`), or to the university's own system
    (`organization`: an API client acting for it). Its classes whose own classCode is not one of
    our courses follow it. Returns the classes whose course changed: pk -> the course they left
    (None if they had none)."""
    if user is not None:
        allowed = (
            user.is_superuser
            or OrganizationMembership.objects.filter(
                user=user, organization_id=roster_course.organization_id, role=OrganizationMembership.Role.ADMIN
            ).exists()
        )
    else:
        allowed = organization is not None and organization.pk == roster_course.organization_id
    if not allowed:
        raise PermissionDenied(gettext_lazy("Only this university's admins may map its roster courses."))
    codes = open_course_ids()
    with transaction.atomic():
        rc = RosterCourse.objects.select_for_update().get(pk=roster_course.pk)
        rc.course = course
        rc.is_mapped_by_admin = course is not None
        if course is None:
            rc.course_id = codes.get(rc.course_code)
        rc.save(update_fields=["course", "is_mapped_by_admin", "updated_at"])
        changed = {}
        for cls in RosterClass.objects.filter(roster_course=rc).only("pk", "class_code", "course_id"):
            target = codes.get(cls.class_code) or rc.course_id
            if cls.course_id != target:
                changed[cls.pk] = cls.course_id
                RosterClass.objects.filter(pk=cls.pk).update(course_id=target, updated_at=timezone.now())
        roster_course.refresh_from_db()
    return changed


def roster_instructors_apply(*, organization: Organization) -> dict:
    """Make the roster's teachers the instructors of their classes' courses: every active teacher
    enrollment of an active, mapped class whose user is active, enabled and has an account. An assignment
    the roster gave and no longer gives is removed; one given by hand is never touched (the
    roster's own are recorded in RosterInstructor). Returns {"added": n, "removed": n}."""
    wanted = set(
        RosterEnrollment.objects.filter(
            organization=organization,
            role=RosterEnrollment.Role.TEACHER,
            is_active=True,
            roster_class__is_active=True,
            roster_class__course__isnull=False,
            roster_user__is_active=True,
            roster_user__is_enabled=True,
            roster_user__user__isnull=False,
        ).values_list("roster_user__user_id", "roster_class__course_id")
    )
    given = {(g.user_id, g.course_id): g.pk for g in RosterInstructor.objects.filter(organization=organization)}
    through = Course.instructors.through
    removed = 0
    for (uid, cid), pk in given.items():
        if (uid, cid) not in wanted:
            through.objects.filter(user_id=uid, course_id=cid).delete()
            RosterInstructor.objects.filter(pk=pk).delete()
            removed += 1
    new = wanted - set(given)
    added = 0
    if new:
        by_hand = set(
            through.objects.filter(user_id__in={u for u, _c in new}, course_id__in={c for _u, c in new}).values_list(
                "user_id", "course_id"
            )
        )
        grant = [(u, c) for u, c in new if (u, c) not in by_hand]
        through.objects.bulk_create([through(user_id=u, course_id=c) for u, c in grant], batch_size=BATCH)
        RosterInstructor.objects.bulk_create(
            [RosterInstructor(organization=organization, user_id=u, course_id=c) for u, c in grant], batch_size=BATCH
        )
        added = len(grant)
    return {"added": added, "removed": removed}

"""Grades back, the OneRoster way: a roster class's gradebook as a OneRoster 1.2 Gradebook CSV
package (manifest.csv, categories.csv, lineItems.csv, results.csv in a zip), streamed.

The columns follow the OneRoster 1.2 CSV binding (Gradebook files):
- categories: sourcedId, status, dateLastModified, title, weight
- lineItems: sourcedId, status, dateLastModified, title, description, assignDate, dueDate,
  classSourcedId, categorySourcedId, academicSessionSourcedId, resultValueMin, resultValueMax,
  schoolSourcedId
- results: sourcedId, status, dateLastModified, lineItemSourcedId, studentSourcedId, scoreStatus,
  score, scoreDate, comment, textScore, classSourcedId, inProgress, incomplete, late, missing

Our sourcedIds are derived, never stored, and stable across exports:
- a category is a module of the class's course: `<class>:m<module id>`;
- a line item is a published assignment: `<class>:a<assignment id>`;
- a result is a line item and a student: `<line item>:<student's sourcedId>`.
One longer than 255 characters (the spec's limit) is `kafaat:<uuid5 of it>` instead.

The result of a learner at an assignment is grading's `latest_result_per_learner`: an
instructor's override is written through grading's one grade writer onto the latest attempt, so
it is already there. Students are the class's active student enrollments whose roster user has a
Kafaat account. A window (a term, or dates) keeps the results whose attempt was submitted in it.

An incremental export (a cursor) is a delta package: the line items, categories and results that
changed after the cursor (status active), plus `tobedeleted` results of students who left the
class since; it answers with the next cursor. Every export runs a fixed number of queries
whatever the class's size, and the rows are read with server-side cursors, so memory stays flat."""

import base64
import binascii
import io
import json
import uuid
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from courses.models import Assignment
from grading.models import Submission
from grading.selectors import latest_result_per_learner
from kernel.csvsafe import safe_writer
from kernel.errors import ApplicationError, NotFound

from .models import AcademicSession, RosterClass, RosterEnrollment

CHUNK = 2000
MAX_SOURCED_ID = 255
SYSTEM_NAME = "Kafaat"

CATEGORY_COLUMNS = ["sourcedId", "status", "dateLastModified", "title", "weight"]
LINE_ITEM_COLUMNS = [
    "sourcedId", "status", "dateLastModified", "title", "description", "assignDate", "dueDate",
    "classSourcedId", "categorySourcedId", "academicSessionSourcedId", "resultValueMin", "resultValueMax",
    "schoolSourcedId",
]  # fmt: skip
RESULT_COLUMNS = [
    "sourcedId", "status", "dateLastModified", "lineItemSourcedId", "studentSourcedId", "scoreStatus", "score",
    "scoreDate", "comment", "textScore", "classSourcedId", "inProgress", "incomplete", "late", "missing",
]  # fmt: skip
# Every file of a OneRoster 1.2 CSV package, as the manifest names them; ours are the last three.
OTHER_FILES = [
    "academicSessions", "classes", "classResources", "courses", "courseResources", "demographics", "enrollments",
    "lineItemLearningObjectiveIds", "lineItemScoreScales", "orgs", "resources", "resultLearningObjectiveIds",
    "resultScoreScales", "roles", "scoreScales", "userProfiles", "userResources", "users",
]  # fmt: skip
GRADEBOOK_FILES = ["categories", "lineItems", "results"]

FULLY_GRADED, SUBMITTED = "fully graded", "submitted"


class GradebookExportRefused(ApplicationError):
    pass


# --- reads ---------------------------------------------------------------------------------------


def class_list(*, organization_id: int) -> list[RosterClass]:
    """The university's active classes, with their course, mapped Kafaat course and terms. Three
    queries whatever their number."""
    return list(
        RosterClass.objects.filter(organization_id=organization_id, is_active=True)
        .select_related("course", "roster_course", "school")
        .prefetch_related(Prefetch("terms", queryset=AcademicSession.objects.order_by("start_date", "sourced_id")))
        .order_by("sourced_id")
    )


def class_get(*, organization_id: int, sourced_id: str) -> RosterClass:
    """One of the university's classes by its sourcedId (another university's is not found)."""
    found = (
        RosterClass.objects.filter(organization_id=organization_id, sourced_id=sourced_id)
        .select_related("course", "school")
        .prefetch_related(Prefetch("terms", queryset=AcademicSession.objects.order_by("start_date", "sourced_id")))
        .first()
    )
    if found is None:
        raise NotFound(_("Not found."), extra={"code": "not_found"})
    return found


def classes_for_course(*, course_id: int, organization_ids: Iterable[int] | None = None) -> list[RosterClass]:
    """The active classes mapped to a Kafaat course (of these universities only, when given)."""
    qs = RosterClass.objects.filter(course_id=course_id, is_active=True)
    if organization_ids is not None:
        qs = qs.filter(organization_id__in=list(organization_ids))
    return list(qs.select_related("organization").order_by("title", "sourced_id"))


def _students(roster_class_id: int) -> QuerySet:
    return RosterEnrollment.objects.filter(
        roster_class_id=roster_class_id,
        role=RosterEnrollment.Role.STUDENT,
        is_active=True,
        roster_user__is_active=True,
        roster_user__user__isnull=False,
    )


def class_member_user_ids(*, roster_class_id: int) -> QuerySet:
    """The Kafaat user ids of a class's active students, as a subquery (for `user_id__in`)."""
    return _students(roster_class_id).values("roster_user__user_id")


def term_get(*, organization_id: int, sourced_id: str) -> AcademicSession | None:
    return AcademicSession.objects.filter(organization_id=organization_id, sourced_id=sourced_id).first()


# --- the cursor ------------------------------------------------------------------------------------


def encode_cursor(moment: datetime, pk: int) -> str:
    raw = json.dumps([moment.isoformat(), pk]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *, field_name: str = "since") -> tuple[datetime, int]:
    """(updated_at, id) of the last change an export carried. Raises GradebookExportRefused."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        stamp, pk = json.loads(base64.urlsafe_b64decode(padded.encode()))
        moment = parse_datetime(stamp)
        if moment is None or moment.tzinfo is None or not isinstance(pk, int) or isinstance(pk, bool):
            raise ValueError
        return moment, pk
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, json.JSONDecodeError):
        raise GradebookExportRefused(
            _("This cursor is not valid."), field=field_name, extra={"code": "invalid_cursor"}
        ) from None


# --- formats -------------------------------------------------------------------------------------


def sourced_id(raw: str) -> str:
    """`raw` when it fits OneRoster's 255 characters, else a stable UUID5 of it."""
    if len(raw) <= MAX_SOURCED_ID:
        return raw
    return f"kafaat:{uuid.uuid5(uuid.NAMESPACE_URL, 'kafaat:' + raw)}"


def stamp(moment: datetime | None) -> str:
    """YYYY-MM-DDTHH:MM:SS.sssZ, in UTC."""
    if moment is None:
        return ""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _number(value) -> str:
    return "" if value is None else f"{value.normalize():f}"


def _day(moment: datetime | None) -> str:
    return timezone.localdate(moment).isoformat() if moment else ""


# --- the export ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """Results whose attempt was submitted from `start` to `end` (dates, inclusive; None: open).
    `term` names the academic session the line items belong to."""

    start: date | None = None
    end: date | None = None
    term: AcademicSession | None = None


@dataclass
class GradebookExport:
    roster_class: RosterClass
    mode: str  # "bulk" or "delta"
    next_cursor: str
    files: dict[str, Iterator[list]] = field(default_factory=dict)

    @property
    def filename(self) -> str:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in self.roster_class.sourced_id)[:80]
        return f"oneroster-gradebook-{safe}.zip"


def gradebook_export(
    *, roster_class: RosterClass, window: Window = Window(), since: str | None = None
) -> GradebookExport:
    """The class's gradebook in OneRoster rows: bulk without `since`, else the delta after it.
    Reads the assignments and the cursor's bound now (three queries); the rows are read as the
    files are written (one query for the results, one for the students who left)."""
    if roster_class.course_id is None:
        raise GradebookExportRefused(
            _("This class is not mapped to a Kafaat course yet."), field="class", extra={"code": "class_not_mapped"}
        )
    after = decode_cursor(since) if since else None
    mode = "delta" if after else "bulk"
    class_sid = roster_class.sourced_id
    terms = list(roster_class.terms.all())
    term = window.term or (terms[0] if terms else None)
    term_sid = term.sourced_id if term else ""
    school_sid = roster_class.school.sourced_id if roster_class.school_id else ""
    default_due = (
        datetime.combine(window.end, time(23, 59, 59), tzinfo=UTC)
        if window.end
        else (datetime.combine(term.end_date, time(23, 59, 59), tzinfo=UTC) if term else None)
    )

    assignments = list(
        Assignment.objects.filter(course_id=roster_class.course_id, current_version__isnull=False)
        .select_related("module")
        .order_by("module__position", "position", "id")
    )
    aids = [a.pk for a in assignments]
    members = class_member_user_ids(roster_class_id=roster_class.pk)
    subs = Submission.objects.filter(assignment_id__in=aids)
    if window.start:
        subs = subs.filter(submitted_at__date__gte=window.start)
    if window.end:
        subs = subs.filter(submitted_at__date__lte=window.end)
    results = latest_result_per_learner(subs)
    left = RosterEnrollment.objects.filter(
        roster_class_id=roster_class.pk, role=RosterEnrollment.Role.STUDENT, is_active=False
    )

    # The bound of this export: the last change it can carry (rows changed later wait for the next).
    last_result = (
        results.filter(user_id__in=members).order_by("-updated_at", "-id").values_list("updated_at", "id").first()
    )
    last_left = left.order_by("-updated_at").values_list("updated_at", flat=True).first() if after else None
    last_item = max((a.updated_at for a in assignments), default=None)
    candidates = [
        c for c in (last_result, (last_left, 0) if last_left else None, (last_item, 0) if last_item else None) if c
    ]
    if after:
        candidates.append(after)
    bound = max(candidates) if candidates else (timezone.now(), 0)
    next_cursor = encode_cursor(*bound)

    def changed(moment, pk=0) -> bool:
        return after is None or (moment, pk) > after

    items = [a for a in assignments if changed(a.updated_at)]
    status = "active" if after else ""

    def category_rows() -> Iterator[list]:
        yield CATEGORY_COLUMNS
        modules: dict[int, tuple] = {}
        for a in items:
            seen = modules.get(a.module_id)
            if seen is None or a.updated_at > seen[1]:
                modules[a.module_id] = (a.module, a.updated_at)
        for module, moment in sorted(modules.values(), key=lambda m: (m[0].position, m[0].pk)):
            yield [sourced_id(f"{class_sid}:m{module.pk}"), status, stamp(moment) if after else "", module.title, ""]

    def line_item_rows() -> Iterator[list]:
        yield LINE_ITEM_COLUMNS
        for a in items:
            yield [
                sourced_id(f"{class_sid}:a{a.pk}"),
                status,
                stamp(a.updated_at) if after else "",
                a.title,
                "",
                stamp(a.created_at),
                stamp(a.due_at or default_due),
                class_sid,
                sourced_id(f"{class_sid}:m{a.module_id}"),
                term_sid,
                "0",
                _number(a.points),
                school_sid,
            ]

    def result_rows() -> Iterator[list]:
        yield RESULT_COLUMNS
        if not aids:
            return
        student = _students(roster_class.pk).filter(roster_user__user_id=OuterRef("user_id"))
        qs = results.filter(user_id__in=members).annotate(
            student_sid=Subquery(student.order_by("roster_user__sourced_id").values("roster_user__sourced_id")[:1])
        )
        if after:
            moment, pk = after
            high, high_pk = bound
            qs = qs.filter(Q(updated_at__gt=moment) | Q(updated_at=moment, id__gt=pk)).filter(
                Q(updated_at__lt=high) | Q(updated_at=high, id__lte=high_pk)
            )
            qs = qs.order_by("updated_at", "id")
        else:
            qs = qs.order_by("assignment_id", "student_sid", "id")
        rows = qs.values_list(
            "id",
            "assignment_id",
            "student_sid",
            "status",
            "score",
            "graded_at",
            "submitted_at",
            "is_late",
            "updated_at",
        )
        for _id, aid, student_sid, state, score, graded_at, submitted_at, is_late, updated_at in rows.iterator(
            chunk_size=CHUNK
        ):
            item_sid = sourced_id(f"{class_sid}:a{aid}")
            graded = state == Submission.Status.GRADED
            yield [
                sourced_id(f"{item_sid}:{student_sid}"),
                status,
                stamp(updated_at) if after else "",
                item_sid,
                student_sid,
                FULLY_GRADED if graded else SUBMITTED,
                _number(score) if graded else "",
                _day(graded_at if graded else submitted_at),
                "",
                "",
                class_sid,
                "" if graded else "true",
                "",
                "true" if is_late else "false",
                "",
            ]
        if after:
            yield from _left_rows()

    def _left_rows() -> Iterator[list]:
        """tobedeleted: the results of students who left the class after the cursor."""
        moment, _pk = after
        gone = left.filter(updated_at__gt=moment, updated_at__lte=bound[0], roster_user__user__isnull=False)
        still = _students(roster_class.pk).filter(roster_user__user_id=OuterRef("roster_user__user_id"))
        gone = gone.exclude(Exists(still)).order_by("roster_user__sourced_id")
        removed = (
            results.filter(user_id__in=gone.values("roster_user__user_id"))
            .annotate(
                student_sid=Subquery(
                    gone.filter(roster_user__user_id=OuterRef("user_id")).values("roster_user__sourced_id")[:1]
                ),
                left_at=Subquery(gone.filter(roster_user__user_id=OuterRef("user_id")).values("updated_at")[:1]),
            )
            .order_by("assignment_id", "student_sid")
            .values_list("assignment_id", "student_sid", "left_at")
        )
        for aid, student_sid, left_at in removed.iterator(chunk_size=CHUNK):
            item_sid = sourced_id(f"{class_sid}:a{aid}")
            yield [
                sourced_id(f"{item_sid}:{student_sid}"), "tobedeleted", stamp(left_at), item_sid, student_sid,
                "", "", "", "", "", class_sid, "", "", "", "",
            ]  # fmt: skip

    return GradebookExport(
        roster_class=roster_class,
        mode=mode,
        next_cursor=next_cursor,
        files={"categories": category_rows(), "lineItems": line_item_rows(), "results": result_rows()},
    )


def manifest_rows(mode: str) -> list[list[str]]:
    return [
        ["propertyName", "value"],
        ["manifest.version", "1.0"],
        ["oneroster.version", "1.2"],
        *[[f"file.{name}", "absent"] for name in OTHER_FILES],
        *[[f"file.{name}", mode] for name in GRADEBOOK_FILES],
        ["source.systemName", SYSTEM_NAME],
    ]


# --- the zip -------------------------------------------------------------------------------------


class _Sink(io.RawIOBase):
    """A write-only, unseekable stream that keeps what was written until it is taken: zipfile
    writes each entry with a data descriptor, so the zip streams as it is built."""

    def __init__(self):
        self._parts: list[bytes] = []
        self._offset = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._parts.append(bytes(data))
        self._offset += len(data)
        return len(data)

    def tell(self) -> int:
        return self._offset

    def take(self) -> bytes:
        out = b"".join(self._parts)
        self._parts = []
        return out


class _Text:
    def __init__(self):
        self.parts: list[str] = []

    def write(self, value: str) -> None:
        self.parts.append(value)


def _csv_bytes(rows: Iterable[list], per_chunk: int = 500) -> Iterator[bytes]:
    buffer = _Text()
    writer = safe_writer(buffer)
    for n, row in enumerate(rows, 1):
        writer.writerow(row)
        if n % per_chunk == 0:
            yield "".join(buffer.parts).encode("utf-8")
            buffer.parts = []
    if buffer.parts:
        yield "".join(buffer.parts).encode("utf-8")


def zip_chunks(export: GradebookExport) -> Iterator[bytes]:
    """The package as bytes, entry by entry, as it is built (manifest.csv first)."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        entries = [("manifest", iter(manifest_rows(export.mode)))] + list(export.files.items())
        for name, rows in entries:
            with zf.open(f"{name}.csv", "w") as entry:
                for chunk in _csv_bytes(rows):
                    entry.write(chunk)
                    if data := sink.take():
                        yield data
            if data := sink.take():
                yield data
    if data := sink.take():
        yield data

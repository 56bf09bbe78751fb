"""OneRoster CSV import (1.2, and 1.1 tolerated), mapped onto the enrollment sync.

The zip is streamed, entry by entry: only files at its root with the expected names are read,
never extracted, so an entry's path is never followed. Each entry is inflated, decoded and parsed
a chunk at a time, so memory does not grow with its size. Sizes are capped (the upload, each entry
as it inflates, each line, each field). Bad rows are named by file, line and column: the first
ONEROSTER_MAX_ERRORS are kept and the rest counted. Nothing is written unless the whole package is
valid. Records keep only the columns the mapping reads, users only when an enrollment names them.

Mapping: users.sourcedId is the learner's external id; a class maps to our course whose code is
its classCode, else its course's courseCode; enrollments with role=student become sync rows
(teachers are counted and skipped: universities do not assign instructors). A bulk enrollments
file is a full sync over the package's classes; a delta one an upsert where `tobedeleted` drops."""

import csv
import io
import zipfile
import zlib
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.models import Organization
from courses.enrollments import open_course_ids, organization_enrollments_open
from courses.models import Course, Enrollment
from kernel.errors import ApplicationError, NotFound
from roster import selectors as roster_selectors
from roster import services as roster_services
from roster.models import RosterEnrollment, RosterUser

from ..models import ApiClient, AuditEntry, RosterPolicy
from . import oneroster_rules as rules
from . import sync
from .sync_rows import SyncRow

COLUMNS_12 = {
    "orgs": "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId",
    "academicSessions": "sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,schoolYear",
    "courses": "sourcedId,status,dateLastModified,schoolYearSourcedId,title,courseCode,grades,orgSourcedId,"
    "subjects,subjectCodes",
    "classes": "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,"
    "schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods",
    "users": "sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,familyName,middleName,"
    "identifier,email,sms,phone,agentSourcedIds,grades,password,userMasterIdentifier,preferredGivenName,"
    "preferredMiddleName,preferredFamilyName,primaryOrgSourcedId,pronouns",
    "roles": "sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,orgSourcedId,"
    "userProfileSourcedId",
    "enrollments": "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,"
    "beginDate,endDate",
}
COLUMNS_11 = {
    **{k: v for k, v in COLUMNS_12.items() if k != "roles"},
    "users": "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,"
    "familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password",
}
REQUIRED = {
    "orgs": {"sourcedId", "name", "type"},
    "academicSessions": {"sourcedId", "title", "type", "startDate", "endDate", "schoolYear"},
    "courses": {"sourcedId", "title", "orgSourcedId"},
    "classes": {"sourcedId", "title", "courseSourcedId", "classType", "schoolSourcedId", "termSourcedIds"},
    "users": {"sourcedId", "enabledUser", "username", "givenName", "familyName"},
    "roles": {"sourcedId", "userSourcedId", "roleType", "role", "orgSourcedId"},
    "enrollments": {"sourcedId", "classSourcedId", "schoolSourcedId", "userSourcedId", "role"},
}
ENUMS = rules.VOCABULARIES
# What we read; the rest of a package (demographics, resources...) is ignored.
FILES = ["orgs", "academicSessions", "courses", "classes", "users", "roles", "enrollments"]
MODES = {"absent", "bulk", "delta"}


class OneRosterRefused(ApplicationError):
    pass


class PackageTooLarge(ApplicationError):
    status_code = 413


# The columns each file's records keep once checked: what the roster stores, nothing more (and
# only the non-empty ones), so a large valid package costs a few short strings per row.
_STAMPS = ("status", "dateLastModified")
KEEP = {
    "orgs": ("name", "type", "identifier", "parentSourcedId", *_STAMPS),
    "academicSessions": ("title", "type", "startDate", "endDate", "parentSourcedId", "schoolYear", *_STAMPS),
    "courses": ("title", "courseCode", "orgSourcedId", "schoolYearSourcedId", *_STAMPS),
    "classes": ("title", "classCode", "classType", "location", "courseSourcedId", "schoolSourcedId",
                "termSourcedIds", *_STAMPS),
    "users": ("enabledUser", "username", "givenName", "familyName", "email", "primaryOrgSourcedId",
              "orgSourcedIds", "role", *_STAMPS),
    "roles": ("userSourcedId", "roleType", "role", "beginDate", "endDate", "orgSourcedId", *_STAMPS),
    "enrollments": ("classSourcedId", "schoolSourcedId", "userSourcedId", "role", "primary", "beginDate",
                    "endDate", *_STAMPS),
}  # fmt: skip
# Read in this order: enrollments before users, so only the users enrollments name are kept.
READ_ORDER = ["orgs", "academicSessions", "courses", "classes", "enrollments", "users", "roles"]
# A CSV line (a record) longer than this is refused without being held whole in memory.
MAX_LINE_CHARS = 64 * 1024
_READ_CHUNK = 64 * 1024


@dataclass(slots=True)
class Record:
    line: int
    values: dict


@dataclass
class Package:
    """What read_package found. `errors` holds the first ONEROSTER_MAX_ERRORS errors and
    `errors_total` counts them all, so a package of millions of bad lines costs a few kilobytes."""

    version: str = "1.2"
    modes: dict = field(default_factory=dict)
    files: dict = field(default_factory=dict)  # name -> {sourcedId: Record}
    errors: list = field(default_factory=list)
    errors_total: int = 0
    skipped: dict = field(default_factory=lambda: {"teachers": 0, "other_roles": 0})
    max_errors: int = field(default_factory=lambda: max(1, settings.ONEROSTER_MAX_ERRORS))
    # Inflated bytes the entries still read may give (ONEROSTER_MAX_TOTAL_BYTES for them all).
    inflate_left: int = field(default_factory=lambda: settings.ONEROSTER_MAX_TOTAL_BYTES)

    def error(self, file: str | None, line: int | None, column: str | None, code: str, message, params=None) -> None:
        """Count an error, and keep it while fewer than max_errors are kept. `message` is a lazy
        translation formatted with `params` only when kept: a package of millions of bad lines
        costs neither their memory nor their translation. An error about a whole file (or the
        whole package: file None) has line None; a line 0 is taken as that."""
        self.errors_total += 1
        line = line or None
        if len(self.errors) < self.max_errors:
            message = str(message) % params if params else str(message)
            self.errors.append(
                {"file": f"{file}.csv" if file else None, "line": line, "column": column, "field": column,
                 "code": code, "message": message}
            )  # fmt: skip


class _EntryTooLarge(Exception):
    pass


class _PackageTooLarge(Exception):
    pass


class _LineTooLong(Exception):
    def __init__(self, lines: list[str]):
        super().__init__()
        self.lines = lines  # the record's lines so far (at most about 2 * MAX_LINE_CHARS)


class _Capped(io.RawIOBase):
    """An entry's inflated bytes, counted as they come out of the decompressor: past `limit`,
    or past what is left of the package's total (`pkg.inflate_left`), reading stops (the sizes in
    the zip's headers are not trusted). The bytes are checked to be UTF-8 as they pass, so the
    first bad one is named by line and position (rules.BadUtf8)."""

    def __init__(self, raw, limit: int, pkg=None):
        self.raw, self.left, self.pkg = raw, limit, pkg
        self.utf8 = rules.Utf8Checker()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.raw.read(min(len(buffer), _READ_CHUNK))
        self.left -= len(data)
        if self.left < 0:
            raise _EntryTooLarge
        if self.pkg is not None:
            self.pkg.inflate_left -= len(data)
            if self.pkg.inflate_left < 0:
                raise _PackageTooLarge
        self.utf8.feed(data, final=not data)
        buffer[: len(data)] = data
        return len(data)


class _Lines:
    """The entry's lines (with their line ends, as csv expects), each at most MAX_LINE_CHARS, and
    each record too (the reader calls new_record() after each): a quoted field that runs over
    many lines is stopped at the cap, so csv's own field limit (131072) is never reached."""

    def __init__(self, text: io.TextIOWrapper):
        self.text, self.record = text, []
        self.record_chars = 0

    def new_record(self) -> None:
        self.record.clear()
        self.record_chars = 0

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = self.text.readline(MAX_LINE_CHARS + 1)
        if not line:
            raise StopIteration
        self.record_chars += len(line)
        self.record.append(line)
        if len(line) > MAX_LINE_CHARS or self.record_chars > MAX_LINE_CHARS:
            raise _LineTooLong(self.record)
        return line


def _lines(text: io.TextIOWrapper) -> _Lines:
    return _Lines(text)


def _size(n: int) -> str:
    """A size as a university admin reads it, in their language ("50.0 MB", "50,0 Mo")."""
    return str(filesizeformat(n))


# Why zipfile could not give an entry's bytes, in the words of someone who exports packages.
_ENCRYPTED = gettext_lazy("This file is encrypted in the zip: export the package without a password.")
_METHOD = gettext_lazy(
    "This file is compressed with a method we cannot read: export the package with the usual zip compression (deflate)."
)
_DAMAGED = gettext_lazy(
    "This file is damaged in the zip (its data does not match its size or checksum): export the package again."
)
_LYING = gettext_lazy(
    "This file's sizes in the zip's headers are impossible (fewer bytes inflated than compressed): "
    "the package is refused without inflating it."
)


def _records(zf: zipfile.ZipFile, info: zipfile.ZipInfo, pkg: Package, name: str, columns: list[str]):
    """Stream one CSV entry: yield a Record (the whole row) per well-formed line and record every
    problem in pkg. Nothing is read whole: the entry is inflated, decoded and parsed a chunk at a
    time, and what comes out of the decompressor is counted against ONEROSTER_MAX_ENTRY_BYTES and
    what is left of ONEROSTER_MAX_TOTAL_BYTES."""
    limit = settings.ONEROSTER_MAX_ENTRY_BYTES
    too_large = gettext_lazy("This file is larger than %(size)s."), {"size": _size(limit)}
    too_large_total = (
        gettext_lazy("The package's files inflate to more than %(size)s in all."),
        {"size": _size(settings.ONEROSTER_MAX_TOTAL_BYTES)},
    )
    if info.file_size > limit:
        pkg.error(name, None, None, "too_large", *too_large)
        return
    if info.file_size > pkg.inflate_left:
        pkg.error(name, None, None, "too_large", *too_large_total)
        return
    if rules.headers_understate(info):
        pkg.error(name, None, None, "unreadable", _LYING)
        return
    max_chars = settings.ONEROSTER_MAX_FIELD_CHARS
    reader = lines = header = None
    try:
        with zf.open(info) as raw:
            stream = io.BufferedReader(_Capped(raw, limit, pkg), _READ_CHUNK)
            text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
            lines = _lines(text)
            reader = csv.reader(lines)
            header = next(reader, None)
            if header is None:
                pkg.error(name, 1, None, "empty", gettext_lazy("The file is empty: a header line is expected."))
                return
            if not _header_ok(header, columns, pkg, name):
                return
            lines.new_record()
            for values in reader:
                lines.new_record()
                line = reader.line_num
                if not values or values == [""]:
                    continue
                if len(values) != len(header):
                    pkg.error(
                        name,
                        line,
                        None,
                        "columns",
                        gettext_lazy("This line has %(got)d fields; the header has %(n)d."),
                        {"got": len(values), "n": len(header)},
                    )
                    continue
                row = dict(zip(header, (v.strip() for v in values), strict=True))
                if header[0] == "sourcedId" and values[0] != row["sourcedId"]:
                    row["sourcedId"] = values[0]  # not trimmed: a key with spaces around is refused
                bad = next((c for c, v in row.items() if len(v) > max_chars), None)
                if bad:
                    pkg.error(
                        name, line, bad, "max_length", gettext_lazy("Longer than %(n)d characters."), {"n": max_chars}
                    )
                    continue
                yield Record(line, row)
    except _EntryTooLarge:
        pkg.error(name, None, None, "too_large", *too_large)
    except _PackageTooLarge:
        pkg.error(name, None, None, "too_large", *too_large_total)
    except _LineTooLong as exc:
        # The line the record starts on (the overlong line is the reader's next one).
        line = (reader.line_num if reader else 0) + 1 - (len(exc.lines) - 1)
        index = rules.field_index("".join(exc.lines))
        column = header[index] if header and index < len(header) else None
        if column is not None:
            pkg.error(
                name,
                line,
                column,
                "max_length",
                gettext_lazy("This field runs past %(n)d characters (a quote left open?)."),
                {"n": MAX_LINE_CHARS},
            )
        else:
            pkg.error(
                name,
                line,
                None,
                "max_length",
                gettext_lazy("This line is longer than %(n)d characters."),
                {"n": MAX_LINE_CHARS},
            )
    except rules.BadUtf8 as exc:
        pkg.error(
            name,
            exc.line,
            None,
            "encoding",
            gettext_lazy("Line %(line)d, character %(char)d (byte %(byte)d), is not UTF-8: save the file as UTF-8."),
            {"line": exc.line, "char": exc.char, "byte": exc.byte},
        )
    except UnicodeDecodeError:  # not reached: the bytes were checked on their way in
        pkg.error(name, None, None, "encoding", gettext_lazy("This file is not UTF-8."))
    except csv.Error:
        pkg.error(
            name,
            (reader.line_num if reader else 0) + 1,
            None,
            "csv",
            gettext_lazy("This line cannot be read as CSV (RFC 4180): check its quotes."),
        )
    except NotImplementedError:  # zipfile: a compression method it lacks (before RuntimeError: a subclass)
        pkg.error(name, None, None, "unreadable", _METHOD)
    except RuntimeError:  # zipfile: an encrypted entry
        pkg.error(name, None, None, "unreadable", _ENCRYPTED)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError):
        pkg.error(name, None, None, "unreadable", _DAMAGED)


def _header_ok(header: list[str], expected: list[str], pkg: Package, name: str) -> bool:
    if header[: len(expected)] != expected:
        for i, col in enumerate(expected):
            got = header[i] if i < len(header) else None
            if got != col:
                pkg.error(
                    name,
                    1,
                    col,
                    "header",
                    gettext_lazy("Column %(n)d of the header must be %(col)s, found %(got)s."),
                    {"n": i + 1, "col": col, "got": got if got is not None else gettext_lazy("nothing")},
                )
                break
        return False
    for extra in header[len(expected) :]:
        if not extra.startswith("metadata."):
            pkg.error(name, 1, extra, "header", gettext_lazy("Extra columns must be named metadata.*."))
            return False
    return True


def _check_record(pkg: Package, name: str, rec: Record, mode: str) -> bool:
    """Required fields here; every value rule (sourcedId, dates, vocabularies, bulk/delta) in
    oneroster_rules."""
    ok = True
    for col in sorted(REQUIRED[name]):
        if not rec.values.get(col):
            pkg.error(name, rec.line, col, "required", gettext_lazy("This field is required."))
            ok = False
    return rules.check_values(pkg, name, rec.line, rec.values, mode) and ok


def _root_entries(zf: zipfile.ZipFile, pkg: Package) -> dict:
    """The zip's plain entries at its root, by name. An entry that could leave the root (or a
    symbolic link), or two entries with one name, refuses the package: each is reported. Entries
    below the root (folders, __MACOSX/) are ignored: never read, never extracted."""
    entries: dict[str, zipfile.ZipInfo] = {}
    for info in zf.infolist():
        fault = rules.entry_fault(info)
        if fault is not None:
            pkg.error(None, None, None, "unsafe_entry", fault, {"entry": rules.shown(info.filename)})
        elif "/" not in info.filename:
            if info.filename in entries:
                pkg.error(
                    None,
                    None,
                    None,
                    "duplicate_entry",
                    gettext_lazy("The zip holds two entries named «%(entry)s»: the whole package is refused."),
                    {"entry": rules.shown(info.filename)},
                )
            entries[info.filename] = info
    return entries


def read_package(fileobj, *, size: int | None = None) -> Package:
    """Read and check a OneRoster zip, streaming each entry. Errors are collected in
    Package.errors (the first ONEROSTER_MAX_ERRORS; Package.errors_total counts them all)."""
    pkg = Package()
    if size is not None and size > settings.ONEROSTER_MAX_UPLOAD_BYTES:
        raise PackageTooLarge(
            _("The package is larger than %(size)s.") % {"size": _size(settings.ONEROSTER_MAX_UPLOAD_BYTES)},
            field="file",
            extra={"code": "too_large"},
        )
    try:
        zf = zipfile.ZipFile(fileobj)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise OneRosterRefused(_("The file is not a zip archive."), field="file", extra={"code": "not_a_zip"}) from None
    with zf:
        entries = _root_entries(zf, pkg)
        if pkg.errors:
            return pkg
        if "manifest.csv" not in entries:
            pkg.error("manifest", None, None, "missing", gettext_lazy("The package has no manifest.csv at its root."))
            return pkg
        manifest = {}
        for r in _records(zf, entries["manifest.csv"], pkg, "manifest", ["propertyName", "value"]):
            manifest[r.values["propertyName"]] = (r.values["value"], r.line)
        if pkg.errors:
            return pkg
        manifest_version = manifest.get("manifest.version", ("", None))
        if manifest_version[0] != "1.0":
            pkg.error(
                "manifest", manifest_version[1], "value", "version", gettext_lazy("manifest.version must be 1.0.")
            )
        version = manifest.get("oneroster.version", ("", None))
        if version[0] not in ("1.1", "1.2"):
            pkg.error("manifest", version[1], "value", "version", gettext_lazy("oneroster.version must be 1.1 or 1.2."))
            return pkg
        pkg.version = version[0]
        columns = COLUMNS_12 if pkg.version == "1.2" else COLUMNS_11
        for name in READ_ORDER:
            if name == "roles" and pkg.version == "1.1":
                continue
            mode, line = manifest.get(f"file.{name}", ("absent", None))
            if mode not in MODES:
                pkg.error(
                    "manifest",
                    line,
                    "value",
                    "invalid_choice",
                    gettext_lazy('Must be one of: %(v)s; found "%(got)s".'),
                    {"v": "absent, bulk, delta", "got": rules.shown(mode)},
                )
                continue
            pkg.modes[name] = mode
            if mode == "absent":
                continue
            info = entries.get(f"{name}.csv")
            if info is None:
                pkg.error(
                    name, 0, None, "missing", gettext_lazy("The manifest lists this file but the zip does not hold it.")
                )
                continue
            pkg.files[name] = _checked_records(zf, info, pkg, name, columns[name].split(","), mode)
    return pkg


def _checked_records(zf, info, pkg: Package, name: str, columns: list[str], mode: str) -> dict:
    """The file's valid records by sourcedId, keeping only the columns the roster stores (and of
    them only the non-empty ones). Every record is checked, and every sourcedId for duplicates.
    Enrollments are counted by role (the answer's `roles`)."""
    records: dict[str, Record] = {}
    keep = ("sourcedId", *KEEP[name])
    for rec in _records(zf, info, pkg, name, columns):
        if not _check_record(pkg, name, rec, mode):
            continue
        sid = rec.values["sourcedId"]
        if sid in records:
            pkg.error(name, rec.line, "sourcedId", "duplicate", gettext_lazy("This sourcedId appears twice."))
            continue
        if name == "enrollments":
            role = rec.values["role"]
            if role != "student":
                key = "teachers" if role == "teacher" else "other_roles"
                pkg.skipped[key] = pkg.skipped.get(key, 0) + 1
        records[sid] = Record(rec.line, {c: v for c in keep if (v := rec.values.get(c, ""))})
    return records


@dataclass
class Mapped:
    """The enrollment sync's rows for what an import changed, and where each came from."""

    raw_rows: list = field(default_factory=list)
    origins: list = field(default_factory=list)  # per row: (enrollment line, user line)
    mode: str = "upsert"
    skipped: dict = field(default_factory=lambda: {"teachers": 0, "other_roles": 0})


def map_package(pkg: Package, *, organization: Organization, changed: dict) -> Mapped:
    """The sync rows of the (learner, course) seats the stored roster's changes touch: active
    while any active student enrollment of a mapped class gives it, dropped otherwise (only for a
    learner who has an account: a learner never enrolled is not created to be dropped). A learner
    of a mapped class needs an e-mail address (an error on their users.csv line)."""
    out = Mapped(mode="full" if pkg.modes.get("enrollments") == "bulk" else "upsert")
    enr_lines = {sid: r.line for sid, r in pkg.files.get("enrollments", {}).items()}
    user_lines = {sid: r.line for sid, r in pkg.files.get("users", {}).items()}
    seats = roster_selectors.roster_student_seats(
        organization=organization,
        class_ids=changed.get("classes", ()),
        user_ids=changed.get("users", ()),
        enrollment_ids=changed.get("enrollments", ()),
        course_codes=set(open_course_ids()),
        left=changed.get("left"),
    )
    for seat in seats:
        if not seat.active and not seat.has_account:
            continue
        user_line = user_lines.get(seat.user_sourced_id)
        if seat.active and not seat.email:
            if user_line:
                pkg.error("users", user_line, "email", "required", gettext_lazy("A learner needs an e-mail address."))
            else:
                pkg.error("enrollments", enr_lines.get(seat.enrollment_sourced_id, 0), "userSourcedId", "required",
                          gettext_lazy("This learner has no e-mail address."))  # fmt: skip
            continue
        out.raw_rows.append(
            {
                "external_id": seat.user_sourced_id,
                "email": seat.email,
                "given_name": seat.given_name,
                "family_name": seat.family_name,
                "course_code": seat.course_code,
                "status": Enrollment.Status.ACTIVE if seat.active else Enrollment.Status.DROPPED,
            }
        )
        out.origins.append((enr_lines.get(seat.enrollment_sourced_id), user_line))
    return out


def _locate(detail: dict, origins: list) -> dict:
    """A sync row error -> the OneRoster file, line and column it came from."""
    enr_line, user_line = origins[detail["row"]]
    fld = detail.get("field")
    if fld in ("email", "given_name", "family_name") and user_line:
        column = {"email": "email", "given_name": "givenName", "family_name": "familyName"}[fld]
        return {**detail, "file": "users.csv", "line": user_line, "column": column, "field": column}
    if fld == "course_code":
        return {**detail, "file": "enrollments.csv", "line": enr_line, "column": "classSourcedId",
                "field": "classSourcedId"}  # fmt: skip
    return {**detail, "file": "enrollments.csv", "line": enr_line, "column": "userSourcedId", "field": "userSourcedId"}


def _sync_chunks(*, organization, mapped: Mapped, client, endpoint, dry_run, force) -> dict:
    """Run the enrollment sync over the rows in chunks of INTEGRATIONS_SYNC_MAX_ROWS, inside the
    caller's transaction: a package has no cap below its own size limits."""
    size = max(1, settings.INTEGRATIONS_SYNC_MAX_ROWS)
    counts = {"created": 0, "updated": 0, "unchanged": 0, "dropped": 0}
    learners = {"created": 0, "updated": 0}
    errors, total = [], 0
    drops = [r for r in mapped.raw_rows if r["status"] == Enrollment.Status.DROPPED]
    if mapped.mode == "full" and drops and not force:
        _drop_threshold(organization=organization, drops=drops)
    # The drops go in their own chunks, after the enrollments: their changes are the answer's
    # "dropped" (the sync counts a status change as "updated").
    order = sorted(range(len(mapped.raw_rows)), key=lambda i: mapped.raw_rows[i]["status"] == Enrollment.Status.DROPPED)
    for start in range(0, len(order), size):
        indices = order[start : start + size]
        rows = [mapped.raw_rows[i] for i in indices]
        drops = [r["status"] == Enrollment.Status.DROPPED for r in rows]
        chunks = [(rows, indices)]
        if any(drops) and not all(drops):
            cut = drops.index(True)
            chunks = [(rows[:cut], indices[:cut]), (rows[cut:], indices[cut:])]
        for chunk, where in chunks:
            try:
                outcome = sync.enrollment_sync(
                    organization=organization,
                    raw_rows=chunk,
                    mode="upsert",
                    force=force,
                    client=client,
                    endpoint=endpoint,
                    source=Enrollment.Source.ONEROSTER,
                    audit=False,
                )
            except sync.SyncRefused as exc:
                for d in exc.extra.get("details", []):
                    if d.get("row") is not None:
                        d = _locate({**d, "row": where[d["row"]]}, mapped.origins)
                    errors.append(d)
                total += exc.extra.get("errors_total", len(exc.extra.get("details", [])))
                continue
            got = outcome.body["counts"]
            if chunk[0]["status"] == Enrollment.Status.DROPPED:
                counts["dropped"] += got["created"] + got["updated"] + got["dropped"]
                counts["unchanged"] += got["unchanged"]
            else:
                for k in counts:
                    counts[k] += got[k]
            for k in learners:
                learners[k] += outcome.body["learners"][k]
    if errors:
        raise _refused(errors[: max(1, settings.ONEROSTER_MAX_ERRORS)], total)
    return {"mode": mapped.mode, "dry_run": dry_run, "counts": counts, "learners": learners}


def _drop_threshold(*, organization: Organization, drops: list[dict]) -> None:
    """A bulk enrollments file dropping more than INTEGRATIONS_SYNC_MAX_DROP_SHARE of the
    university's open enrollments in those courses is refused unless forced (a truncated export
    must not unenroll a faculty)."""
    courses = open_course_ids()
    ids = {courses[r["course_code"]] for r in drops if r["course_code"] in courses}
    open_now = organization_enrollments_open(organization=organization, course_ids=ids)
    held = {(ext, cid) for _pk, _uid, cid, _status, ext in open_now}
    share = settings.INTEGRATIONS_SYNC_MAX_DROP_SHARE
    drops = sum(1 for r in drops if (r["external_id"], courses.get(r["course_code"])) in held)
    if drops and drops > share * len(open_now):
        raise sync.DropThresholdExceeded(
            _(
                "This bulk import would drop %(n)d of %(total)d enrollments (more than %(share)d%%); "
                "send force=true to apply it."
            )
            % {"n": drops, "total": len(open_now), "share": round(share * 100)},
            extra={
                "code": "drop_threshold_exceeded",
                "details": [{"field": "force", "code": "required", "message": str(drops)}],
            },
        )


def _teachers(*, organization: Organization, changed: dict) -> dict:
    """Where the university may (RosterPolicy.assign_teachers): accounts for the teachers of
    mapped classes (created and invited as learners are), then the roster's instructor
    assignments made to match the stored roster."""
    now = timezone.now()
    people = {}
    for i, (sid, email, given, family) in enumerate(
        RosterUser.objects.filter(
            organization=organization,
            user__isnull=True,
            is_active=True,
            is_enabled=True,
            enrollments__role=RosterEnrollment.Role.TEACHER,
            enrollments__is_active=True,
            enrollments__roster_class__course__isnull=False,
        )
        .exclude(email="")
        .distinct()
        .values_list("sourced_id", "email", "given_name", "family_name")
    ):
        full_name = " ".join(p for p in (given, family) if p)[:200]
        people[sid] = SyncRow(i, sid, email.lower(), full_name, "", Enrollment.Status.ACTIVE)
    created = 0
    if people:
        before = set(
            get_user_model()
            .objects.filter(organization=organization, external_id__in=list(people))
            .values_list("external_id", flat=True)
        )
        sync.accounts_ensure(organization=organization, people=people, now=now)
        created = len(set(people) - before)
        roster_services.roster_users_link(organization=organization)
    return {**roster_services.roster_instructors_apply(organization=organization), "accounts_created": created}


def _lock(organization: Organization) -> None:
    """One roster write per university at a time (imports, jobs, mappings), as the sync does:
    two at once would both create the same new sourcedIds, or deactivate from stale snapshots."""
    Organization.objects.select_for_update().filter(pk=organization.pk).first()


def oneroster_import(
    *,
    organization: Organization,
    fileobj,
    size: int | None = None,
    client: ApiClient | None = None,
    dry_run: bool = False,
    force: bool = False,
    endpoint: str = "oneroster/imports",
    progress=None,
) -> dict:
    """Import a OneRoster CSV package for a university: store its whole roster (roster app), run
    the enrollment sync for the students of mapped classes it changed, and, where the university
    may, make its teachers instructors. All or nothing: a refused package (OneRosterRefused, with
    every bad row by file, line and column) changes nothing but one "refused" audit entry.
    `dry_run` does everything, answers, and rolls it all back. `progress(step, **counts)` is told
    each step (reading, storing with the records read per file, enrolling, teachers)."""
    tell = progress or (lambda step, **counts: None)
    try:
        tell("reading")
        pkg = read_package(fileobj, size=size)
        if not pkg.errors and pkg.modes.get("enrollments", "absent") == "absent":
            pkg.error("manifest", 0, "value", "missing", gettext_lazy("file.enrollments must be bulk or delta."))
        if pkg.errors:
            raise _refused(pkg.errors, pkg.errors_total)
        tell("storing", records={name: len(records) for name, records in pkg.files.items()})
        with transaction.atomic():
            _lock(organization)
            body = _store_and_sync(
                pkg, organization=organization, client=client, endpoint=endpoint, dry_run=dry_run, force=force,
                tell=tell,
            )  # fmt: skip
            if not dry_run:
                _audit(organization, client, endpoint, "oneroster.import", pkg, body)
            else:
                transaction.set_rollback(True)  # a dry run did everything: now undo it
        if dry_run:
            _audit(organization, client, endpoint, "oneroster.import.dry_run", pkg, body)
    except ApplicationError as exc:
        # Written outside the rolled-back transaction: the one trace of a refused package.
        AuditEntry.objects.create(
            organization=organization,
            client=client,
            endpoint=endpoint,
            action="oneroster.import.refused",
            counts={"errors": exc.extra.get("errors_total", 1)},
            detail={"code": exc.extra.get("code", "")},
        )
        raise
    return body


def _audit(organization, client, endpoint, action: str, pkg: Package, body: dict) -> None:
    AuditEntry.objects.create(
        organization=organization,
        client=client,
        endpoint=endpoint,
        action=action,
        counts={**body["counts"], "learners_created": body["learners"]["created"]},
        detail={"version": pkg.version, "files": pkg.modes, "roster": body["oneroster"]["roster"]},
    )


def _store_and_sync(pkg: Package, *, organization, client, endpoint, dry_run, force, tell) -> dict:
    try:
        stored = roster_services.roster_apply(
            organization=organization, files=pkg.files, modes=pkg.modes, version=pkg.version, error=pkg.error
        )
    except roster_services.RosterInvalid:
        raise _refused(pkg.errors, pkg.errors_total) from None
    tell("enrolling")
    mapped = map_package(pkg, organization=organization, changed={**stored.changed, "left": stored.left})
    if pkg.errors:
        raise _refused(pkg.errors, pkg.errors_total)
    body = _sync_chunks(
        organization=organization, mapped=mapped, client=client, endpoint=endpoint, dry_run=dry_run, force=force
    )
    roster_services.roster_users_link(organization=organization)
    policy = RosterPolicy.objects.filter(organization=organization).first()
    teachers = {"enabled": bool(policy and policy.assign_teachers), "added": 0, "removed": 0, "accounts_created": 0}
    if teachers["enabled"]:
        tell("teachers")
        teachers.update(_teachers(organization=organization, changed=stored.changed))
    skipped = {
        "teachers": 0 if teachers["enabled"] else pkg.skipped.get("teachers", 0),
        "other_roles": pkg.skipped.get("other_roles", 0),
    }
    body["oneroster"] = {
        "version": pkg.version,
        "files": pkg.modes,
        "skipped": skipped,
        "roster": stored.counts,
        "unmapped": roster_selectors.roster_unmapped(organization=organization),
        "teachers": teachers,
    }
    return body


def _refused(details: list[dict], total: int) -> OneRosterRefused:
    """The refusal of a package: its first errors, and how many there are in all."""
    message = ngettext(
        "The OneRoster package has %(n)d error; nothing was changed.",
        "The OneRoster package has %(n)d errors; nothing was changed.",
        total,
    ) % {"n": total}
    if total > len(details):
        message += " " + _("The first %(shown)d are listed, and %(more)d more.") % {
            "shown": len(details),
            "more": total - len(details),
        }
    return OneRosterRefused(message, extra={"code": "invalid_package", "details": details, "errors_total": total})


def roster_course_of(*, organization: Organization, sourced_id: str):
    """The university's stored roster course with this sourcedId, or NotFound (another
    university's is not found either)."""
    roster_course = roster_selectors.roster_course_get(organization=organization, sourced_id=sourced_id)
    if roster_course is None:
        raise NotFound(_("No roster course has this sourcedId."), extra={"code": "not_found"})
    return roster_course


def oneroster_course_map(
    *,
    organization: Organization,
    sourced_id: str,
    course_code: str | None,
    user=None,
    client: ApiClient | None = None,
    endpoint: str = "oneroster/courses/mapping",
) -> dict:
    """Map a stored roster course onto one of our open courses (or, with no code, unmap it), as
    the university's admin (`user`) or its API client: then the stored students of its classes
    are enrolled through the sync and, where the university may, its teachers assigned; all in
    one transaction. Returns the mapping and what the sync did."""
    roster_course = roster_course_of(organization=organization, sourced_id=sourced_id)
    course = None
    if course_code:
        course_id = open_course_ids().get(course_code)
        if course_id is None:
            raise ApplicationError(
                _("No open course has the code %(code)s.") % {"code": course_code},
                field="course_code",
                extra={"code": "unknown_course"},
            )
        course = Course.objects.get(pk=course_id)
    with transaction.atomic():
        _lock(organization)
        changed = roster_services.roster_course_map(
            roster_course=roster_course, course=course, user=user, organization=None if user else organization
        )
        pkg = Package()
        mapped = map_package(pkg, organization=organization, changed={"classes": set(changed), "left": changed})
        if pkg.errors:
            raise _refused(pkg.errors, pkg.errors_total)
        body = _sync_chunks(
            organization=organization, mapped=mapped, client=client, endpoint=endpoint, dry_run=False, force=False
        )
        roster_services.roster_users_link(organization=organization)
        policy = RosterPolicy.objects.filter(organization=organization).first()
        if policy and policy.assign_teachers:
            body["teachers"] = _teachers(organization=organization, changed={"classes": set(changed)})
        AuditEntry.objects.create(
            organization=organization,
            client=client,
            endpoint=endpoint,
            action="oneroster.course_map",
            counts=body["counts"],
            detail={"sourced_id": sourced_id, "course_code": course_code or "", "by": user.pk if user else None},
        )
    roster_course.refresh_from_db()
    return {
        "sourced_id": roster_course.sourced_id,
        "course_code": roster_course.course.code if roster_course.course_id else None,
        "is_mapped_by_admin": roster_course.is_mapped_by_admin,
        "classes_changed": len(changed),
        **body,
    }

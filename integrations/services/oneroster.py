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
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.models import Organization
from courses.enrollments import open_course_ids
from courses.models import Enrollment
from kernel.errors import ApplicationError

from ..models import ApiClient
from . import oneroster_rules as rules
from . import sync

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


# The columns each file's records keep once checked: what the mapping reads, nothing more, so a
# large valid package costs a few short strings per row.
KEEP = {
    "orgs": ("type",),
    "academicSessions": (),
    "courses": ("courseCode",),
    "classes": ("classCode", "courseSourcedId", "schoolSourcedId"),
    "users": ("email", "givenName", "familyName", "enabledUser", "status"),
    "roles": (),
    "enrollments": ("classSourcedId", "schoolSourcedId", "userSourcedId", "role", "status"),
}
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
    """The file's valid records by sourcedId, keeping only what the mapping can use: users that
    an enrollment names, student enrollments up to the sync's batch limit (teachers are counted).
    Every record is still checked, and every sourcedId is checked for duplicates."""
    records: dict[str, Record] = {}
    seen: set[str] = set()  # sourcedIds of checked records not kept
    wanted = None
    if name == "users":
        wanted = {e.values["userSourcedId"] for e in pkg.files.get("enrollments", {}).values()}
    max_students, students = settings.INTEGRATIONS_SYNC_MAX_ROWS, 0
    for rec in _records(zf, info, pkg, name, columns):
        if not _check_record(pkg, name, rec, mode):
            continue
        sid = rec.values["sourcedId"]
        if sid in records or sid in seen:
            pkg.error(name, rec.line, "sourcedId", "duplicate", gettext_lazy("This sourcedId appears twice."))
            continue
        keep = bool(KEEP[name])
        if name == "enrollments":
            if rec.values["role"] != "student":
                pkg.skipped["teachers" if rec.values["role"] == "teacher" else "other_roles"] += 1
                keep = False
            else:
                students += 1
                if students == max_students + 1:
                    pkg.error(
                        name,
                        rec.line,
                        None,
                        "too_many_rows",
                        gettext_lazy("More than %(n)d student enrollments: the sync takes at most %(n)d at once."),
                        {"n": max_students},
                    )
                keep = students <= max_students
        elif wanted is not None and sid not in wanted:
            keep = False
        if keep:
            records[sid] = Record(rec.line, {c: rec.values[c] for c in ("sourcedId", *KEEP[name])})
        else:
            seen.add(sid)
    return records


@dataclass
class Mapped:
    raw_rows: list = field(default_factory=list)
    origins: list = field(default_factory=list)  # per row: (enrollment line, user line, class line)
    mode: str = "upsert"
    scope_codes: list = field(default_factory=list)
    skipped: dict = field(default_factory=lambda: {"teachers": 0, "other_roles": 0})


def map_package(pkg: Package, *, organization: Organization, course_codes: set[str]) -> Mapped:
    """Turn a checked package into sync rows; reference errors are added to pkg.errors."""
    from django.contrib.auth import get_user_model

    out = Mapped(skipped=dict(pkg.skipped))
    users, classes = pkg.files.get("users", {}), pkg.files.get("classes", {})
    courses, orgs = pkg.files.get("courses", {}), pkg.files.get("orgs", {})
    enrollments = pkg.files.get("enrollments", {})
    if pkg.modes.get("enrollments", "absent") == "absent":
        pkg.error("manifest", 0, "value", "missing", gettext_lazy("file.enrollments must be bulk or delta."))
        return out
    out.mode = "full" if pkg.modes["enrollments"] == "bulk" else "upsert"

    def class_code(cls: Record) -> str | None:
        if cls.values.get("classCode") in course_codes:
            return cls.values["classCode"]
        course = courses.get(cls.values["courseSourcedId"])
        if course is not None and course.values.get("courseCode") in course_codes:
            return course.values["courseCode"]
        return None

    codes: dict[str, str] = {}
    for sid, cls in classes.items():
        code = class_code(cls)
        if code is None:
            pkg.error(
                "classes",
                cls.line,
                "classCode",
                "unknown_course",
                gettext_lazy("Neither this classCode nor its course's courseCode is the code of an open course."),
            )
        else:
            codes[sid] = code
        school = cls.values["schoolSourcedId"]
        if orgs and school in orgs and orgs[school].values["type"] != "school":
            pkg.error(
                "classes", cls.line, "schoolSourcedId", "invalid_reference", gettext_lazy("This org is not a school.")
            )
    if out.mode == "full":
        out.scope_codes = sorted(set(codes.values()))

    # Learners not in a delta users file may already be known to us by their sourcedId.
    missing_users = {e.values["userSourcedId"] for e in enrollments.values()} - set(users)
    known = {
        ext: roster or email  # a stand-in's address is the one its roster gave
        for ext, email, roster in get_user_model()
        .objects.filter(organization=organization, external_id__in=missing_users)
        .values_list("external_id", "email", "roster_email")
    }
    for enr in sorted(enrollments.values(), key=lambda r: r.line):
        v = enr.values
        if v["role"] != "student":
            continue  # read_package keeps only students (and counted the others)
        if orgs and v["schoolSourcedId"] not in orgs:
            pkg.error(
                "enrollments",
                enr.line,
                "schoolSourcedId",
                "invalid_reference",
                gettext_lazy("No org has this sourcedId."),
            )
            continue
        if orgs and orgs[v["schoolSourcedId"]].values["type"] != "school":
            pkg.error(
                "enrollments",
                enr.line,
                "schoolSourcedId",
                "invalid_reference",
                gettext_lazy("This org is not a school."),
            )
            continue
        cls = classes.get(v["classSourcedId"])
        if cls is None:
            pkg.error(
                "enrollments",
                enr.line,
                "classSourcedId",
                "invalid_reference",
                gettext_lazy("No class has this sourcedId."),
            )
            continue
        if v["classSourcedId"] not in codes:
            continue  # already reported on classes.csv
        user = users.get(v["userSourcedId"])
        if user is None and v["userSourcedId"] not in known:
            pkg.error(
                "enrollments",
                enr.line,
                "userSourcedId",
                "invalid_reference",
                gettext_lazy("No user has this sourcedId."),
            )
            continue
        if user is not None:
            email = user.values.get("email", "")
            if not email:
                pkg.error("users", user.line, "email", "required", gettext_lazy("A learner needs an e-mail address."))
                continue
            given, family = user.values["givenName"], user.values["familyName"]
            enabled = user.values["enabledUser"] == "true" and user.values.get("status") != "tobedeleted"
        else:
            email, given, family, enabled = known[v["userSourcedId"]], "", "", True
        status = Enrollment.Status.ACTIVE
        if v.get("status") == "tobedeleted" or not enabled:
            status = Enrollment.Status.DROPPED
        out.raw_rows.append(
            {
                "external_id": v["userSourcedId"],
                "email": email,
                "given_name": given,
                "family_name": family,
                "course_code": codes[v["classSourcedId"]],
                "status": status,
            }
        )
        out.origins.append((enr.line, user.line if user else None, cls.line))
    return out


def _locate(detail: dict, origins: list) -> dict:
    """A sync row error -> the OneRoster file, line and column it came from."""
    enr_line, user_line, class_line = origins[detail["row"]]
    fld = detail.get("field")
    if fld in ("email", "given_name", "family_name") and user_line:
        column = {"email": "email", "given_name": "givenName", "family_name": "familyName"}[fld]
        return {**detail, "file": "users.csv", "line": user_line, "column": column, "field": column}
    if fld == "course_code":
        return {**detail, "file": "classes.csv", "line": class_line, "column": "classCode", "field": "classCode"}
    return {**detail, "file": "enrollments.csv", "line": enr_line, "column": "userSourcedId", "field": "userSourcedId"}


def oneroster_import(
    *,
    organization: Organization,
    fileobj,
    size: int | None = None,
    client: ApiClient | None = None,
    dry_run: bool = False,
    force: bool = False,
    endpoint: str = "oneroster/imports",
) -> dict:
    """Import a OneRoster CSV package for a university through the enrollment sync. Raises
    OneRosterRefused with every bad row (file, line, column) and writes nothing in that case."""
    pkg = read_package(fileobj, size=size)
    mapped = Mapped()
    if not pkg.errors:
        mapped = map_package(pkg, organization=organization, course_codes=set(open_course_ids()))
    if pkg.errors:
        raise _refused(pkg.errors, pkg.errors_total)
    try:
        outcome = sync.enrollment_sync(
            organization=organization,
            raw_rows=mapped.raw_rows,
            mode=mapped.mode,
            dry_run=dry_run,
            force=force,
            client=client,
            endpoint=endpoint,
            source=Enrollment.Source.ONEROSTER,
            scope_course_codes=mapped.scope_codes,
        )
    except sync.SyncRefused as exc:
        details = [_locate(d, mapped.origins) if d.get("row") is not None else d for d in exc.extra.get("details", [])]
        total = exc.extra.get("errors_total", len(details))
        raise _refused(details[: pkg.max_errors], total) from None
    return {**outcome.body, "oneroster": {"version": pkg.version, "files": pkg.modes, "skipped": mapped.skipped}}


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

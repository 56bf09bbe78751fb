"""OneRoster CSV import (1.2, and 1.1 tolerated), mapped onto the enrollment sync.

The zip is read in memory, entry by entry: only files at its root with the expected names are
read, never extracted, so an entry's path is never followed. Sizes are capped (the upload, each
entry once inflated, each field). Every bad row is named by file, line and column, and nothing is
written unless the whole package is valid.

Mapping: users.sourcedId is the learner's external id; a class maps to our course whose code is
its classCode, else its course's courseCode; enrollments with role=student become sync rows
(teachers are counted and skipped: universities do not assign instructors). A bulk enrollments
file is a full sync over the package's classes; a delta one an upsert where `tobedeleted` drops."""

import csv
import io
import zipfile
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from accounts.models import Organization
from config.errors import ApplicationError
from courses.models import Enrollment

from ..models import ApiClient
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
ENUMS = {
    ("orgs", "type"): {"department", "school", "district", "local", "state", "national"},
    ("academicSessions", "type"): {"gradingPeriod", "semester", "schoolYear", "term"},
    ("classes", "classType"): {"homeroom", "scheduled"},
    ("enrollments", "role"): {"administrator", "proctor", "student", "teacher"},
    ("users", "enabledUser"): {"true", "false"},
    ("roles", "roleType"): {"primary", "secondary"},
}
# What we read; the rest of a package (demographics, resources...) is ignored.
FILES = ["orgs", "academicSessions", "courses", "classes", "users", "roles", "enrollments"]
MODES = {"absent", "bulk", "delta"}


class OneRosterRefused(ApplicationError):
    pass


class PackageTooLarge(ApplicationError):
    status_code = 413


@dataclass
class Record:
    line: int
    values: dict


@dataclass
class Package:
    version: str = "1.2"
    modes: dict = field(default_factory=dict)
    files: dict = field(default_factory=dict)  # name -> {sourcedId: Record}
    errors: list = field(default_factory=list)

    def error(self, file: str, line: int, column: str | None, code: str, message: str) -> None:
        self.errors.append(
            {"file": f"{file}.csv" if file else None, "line": line, "column": column, "field": column, "code": code,
             "message": message}
        )  # fmt: skip


def _read_entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo, pkg: Package, name: str) -> str | None:
    limit = settings.ONEROSTER_MAX_ENTRY_BYTES
    if info.file_size > limit:
        pkg.error(name, 0, None, "too_large", _("This file is larger than %(n)d bytes.") % {"n": limit})
        return None
    with zf.open(info) as fh:
        data = fh.read(limit + 1)  # the header's size may lie: never inflate past the limit
    if len(data) > limit:
        pkg.error(name, 0, None, "too_large", _("This file is larger than %(n)d bytes.") % {"n": limit})
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pkg.error(name, 0, None, "encoding", _("This file is not UTF-8."))
        return None


def _rows(text: str, name: str, pkg: Package, columns: list[str]) -> list[Record]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        pkg.error(name, 1, None, "empty", _("The file is empty: a header line is expected."))
        return []
    except csv.Error as exc:
        pkg.error(name, 1, None, "csv", str(exc))
        return []
    expected = columns
    if header[: len(expected)] != expected:
        for i, col in enumerate(expected):
            got = header[i] if i < len(header) else None
            if got != col:
                pkg.error(
                    name,
                    1,
                    col,
                    "header",
                    _("Column %(n)d of the header must be %(col)s, found %(got)s.")
                    % {"n": i + 1, "col": col, "got": got if got is not None else _("nothing")},
                )
                break
        return []
    for extra in header[len(expected) :]:
        if not extra.startswith("metadata."):
            pkg.error(name, 1, extra, "header", _("Extra columns must be named metadata.*."))
            return []
    max_chars = settings.ONEROSTER_MAX_FIELD_CHARS
    records = []
    try:
        for values in reader:
            line = reader.line_num
            if not values or values == [""]:
                continue
            if len(values) != len(header):
                pkg.error(
                    name,
                    line,
                    None,
                    "columns",
                    _("This line has %(got)d fields; the header has %(n)d.") % {"got": len(values), "n": len(header)},
                )
                continue
            row = dict(zip(header, (v.strip() for v in values), strict=True))
            bad = [c for c, v in row.items() if len(v) > max_chars]
            if bad:
                pkg.error(name, line, bad[0], "max_length", _("Longer than %(n)d characters.") % {"n": max_chars})
                continue
            records.append(Record(line, row))
    except csv.Error as exc:
        pkg.error(name, reader.line_num, None, "csv", str(exc))
    return records


def _check_record(pkg: Package, name: str, rec: Record, mode: str) -> bool:
    ok = True
    for col in sorted(REQUIRED[name]):
        if not rec.values.get(col):
            pkg.error(name, rec.line, col, "required", _("This field is required."))
            ok = False
    for (fname, col), allowed in ENUMS.items():
        value = rec.values.get(col, "")
        if fname == name and value and value not in allowed:
            pkg.error(
                name, rec.line, col, "invalid_choice", _("Must be one of: %(v)s.") % {"v": ", ".join(sorted(allowed))}
            )
            ok = False
    status, stamp = rec.values.get("status", ""), rec.values.get("dateLastModified", "")
    if mode == "delta":
        if status not in ("active", "tobedeleted"):
            pkg.error(
                name, rec.line, "status", "invalid_choice", _("In a delta file, status is active or tobedeleted.")
            )
            ok = False
        if not stamp or (parse_datetime(stamp) is None and parse_date(stamp) is None):
            pkg.error(
                name, rec.line, "dateLastModified", "invalid", _("In a delta file, an ISO 8601 date is required.")
            )
            ok = False
    elif status not in ("", "active"):
        pkg.error(name, rec.line, "status", "invalid", _("In a bulk file, status is left blank."))
        ok = False
    return ok


def read_package(fileobj, *, size: int | None = None) -> Package:
    """Read and check a OneRoster zip. Errors are collected in Package.errors."""
    pkg = Package()
    if size is not None and size > settings.ONEROSTER_MAX_UPLOAD_BYTES:
        raise PackageTooLarge(
            _("The package is larger than %(n)d bytes.") % {"n": settings.ONEROSTER_MAX_UPLOAD_BYTES},
            field="file",
            extra={"code": "too_large"},
        )
    try:
        zf = zipfile.ZipFile(fileobj)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise OneRosterRefused(_("The file is not a zip archive."), field="file", extra={"code": "not_a_zip"}) from None
    with zf:
        # Only plain names at the root count; anything with a path is ignored, never followed.
        entries = {i.filename: i for i in zf.infolist() if "/" not in i.filename and "\\" not in i.filename}
        if "manifest.csv" not in entries:
            pkg.error("manifest", 0, None, "missing", _("The package has no manifest.csv at its root."))
            return pkg
        text = _read_entry(zf, entries["manifest.csv"], pkg, "manifest")
        if text is None:
            return pkg
        manifest = {r.values["propertyName"]: (r.values["value"], r.line) for r in _rows(
            text, "manifest", pkg, ["propertyName", "value"])}  # fmt: skip
        if pkg.errors:
            return pkg
        manifest_version = manifest.get("manifest.version", ("", 0))
        if manifest_version[0] != "1.0":
            pkg.error("manifest", manifest_version[1] or 0, "value", "version", _("manifest.version must be 1.0."))
        version = manifest.get("oneroster.version", ("", 0))
        if version[0] not in ("1.1", "1.2"):
            pkg.error("manifest", version[1] or 0, "value", "version", _("oneroster.version must be 1.1 or 1.2."))
            return pkg
        pkg.version = version[0]
        columns = COLUMNS_12 if pkg.version == "1.2" else COLUMNS_11
        for name in FILES:
            if name == "roles" and pkg.version == "1.1":
                continue
            mode, line = manifest.get(f"file.{name}", ("absent", 0))
            if mode not in MODES:
                pkg.error("manifest", line, "value", "invalid_choice", _("Must be absent, bulk or delta."))
                continue
            pkg.modes[name] = mode
            if mode == "absent":
                continue
            info = entries.get(f"{name}.csv")
            if info is None:
                pkg.error(name, 0, None, "missing", _("The manifest lists this file but the zip does not hold it."))
                continue
            text = _read_entry(zf, info, pkg, name)
            if text is None:
                continue
            records = {}
            for rec in _rows(text, name, pkg, columns[name].split(",")):
                if not _check_record(pkg, name, rec, mode):
                    continue
                sid = rec.values["sourcedId"]
                if sid in records:
                    pkg.error(name, rec.line, "sourcedId", "duplicate", _("This sourcedId appears twice."))
                    continue
                records[sid] = rec
            pkg.files[name] = records
    return pkg


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

    out = Mapped()
    users, classes = pkg.files.get("users", {}), pkg.files.get("classes", {})
    courses, orgs = pkg.files.get("courses", {}), pkg.files.get("orgs", {})
    enrollments = pkg.files.get("enrollments", {})
    if pkg.modes.get("enrollments", "absent") == "absent":
        pkg.error("manifest", 0, "value", "missing", _("file.enrollments must be bulk or delta."))
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
                _("Neither this classCode nor its course's courseCode is the code of an open course."),
            )
        else:
            codes[sid] = code
        school = cls.values["schoolSourcedId"]
        if orgs and school in orgs and orgs[school].values["type"] != "school":
            pkg.error("classes", cls.line, "schoolSourcedId", "invalid_reference", _("This org is not a school."))
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
            out.skipped["teachers" if v["role"] == "teacher" else "other_roles"] += 1
            continue
        if orgs and v["schoolSourcedId"] not in orgs:
            pkg.error("enrollments", enr.line, "schoolSourcedId", "invalid_reference", _("No org has this sourcedId."))
            continue
        if orgs and orgs[v["schoolSourcedId"]].values["type"] != "school":
            pkg.error("enrollments", enr.line, "schoolSourcedId", "invalid_reference", _("This org is not a school."))
            continue
        cls = classes.get(v["classSourcedId"])
        if cls is None:
            pkg.error("enrollments", enr.line, "classSourcedId", "invalid_reference", _("No class has this sourcedId."))
            continue
        if v["classSourcedId"] not in codes:
            continue  # already reported on classes.csv
        user = users.get(v["userSourcedId"])
        if user is None and v["userSourcedId"] not in known:
            pkg.error("enrollments", enr.line, "userSourcedId", "invalid_reference", _("No user has this sourcedId."))
            continue
        if user is not None:
            email = user.values.get("email", "")
            if not email:
                pkg.error("users", user.line, "email", "required", _("A learner needs an e-mail address."))
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
        from courses.models import Course, PublicationStatus

        codes = set(Course.objects.filter(status=PublicationStatus.PUBLISHED).values_list("code", flat=True))
        mapped = map_package(pkg, organization=organization, course_codes=codes)
    if pkg.errors:
        raise OneRosterRefused(
            _("The OneRoster package has %(n)d error(s); nothing was changed.") % {"n": len(pkg.errors)},
            extra={"code": "invalid_package", "details": pkg.errors[: sync.MAX_ERRORS]},
        )
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
        raise OneRosterRefused(
            _("The OneRoster package has %(n)d error(s); nothing was changed.") % {"n": len(details)},
            extra={"code": "invalid_package", "details": details},
        ) from None
    return {**outcome.body, "oneroster": {"version": pkg.version, "files": pkg.modes, "skipped": mapped.skipped}}

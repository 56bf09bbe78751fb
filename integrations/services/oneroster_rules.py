"""OneRoster 1.2.1 CSV rules for one record's values, for a zip's entries, and for UTF-8 checked
as bytes stream past. Used by oneroster.py; each check reports through `Package.error`.

- **sourcedId**: 1 to 255 characters, each printable and none of them whitespace (Unicode
  categories C* and Z* are refused: controls, format characters, spaces, line separators).
  Commas and quotes are fine (CSV quoting carries them). The spec calls it a GUID-like string.
- **Dates** (academicSessions startDate/endDate, roles beginDate/endDate, enrollments
  beginDate/endDate): exactly `YYYY-MM-DD` (ASCII digits) and a real day. A session's endDate is
  not before its startDate. `schoolYear` is four ASCII digits.
- **dateLastModified**: `YYYY-MM-DDTHH:MM:SS.sssZ` (milliseconds and Z) and a real moment.
- **Bulk** files leave `status` and `dateLastModified` blank; **delta** files fill both, status
  being `active` or `tobedeleted`.
- **Vocabularies** below; those the spec lets grow also take `ext:` values.
- **Zip entries**: a name with a `..` component, an absolute one (`/x`, `C:x`), one with a
  backslash or a control character, or a symbolic link refuses the whole package. Other entries
  below the root (folders, `__MACOSX/`) are ignored: only plain root names are ever read, and
  nothing is ever extracted. Two entries with one name refuse the package (which one is meant?)."""

import codecs
import datetime
import re
import stat
import zipfile

from django.utils.translation import gettext_lazy

VOCABULARIES = {
    ("orgs", "type"): {"department", "school", "district", "local", "state", "national"},
    ("academicSessions", "type"): {"gradingPeriod", "semester", "schoolYear", "term"},
    ("classes", "classType"): {"homeroom", "scheduled"},
    ("users", "enabledUser"): {"true", "false"},
    ("users", "role"): {"administrator", "aide", "guardian", "parent", "proctor", "relative", "student", "teacher"},
    ("roles", "roleType"): {"primary", "secondary"},
    ("roles", "role"): {"aide", "counselor", "districtAdministrator", "guardian", "parent", "principal", "proctor",
                        "relative", "siteAdministrator", "student", "systemAdministrator", "teacher"},
    ("enrollments", "role"): {"administrator", "proctor", "student", "teacher"},
    ("enrollments", "primary"): {"true", "false"},
}  # fmt: skip
# Vocabularies the spec extends with "ext:" values.
EXTENSIBLE = {("orgs", "type"), ("academicSessions", "type"), ("classes", "classType"), ("roles", "role")}
# The same, by file: what one record's check walks.
_VOCABULARIES_OF = {}
for (_file, _col), _allowed in VOCABULARIES.items():
    _VOCABULARIES_OF.setdefault(_file, []).append((_col, _allowed, (_file, _col) in EXTENSIBLE))
DATE_COLUMNS = {
    "academicSessions": ("startDate", "endDate"),
    "roles": ("beginDate", "endDate"),
    "enrollments": ("beginDate", "endDate"),
}
SOURCED_ID_MAX_CHARS = 255
DELTA_STATUSES = ("active", "tobedeleted")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z")
_YEAR = re.compile(r"[0-9]{4}")
_DRIVE = re.compile(r"[A-Za-z]:")
_SHOWN_CHARS = 60  # of a bad value quoted in a message


def shown(value: str) -> str:
    """A value as a message quotes it: control characters as "?", cut at _SHOWN_CHARS."""
    value = "".join(c if c.isprintable() else "?" for c in value)
    return value if len(value) <= _SHOWN_CHARS else value[:_SHOWN_CHARS] + "…"


def sourced_id_ok(value: str) -> bool:
    # str.isprintable() is False for every whitespace character but the ASCII space (and for
    # controls, format characters and line separators): the two tests cover them all.
    return len(value) <= SOURCED_ID_MAX_CHARS and value.isprintable() and " " not in value


def date_ok(value: str) -> bool:
    if not _DATE.fullmatch(value):
        return False
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def datetime_ok(value: str) -> bool:
    if not _DATETIME.fullmatch(value):
        return False
    try:
        datetime.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ")
    except ValueError:
        return False
    return True


def check_values(pkg, name: str, line: int, values: dict, mode: str) -> bool:
    """Check one record's values (required fields are checked by the caller); report each fault."""
    ok = True

    def bad(column, code, message, params=None):
        nonlocal ok
        pkg.error(name, line, column, code, message, params)
        ok = False

    sid = values.get("sourcedId", "")
    if sid and not sourced_id_ok(sid):
        bad(
            "sourcedId",
            "invalid_id",
            gettext_lazy(
                'A sourcedId is at most %(n)d characters, without spaces or control characters; found "%(got)s".'
            ),
            {"n": SOURCED_ID_MAX_CHARS, "got": shown(sid)},
        )
    dates = {}
    for col in DATE_COLUMNS.get(name, ()):
        value = values.get(col, "")
        if value and not date_ok(value):
            bad(
                col,
                "invalid_date",
                gettext_lazy('A date is written YYYY-MM-DD; found "%(got)s".'),
                {"got": shown(value)},
            )
        elif value:
            dates[col] = value
    if name == "academicSessions":
        if "startDate" in dates and "endDate" in dates and dates["endDate"] < dates["startDate"]:
            bad("endDate", "date_order", gettext_lazy("The end date is before the start date."))
        year = values.get("schoolYear", "")
        if year and not _YEAR.fullmatch(year):
            bad("schoolYear", "invalid_year", gettext_lazy('A school year is four digits (2027); found "%(got)s".'),
                {"got": shown(year)})  # fmt: skip
    for col, allowed, extensible in _VOCABULARIES_OF.get(name, ()):
        value = values.get(col, "")
        if not value or value in allowed:
            continue
        if extensible and value.startswith("ext:") and len(value) > 4:
            continue
        bad(col, "invalid_choice", gettext_lazy('Must be one of: %(v)s; found "%(got)s".'),
            {"v": ", ".join(sorted(allowed)), "got": shown(value)})  # fmt: skip
    status, stamp = values.get("status", ""), values.get("dateLastModified", "")
    if mode == "delta":
        if not status:
            bad("status", "required", gettext_lazy("In a delta file, status is required: active or tobedeleted."))
        elif status not in DELTA_STATUSES:
            bad("status", "invalid_choice", gettext_lazy('Must be one of: %(v)s; found "%(got)s".'),
                {"v": ", ".join(DELTA_STATUSES), "got": shown(status)})  # fmt: skip
        if not stamp:
            bad("dateLastModified", "required",
                gettext_lazy("In a delta file, dateLastModified is required (2026-09-01T08:30:00.000Z)."))  # fmt: skip
        elif not datetime_ok(stamp):
            bad("dateLastModified", "invalid_datetime",
                gettext_lazy('dateLastModified is written 2026-09-01T08:30:00.000Z (UTC, milliseconds); '
                             'found "%(got)s".'),
                {"got": shown(stamp)})  # fmt: skip
    else:
        for col, value in (("status", status), ("dateLastModified", stamp)):
            if value:
                bad(col, "not_blank", gettext_lazy('In a bulk file, %(col)s is left blank; found "%(got)s".'),
                    {"col": col, "got": shown(value)})  # fmt: skip
    return ok


# --- zip entries ---------------------------------------------------------------------------------


def entry_fault(info: zipfile.ZipInfo):
    """Why this entry refuses the whole package (a lazy message with %(entry)s), or None."""
    name = info.filename
    if stat.S_ISLNK(info.external_attr >> 16):
        return gettext_lazy("The zip entry «%(entry)s» is a symbolic link: the whole package is refused.")
    parts = name.replace("\\", "/").split("/")
    if (
        name.startswith("/")
        or _DRIVE.match(name)
        or "\\" in name
        or ".." in parts
        or any(not c.isprintable() for c in name)
    ):
        return gettext_lazy(
            "The path of the zip entry «%(entry)s» leaves the package root: the whole package is refused."
        )
    return None


def headers_understate(info: zipfile.ZipInfo) -> bool:
    """The zip's headers claim fewer inflated bytes than any compression can give from its
    compressed ones (deflate, bzip2 and lzma grow incompressible data by well under 1%): the
    claimed size is a lie, told to slip a bomb past a size check."""
    return info.compress_size > info.file_size + info.file_size // 100 + 1024


# --- UTF-8 ---------------------------------------------------------------------------------------


class BadUtf8(Exception):
    def __init__(self, line: int, char: int, byte: int):
        super().__init__(line, char, byte)
        self.line, self.char, self.byte = line, char, byte


class Utf8Checker:
    """Checks that bytes fed chunk by chunk are UTF-8, and knows where the first bad byte is: its
    line (1-based; a line ends at \\n, \\r\\n or a lone \\r, as the CSV reader counts) and its
    position in that line in characters and in bytes (1-based; a leading BOM is not counted)."""

    def __init__(self):
        self.pending = b""  # an incomplete character at the end of the last chunk
        self.breaks = 0  # line breaks seen
        self.chars = 0  # characters since the last line break
        self.bytes = 0  # bytes since the last line break
        self.cr = False  # the last character seen was \r
        self.at_start = True

    def feed(self, data: bytes, *, final: bool = False) -> None:
        buf = self.pending + data
        try:
            text, used = codecs.utf_8_decode(buf, "strict", final)
        except UnicodeDecodeError as exc:
            good = buf[: exc.start]
            self._advance(good, good.decode("utf-8"))
            raise BadUtf8(self.breaks + 1, self.chars + 1, self.bytes + 1) from None
        self._advance(buf[:used], text)
        self.pending = buf[used:]

    def _advance(self, raw: bytes, text: str) -> None:
        if not text:
            return
        if self.at_start:
            self.at_start = False
            if text[0] == "\ufeff":
                text, raw = text[1:], raw[3:]
        crlf = text.count("\r\n") + (1 if self.cr and text.startswith("\n") else 0)
        self.breaks += text.count("\n") + text.count("\r") - crlf
        last = max(text.rfind("\n"), text.rfind("\r"))
        if last < 0:
            self.chars += len(text)
            self.bytes += len(raw)
        else:
            self.chars = len(text) - last - 1
            self.bytes = len(raw) - max(raw.rfind(b"\n"), raw.rfind(b"\r")) - 1
        if text:
            self.cr = text.endswith("\r")


def field_index(text: str) -> int:
    """The 0-based index of the field a CSV record's text ends in (RFC 4180 quotes respected)."""
    index, quoted = 0, False
    for c in text:
        if c == '"':
            quoted = not quoted
        elif c == "," and not quoted:
            index += 1
    return index

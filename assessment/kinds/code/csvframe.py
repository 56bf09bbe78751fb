"""A DataFrame argument as CSV, both ways, exactly: `parse` turns CSV text into the harness's
`{"__dataframe__": {"columns": [...], "data": [[...]]}}` and `dump` writes one back, so that
parse(dump(frame)) == frame with the same types.

The cell rules (the first line names the columns, always text):
- an empty cell is None (null); a quoted cell is always text: "12" stays the text 12, "" is the
  empty text;
- an unquoted integer (-12, 0, 7) is an int; an unquoted number with a point or an exponent
  (1.5, 1e-06, 100000.0) is a float; true and false are booleans; anything else is text;
- a cell with a comma, a quote or a line break is quoted, its quotes doubled (RFC 4180).
Blank lines are skipped; line breaks are \\n, \\r\\n or \\r."""

import math
import re

from django.utils.translation import gettext as _

INT = re.compile(r"-?(?:0|[1-9][0-9]*)")
FLOAT = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")


class CsvError(ValueError):
    """CSV that is not a table; the message (in the active language) says on which line."""


class NotCsv(ValueError):
    """A value that CSV cannot carry exactly (not a flat table of numbers, text, booleans and nulls)."""


def _cell_value(text: str, quoted: bool):
    if quoted:
        return text
    if text == "":
        return None
    if text in ("true", "false"):
        return text == "true"
    if INT.fullmatch(text):
        return int(text)
    if FLOAT.fullmatch(text):
        value = float(text)
        if math.isfinite(value):
            return value
    return text


def _records(text: str) -> list[tuple[int, list[tuple[str, bool]]]]:
    """(line number, [(cell text, quoted)]) for each line of CSV text that is not blank."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    rows, row, pos, line, n = [], [], 0, 1, len(text)
    row_line = 1
    while pos <= n:
        if pos < n and text[pos] == '"':
            start_line = line
            pos += 1
            parts = []
            while True:
                end = text.find('"', pos)
                if end < 0:
                    raise CsvError(_("line %(line)s: a quote opens a cell that is never closed") % {"line": start_line})
                parts.append(text[pos:end])
                pos = end + 1
                if pos < n and text[pos] == '"':
                    parts.append('"')
                    pos += 1
                    continue
                break
            value = "".join(parts)
            line += value.count("\n")
            if pos < n and text[pos] not in ",\n":
                raise CsvError(
                    _('line %(line)s: text after a closing quote (a quote inside a cell is written twice: "")')
                    % {"line": line}
                )
            row.append((value, True))
        else:
            ends = [i for i in (text.find(",", pos), text.find("\n", pos)) if i >= 0]
            end = min(ends) if ends else n
            value = text[pos:end]
            if '"' in value:
                raise CsvError(
                    _("line %(line)s: a quote inside a cell that does not start with one (quote the whole cell)")
                    % {"line": line}
                )
            row.append((value, False))
            pos = end
        if pos >= n:
            break
        char = text[pos]
        pos += 1
        if char == "\n":
            rows.append((row_line, row))
            row, line = [], line + 1
            row_line = line
            if pos >= n:
                row = None
                break
    if row is not None:
        rows.append((row_line, row))
    return [(number, cells) for number, cells in rows if cells != [("", False)]]


def parse(text: str) -> dict:
    """CSV text -> the harness's DataFrame value. Raises CsvError (saying on which line)."""
    records = _records(text)
    if not records:
        raise CsvError(_("the CSV is empty: its first line names the columns"))
    _line, header = records[0]
    columns = [name for name, _quoted in header]
    seen = set()
    for name in columns:
        if name in seen:
            raise CsvError(_("line 1: the column %(name)s appears twice") % {"name": name or '""'})
        seen.add(name)
    data = []
    for number, cells in records[1:]:
        if len(cells) != len(columns):
            raise CsvError(
                _("line %(line)s has %(got)s cells, but the first line names %(want)s columns")
                % {"line": number, "got": len(cells), "want": len(columns)}
            )
        data.append([_cell_value(text, quoted) for text, quoted in cells])
    return {"__dataframe__": {"columns": columns, "data": data}}


def _needs_quotes(text: str) -> bool:
    if text == "" or any(c in text for c in ',"\n\r'):
        return True
    value = _cell_value(text, False)
    return type(value) is not str or value != text


def _cell(value) -> str:
    if value is None:
        return ""
    if type(value) is bool:
        return "true" if value else "false"
    if type(value) is int:
        return str(value)
    if type(value) is float:
        if not math.isfinite(value):
            raise NotCsv("not a finite number")
        return repr(value)
    if type(value) is str:
        return '"' + value.replace('"', '""') + '"' if _needs_quotes(value) else value
    raise NotCsv("not a flat cell")


def dump(frame) -> str:
    """The harness's DataFrame value -> CSV text that `parse` reads back exactly. Raises NotCsv
    for anything else (a value that is not a DataFrame, nested cells, non-text column names)."""
    if type(frame) is not dict or set(frame) != {"__dataframe__"}:
        raise NotCsv("not a DataFrame")
    body = frame["__dataframe__"]
    if type(body) is not dict or list(body) != ["columns", "data"]:
        raise NotCsv("not a DataFrame")
    columns, data = body["columns"], body["data"]
    if type(columns) is not list or not all(type(c) is str for c in columns) or type(data) is not list:
        raise NotCsv("not a DataFrame")
    lines = [",".join('"' + c.replace('"', '""') + '"' if _needs_quotes(c) else c for c in columns)]
    for row in data:
        if type(row) is not list or len(row) != len(columns):
            raise NotCsv("a row of another width")
        lines.append(",".join(_cell(v) for v in row))
    return "\n".join(lines) + "\n"

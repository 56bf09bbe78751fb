"""A CSV table read strictly, with caps checked before and while reading (never pandas on raw
input): at most MAX_CHARS characters, MAX_ROWS data rows, MAX_COLUMNS columns, MAX_CELL
characters a cell. The first line names the columns (unique, not empty); every row has as many
cells. Cells are kept as text, stripped of surrounding spaces.

A table that breaks a rule raises TableError with a code and parameters, never a sentence: the
grader stores them, and pages render them in the reader's language (messages.table_text)."""

import csv
import io
from dataclasses import dataclass

MAX_CHARS = 200_000  # the released table comes back from the sandbox as one 256 KB JSON line
MAX_ROWS = 2_000
MAX_COLUMNS = 30
MAX_CELL = 200


class TableError(ValueError):
    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass
class Table:
    columns: list[str]
    rows: list[list[str]]

    def column(self, name: str) -> list[str]:
        i = self.columns.index(name)
        return [row[i] for row in self.rows]


def _check_header(columns: list[str]) -> None:
    seen = set()
    for name in columns:
        if not name:
            raise TableError("empty_column_name")
        if name in seen:
            raise TableError("duplicate_column", name=name[:MAX_CELL])
        seen.add(name)


def parse(text) -> Table:
    """CSV text -> Table. Raises TableError."""
    if not isinstance(text, str) or not text.strip():
        raise TableError("empty")
    if len(text) > MAX_CHARS:
        raise TableError("too_large", max=MAX_CHARS)
    if "\x00" in text:
        raise TableError("nul")
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), strict=True)
    columns, rows = None, []
    try:
        for record in reader:
            if not record or record == [""]:  # a blank line
                continue
            line = reader.line_num
            if len(record) > MAX_COLUMNS:
                raise TableError("too_many_columns", max=MAX_COLUMNS)
            cells = [c.strip() for c in record]
            if any(len(c) > MAX_CELL for c in cells):
                raise TableError("cell_too_long", line=line, max=MAX_CELL)
            if columns is None:
                _check_header(cells)
                columns = cells
                continue
            if len(cells) != len(columns):
                raise TableError("ragged", line=line, got=len(cells), want=len(columns))
            if len(rows) >= MAX_ROWS:
                raise TableError("too_many_rows", max=MAX_ROWS)
            rows.append(cells)
    except csv.Error:
        raise TableError("malformed", line=reader.line_num) from None
    if columns is None:
        raise TableError("empty")
    return Table(columns=columns, rows=rows)


def _cell_text(value) -> str:
    if value is None:
        return ""
    if type(value) is bool:
        return "true" if value else "false"
    if type(value) is int:
        return str(value)
    if type(value) is float:
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if type(value) is str:
        return value.strip()
    raise TableError("bad_cell")


def from_frame(value) -> Table:
    """The harness's DataFrame value ({"__dataframe__": {"columns", "data"}}) -> Table, with the
    same caps. Raises TableError("not_a_table") for anything else."""
    if type(value) is not dict or set(value) != {"__dataframe__"}:
        raise TableError("not_a_table")
    body = value["__dataframe__"]
    if type(body) is not dict or type(body.get("columns")) is not list or type(body.get("data")) is not list:
        raise TableError("not_a_table")
    columns = body["columns"]
    if len(columns) > MAX_COLUMNS:
        raise TableError("too_many_columns", max=MAX_COLUMNS)
    if not all(type(c) is str for c in columns):
        raise TableError("column_not_text")
    columns = [c.strip() for c in columns]
    _check_header(columns)
    if len(body["data"]) > MAX_ROWS:
        raise TableError("too_many_rows", max=MAX_ROWS)
    rows = []
    for n, row in enumerate(body["data"], start=1):
        if type(row) is not list or len(row) != len(columns):
            raise TableError("ragged", line=n + 1, got=len(row) if type(row) is list else 0, want=len(columns))
        try:
            cells = [_cell_text(v) for v in row]
        except TableError:
            raise TableError("bad_cell", line=n + 1) from None
        if any(len(c) > MAX_CELL for c in cells):
            raise TableError("cell_too_long", line=n + 1, max=MAX_CELL)
        rows.append(cells)
    return Table(columns=columns, rows=rows)

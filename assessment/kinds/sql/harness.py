"""Builds a SQL dataset into an in-memory SQLite database, locks it down and runs one query on it.

Two uses, one code:
- INSIDE the sandbox, as /task/harness.py (`python -I -B`, the standard library only): it reads
  /task/inputs.json ({"started", "dataset", "query", "limits"}), writes the `started` token as its
  first line, then one JSON line: {"ok": true, "columns": [...], "rows": [[...]]} or
  {"ok": false, "error": <code>, "message": <SQLite's words>}. Nothing it prints is trusted: the
  grader re-parses that line strictly (grader.parse_output).
- OUTSIDE the sandbox, imported by the grader, `build` validates an instructor's dataset: a
  script runs there only under the script authorizer (CREATE TABLE / INDEX / VIEW, INSERT,
  BEGIN / COMMIT; no recursive CTE, no PRAGMA, no ATTACH, a few pure functions), a VM-step budget
  and a page cap, so it is bounded in time and memory.

The query's connection, once built: no extension loading, an authorizer that allows only reading
(SELECT, reading columns, recursive CTEs, functions but load_extension), `PRAGMA query_only`, a
hard heap limit, SQLite's length limits, a progress handler that stops after a VM-step budget or a
deadline, one statement only, and caps on the rows, the cells and the whole output."""

import csv
import io
import json
import math
import re
import sqlite3
import sys
import time

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
INTEGER = re.compile(r"[+-]?(0|[1-9][0-9]*)")
REAL = re.compile(r"[+-]?((0|[1-9][0-9]*)(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")  # 007 is an identifier: text

# Authorizer action codes (sqlite3.h), spelled out: older Pythons lack some constants.
A_CREATE_INDEX, A_CREATE_TABLE, A_CREATE_VIEW = 1, 2, 8
A_INSERT, A_READ, A_SELECT, A_TRANSACTION, A_UPDATE = 18, 20, 21, 22, 23
A_REINDEX, A_FUNCTION, A_RECURSIVE = 27, 31, 33
DENIED_FUNCTIONS = {"load_extension", "fts3_tokenizer", "readfile", "writefile", "edit"}
# What a dataset script may call: pure functions with bounded output (SQLITE_LIMIT_LENGTH).
SCRIPT_FUNCTIONS = {
    "abs", "coalesce", "date", "datetime", "ifnull", "julianday", "lower", "upper", "round",
    "strftime", "substr", "substring", "time", "trim", "ltrim", "rtrim", "cast", "nullif", "length",
}  # fmt: skip


class BuildError(Exception):
    """The dataset cannot be built: `table` names the CSV table at fault (None for a script)."""

    def __init__(self, message: str, table: str | None = None):
        super().__init__(message)
        self.message = message
        self.table = table


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _cell(text: str, kind: str):
    if text == "":
        return None
    if kind == "INTEGER":
        return int(text)
    if kind == "REAL":
        return float(text)
    return text


def _column_type(values: list[str]) -> str:
    present = [v for v in values if v != ""]
    if not present:
        return "TEXT"
    if all(INTEGER.fullmatch(v) and len(v) < 19 for v in present):
        return "INTEGER"
    if all(REAL.fullmatch(v) for v in present) and all(math.isfinite(float(v)) for v in present):
        return "REAL"
    return "TEXT"


def parse_csv(text: str, *, max_columns: int, table: str) -> tuple[list[str], list[str], list[list]]:
    """(column names, their types INTEGER / REAL / TEXT, the typed rows) of a CSV table whose
    first line names the columns; an empty cell is NULL."""
    try:
        lines = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    except csv.Error as exc:
        raise BuildError(f"not a CSV table: {exc}", table) from None
    lines = [line for line in lines if line]
    if not lines:
        raise BuildError("the CSV table is empty: its first line names the columns", table)
    header = [h.strip() for h in lines[0]]
    if len(header) > max_columns:
        raise BuildError(f"at most {max_columns} columns", table)
    seen = set()
    for name in header:
        if not IDENTIFIER.fullmatch(name) or len(name) > 64:
            raise BuildError(f"the column name {name!r} is not a name (letters, digits and _)", table)
        if name.lower() in seen:
            raise BuildError(f"two columns are named {name}", table)
        seen.add(name.lower())
    body = lines[1:]
    for number, line in enumerate(body, start=2):
        if len(line) != len(header):
            raise BuildError(f"line {number} has {len(line)} cells, the header {len(header)}", table)
    types = [_column_type([line[i] for line in body]) for i in range(len(header))]
    rows = [[_cell(line[i], types[i]) for i in range(len(header))] for line in body]
    return header, types, rows


def _budget(conn, steps: int, deadline: float | None, state: dict):
    """A progress handler called every 1000 VM steps: stops the statement past `steps` or
    `deadline` (OperationalError "interrupted"), recording why in state["stopped"]."""
    state["ticks"] = 0

    def handler():
        state["ticks"] += 1
        if state["ticks"] * 1000 > steps or (deadline is not None and time.monotonic() > deadline):
            state["stopped"] = "time"
            return 1
        return 0

    conn.set_progress_handler(handler, 1000)


def _script_authorizer(action, arg1, arg2, db, trigger):
    if action in (A_CREATE_TABLE, A_CREATE_INDEX, A_CREATE_VIEW, A_INSERT, A_SELECT, A_READ, A_TRANSACTION,
                  A_REINDEX):  # fmt: skip
        return sqlite3.SQLITE_OK
    if action == A_UPDATE and arg1 in ("sqlite_master", "sqlite_temp_master"):
        return sqlite3.SQLITE_OK  # what CREATE writes
    if action == A_FUNCTION and (arg2 or "").lower() in SCRIPT_FUNCTIONS:
        return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


def connect(limits: dict) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    if hasattr(conn, "enable_load_extension"):
        conn.enable_load_extension(False)
    conn.execute(f"PRAGMA max_page_count = {int(limits['max_dataset_pages'])}")
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, int(limits["max_value_bytes"]))
    conn.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
    return conn


def build(conn: sqlite3.Connection, dataset: dict, limits: dict) -> None:
    """Create the dataset's tables in `conn` (BuildError when it cannot be)."""
    state = {}
    _budget(conn, int(limits["build_steps"]), None, state)
    try:
        if "script" in dataset:
            conn.set_authorizer(_script_authorizer)
            try:
                conn.executescript(dataset["script"])
            except sqlite3.Error as exc:
                if state.get("stopped"):
                    raise BuildError("the script takes too long to run") from None
                raise BuildError(f"the script fails: {exc}") from None
            finally:
                conn.set_authorizer(None)
            if conn.in_transaction:
                conn.execute("COMMIT")
            return
        conn.execute("BEGIN")
        for table in dataset["tables"]:
            name = table["name"]
            columns, types, rows = parse_csv(table["csv"], max_columns=int(limits["max_columns"]), table=name)
            cols = ", ".join(f"{quote(c)} {t}" for c, t in zip(columns, types, strict=True))
            try:
                conn.execute(f"CREATE TABLE {quote(name)} ({cols})")
                marks = ", ".join("?" for _ in columns)
                conn.executemany(f"INSERT INTO {quote(name)} VALUES ({marks})", rows)  # noqa: S608 - quoted
            except sqlite3.Error as exc:
                raise BuildError(f"the table cannot be built: {exc}", name) from None
        conn.execute("COMMIT")
    finally:
        conn.set_progress_handler(None, 0)


def schema(conn: sqlite3.Connection) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """[(type "table" | "view", name, [(column, declared type)])] of the user's tables and views."""
    out = []
    rows = conn.execute(
        "SELECT type, name FROM sqlite_master"
        " WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' ORDER BY name"
    ).fetchall()
    for kind, name in rows:
        cols = conn.execute(f"SELECT name, type FROM pragma_table_info({_literal(name)})").fetchall()  # noqa: S608
        out.append((kind, name, [(c, t or "") for c, t in cols]))
    return out


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _query_authorizer(action, arg1, arg2, db, trigger):
    if action in (A_SELECT, A_READ, A_RECURSIVE):
        return sqlite3.SQLITE_OK
    if action == A_FUNCTION and (arg2 or "").lower() not in DENIED_FUNCTIONS:
        return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


def lock(conn: sqlite3.Connection, limits: dict) -> None:
    """Nothing but reading from now on."""
    conn.execute("PRAGMA query_only = ON")
    conn.execute(f"PRAGMA hard_heap_limit = {int(limits['heap_bytes'])}")
    conn.setlimit(sqlite3.SQLITE_LIMIT_SQL_LENGTH, int(limits["max_query_chars"]) * 4 + 100)
    conn.set_authorizer(_query_authorizer)


def plain(value):
    """A result cell as JSON: ints, finite floats, text, null; a blob as its hex text; an
    infinite float as null (JSON has no infinity)."""
    if value is None or type(value) is int or type(value) is str:
        return value
    if type(value) is float:
        return value if math.isfinite(value) else None
    if type(value) is bytes:
        return "x'" + value.hex() + "'"
    return str(value)


def _error(code: str, message: str = "") -> dict:
    return {"ok": False, "error": code, "message": message[:500]}


def run_query(conn: sqlite3.Connection, query: str, limits: dict) -> dict:
    """The result of one query, or an error code: syntax (SQLite's message), denied, time, memory,
    too_long, several_statements, not_a_query, too_many_rows, too_many_columns, output_too_large."""
    state = {}
    _budget(conn, int(limits["query_steps"]), time.monotonic() + float(limits["query_seconds"]), state)
    size = 0
    rows = []
    try:
        cursor = conn.execute(query)
        if cursor.description is None:
            return _error("not_a_query")
        columns = [str(d[0]) for d in cursor.description]
        if len(columns) > int(limits["max_columns"]):
            return _error("too_many_columns")
        size = len(json.dumps(columns))
        max_rows, max_cell = int(limits["max_rows"]), int(limits["max_cell_chars"])
        while True:
            batch = cursor.fetchmany(200)
            if not batch:
                break
            for row in batch:
                out = [plain(v) for v in row]
                for v in out:
                    if type(v) is str and len(v) > max_cell:
                        return _error("too_long")
                size += len(json.dumps(out))
                rows.append(out)
                if len(rows) > max_rows:
                    return _error("too_many_rows")
                if size > int(limits["max_output_chars"]):
                    return _error("output_too_large")
    except sqlite3.ProgrammingError as exc:
        if "one statement" in str(exc):
            return _error("several_statements")
        return _error("syntax", str(exc))
    except MemoryError:
        return _error("memory")
    except sqlite3.Error as exc:
        text = str(exc)
        if state.get("stopped"):
            return _error("time")
        if "not authorized" in text or "authorization denied" in text or "attempt to write" in text:
            return _error("denied", text)
        if "out of memory" in text:
            return _error("memory")
        if "too big" in text:
            return _error("too_long")
        return _error("syntax", text)
    finally:
        conn.set_progress_handler(None, 0)
    return {"ok": True, "columns": columns, "rows": rows}


def main() -> int:
    with open("/task/inputs.json", encoding="utf-8") as f:
        inputs = json.load(f)
    out = sys.stdout
    out.write(inputs["started"] + "\n")
    out.flush()
    limits = inputs["limits"]
    conn = connect(limits)
    try:
        build(conn, inputs["dataset"], limits)
    except BuildError as exc:
        result = _error("dataset", exc.message)
    else:
        lock(conn, limits)
        result = run_query(conn, inputs["query"], limits)
    out.write(json.dumps(result, ensure_ascii=True, allow_nan=False) + "\n")
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())

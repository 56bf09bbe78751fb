"""SQL grader. The learner's query runs in the sandbox (harness.py) on a fresh in-memory copy of
each dataset, public then hidden, one sandbox run each; the results are compared OUTSIDE the
sandbox with the reference query's results, which prepare_spec computed the same way (or the
first grading, where the sandbox could not run at publish time: complete_spec).

Of the public run the learner reads the shape, whether the rows match and the first differing
row, and SQLite's error message; of the hidden run only whether it matched, or a status from a
fixed set. Spec keys: see validate_spec."""

import json
import logging
import math
import secrets
from pathlib import Path

from django.utils.translation import gettext as _

from assessment import sandbox
from assessment.kinds.base import GraderError, GradeResult, GraderUnavailable, SpecError
from assessment.sandbox import checker
from assessment.sandbox.runner import run_python

from . import harness, limits

log = logging.getLogger(__name__)

HARNESS = (Path(__file__).resolve().parent / "harness.py").read_text(encoding="utf-8")
KEYS = (
    "dataset", "hidden_dataset", "reference_query", "order_matters", "column_names_matter", "tolerance",
    "starter_query",
)  # fmt: skip
DERIVED = ("expected", "preview")
LIMITS = {
    "max_dataset_pages": limits.MAX_DATASET_PAGES,
    "build_steps": limits.BUILD_STEPS,
    "max_columns": limits.MAX_COLUMNS,
    "max_value_bytes": limits.MAX_VALUE_BYTES,
    "heap_bytes": limits.HEAP_BYTES,
    "max_query_chars": limits.MAX_QUERY_CHARS,
    "query_steps": limits.QUERY_STEPS,
    "query_seconds": limits.QUERY_SECONDS,
    "max_rows": limits.MAX_ROWS,
    "max_cell_chars": limits.MAX_CELL_CHARS,
    "max_output_chars": limits.MAX_OUTPUT_CHARS,
}
# The harness's error codes (harness.run_query, and "dataset" when the dataset does not build).
ERRORS = (
    "syntax", "denied", "time", "memory", "too_long", "several_statements", "not_a_query", "too_many_rows",
    "too_many_columns", "output_too_large", "dataset",
)  # fmt: skip
# What a hidden run may tell the learner: one of these, whatever the query did.
MATCHED, DIFFERENT, ERROR, TIME_LIMIT = "matched", "different", "error", "time_limit"


# --- the spec ---------------------------------------------------------------------------------


def _identifier(value) -> bool:
    return (
        isinstance(value, str)
        and bool(harness.IDENTIFIER.fullmatch(value))
        and len(value) <= limits.IDENTIFIER_CHARS
        and not value.lower().startswith("sqlite_")
    )


def _check_dataset(value, key: str) -> None:
    if not isinstance(value, dict) or set(value) not in ({"tables"}, {"script"}):
        raise SpecError(key, _('a dataset is {"tables": [{"name", "csv"}, ...]} or {"script": "..."}'))
    if "script" in value:
        script = value["script"]
        if not isinstance(script, str) or not script.strip():
            raise SpecError(f"{key}.script", _("the script must be SQL text"))
        if len(script) > limits.MAX_DATASET_CHARS:
            raise SpecError(f"{key}.script", _("the dataset is too large (2 MB at most)"))
        if "\x00" in script:
            raise SpecError(f"{key}.script", _("the script holds a NUL character"))
        return
    tables = value["tables"]
    if not isinstance(tables, list) or not tables:
        raise SpecError(f"{key}.tables", _("a dataset needs at least one table"))
    if len(tables) > limits.MAX_TABLES:
        raise SpecError(f"{key}.tables", _("at most %(max)s tables") % {"max": limits.MAX_TABLES})
    names, size = set(), 0
    for i, table in enumerate(tables):
        where = f"{key}.tables[{i}]"
        if not isinstance(table, dict) or set(table) != {"name", "csv"}:
            raise SpecError(where, _("a table is {name, csv}"))
        if not _identifier(table["name"]):
            raise SpecError(
                f"{where}.name", _("a table name is letters, digits and _, e.g. admissions (not sqlite_...)")
            )
        if table["name"].lower() in names:
            raise SpecError(f"{where}.name", _("two tables are named %(name)s") % {"name": table["name"]})
        names.add(table["name"].lower())
        if not isinstance(table["csv"], str) or "\x00" in table["csv"]:
            raise SpecError(f"{where}.csv", _("the table must be CSV text"))
        size += len(table["csv"])
    if size > limits.MAX_DATASET_CHARS:
        raise SpecError(f"{key}.tables", _("the dataset is too large (2 MB at most)"))


def build_schema(dataset: dict, key: str) -> list:
    """Build the dataset outside the sandbox (harness.build: the script authorizer and the caps
    bound it): its schema, or a SpecError naming the field at fault."""
    conn = harness.connect(LIMITS)
    try:
        harness.build(conn, dataset, LIMITS)
        found = harness.schema(conn)
    except harness.BuildError as exc:
        path = key
        if exc.table is not None:
            index = next((i for i, t in enumerate(dataset["tables"]) if t["name"] == exc.table), 0)
            path = f"{key}.tables[{index}].csv"
        elif "script" in dataset:
            path = f"{key}.script"
        # The harness's own words (it runs in the sandbox too, without the catalogs): English.
        raise SpecError(path, f"{exc.table}: {exc.message}" if exc.table else exc.message) from None
    finally:
        conn.close()
    if not found:
        raise SpecError(key, _("the dataset has no table"))
    if len(found) > limits.MAX_TABLES:
        raise SpecError(key, _("at most %(max)s tables") % {"max": limits.MAX_TABLES})
    return found


def _shape(schema: list) -> list:
    """Names only, case-insensitive: a hidden variant may type a column otherwise (CSV inference)."""
    return [(kind, name.lower(), [c.lower() for c, _t in cols]) for kind, name, cols in schema]


def validate_spec(spec: dict) -> None:
    unknown = [k for k in spec if k not in KEYS and k not in DERIVED]
    if unknown:
        raise SpecError(unknown[0], _("unknown key (expected one of: %(keys)s)") % {"keys": ", ".join(KEYS)})
    if "dataset" not in spec:
        raise SpecError("dataset", _("a SQL assignment needs a dataset"))
    _check_dataset(spec["dataset"], "dataset")
    if "hidden_dataset" in spec:
        _check_dataset(spec["hidden_dataset"], "hidden_dataset")
    query = spec.get("reference_query")
    if not isinstance(query, str) or not query.strip():
        raise SpecError("reference_query", _("a SQL assignment needs a reference query"))
    if len(query) > limits.MAX_QUERY_CHARS:
        raise SpecError("reference_query", _("the query is too long (20,000 characters at most)"))
    starter = spec.get("starter_query", "")
    if not isinstance(starter, str) or len(starter) > limits.MAX_QUERY_CHARS or "\x00" in starter:
        raise SpecError("starter_query", _("the starter query must be text of at most 20,000 characters"))
    for key in ("order_matters", "column_names_matter"):
        if not isinstance(spec.get(key, False), bool):
            raise SpecError(key, _("must be true or false"))
    tol = spec.get("tolerance", limits.DEFAULT_TOLERANCE)
    if not _tolerance_ok(tol):
        raise SpecError("tolerance", _("the tolerance is a number, 0 or more"))
    public = build_schema(spec["dataset"], "dataset")
    if "hidden_dataset" in spec:
        hidden = build_schema(spec["hidden_dataset"], "hidden_dataset")
        if _shape(hidden) != _shape(public):
            raise SpecError(
                "hidden_dataset",
                _("the hidden dataset must have the same tables and columns as the public one (%(public)s)")
                % {"public": _describe(public)},
            )


def _tolerance_ok(value) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value) and value >= 0
    except OverflowError:  # an int beyond the float range
        return False


def _describe(schema: list) -> str:
    return "; ".join(f"{name}({', '.join(c for c, _t in cols)})" for _kind, name, cols in schema)


# --- running a query in the sandbox ------------------------------------------------------------


def run(query: str, dataset: dict) -> dict:
    """The query's result on a fresh copy of `dataset`, run in the sandbox: {"ok": True, "columns",
    "rows"} or {"ok": False, "error": code, "message"}. Raises sandbox.SandboxUnavailable."""
    started = secrets.token_hex(16)
    inputs = {"started": started, "dataset": dataset, "query": query, "limits": LIMITS}
    result = run_python(
        {"harness.py": HARNESS, "inputs.json": json.dumps(inputs)}, script="harness.py", started=started
    )
    parsed = parse_output(result.stdout)
    if parsed is not None:
        return parsed
    if result.timed_out or result.returncode in (-24, 128 + 24):  # the wall clock, or SIGXCPU
        return {"ok": False, "error": "time", "message": ""}
    if result.stdout_truncated:
        return {"ok": False, "error": "output_too_large", "message": ""}
    if result.returncode in (-9, 128 + 9):
        return {"ok": False, "error": "memory", "message": ""}
    log.warning("sql harness gave no result (exit %s): %s", result.returncode, result.stderr[-2000:])
    return {"ok": False, "error": "crashed", "message": ""}  # not in ERRORS: never parsed from the output


def _cell_ok(value) -> bool:
    t = type(value)
    return value is None or t is int or t is str or (t is float and math.isfinite(value))


def parse_output(stdout: str) -> dict | None:
    """The harness's one JSON line, checked strictly (types, sizes), or None."""
    line = stdout.split("\n", 1)[0]
    if not line or len(line) > limits.MAX_OUTPUT_CHARS * 8:
        return None
    try:
        data = json.loads(line, parse_constant=checker._reject_constant)
    except (ValueError, RecursionError, checker.Malformed):
        return None
    if type(data) is not dict or type(data.get("ok")) is not bool:
        return None
    if not data["ok"]:
        error, message = data.get("error"), data.get("message", "")
        if type(error) is not str or type(message) is not str:
            return None
        if error not in ERRORS:
            return None
        return {"ok": False, "error": error, "message": checker.storable(message[:500])}
    columns, rows = data.get("columns"), data.get("rows")
    if type(columns) is not list or not all(type(c) is str for c in columns) or type(rows) is not list:
        return None
    if len(columns) > limits.MAX_COLUMNS or len(rows) > limits.MAX_ROWS:
        return None
    for row in rows:
        if type(row) is not list or len(row) != len(columns) or not all(_cell_ok(v) for v in row):
            return None
    return {"ok": True, "columns": columns, "rows": rows}


# --- the expected results ---------------------------------------------------------------------


def _datasets(spec: dict) -> list[tuple[str, dict]]:
    out = [("public", spec["dataset"])]
    if spec.get("hidden_dataset") is not None:
        out.append(("hidden", spec["hidden_dataset"]))
    return out


def _storable(value) -> bool:
    if type(value) is str:
        return checker.storable(value) == value
    if type(value) is list:
        return all(_storable(v) for v in value)
    return True


def expected_results(spec: dict) -> dict:
    """{"public": {columns, rows}, "hidden": ...}: the reference query's results. Raises SpecError
    when it fails on a dataset, sandbox.SandboxUnavailable when the sandbox cannot run here."""
    out = {}
    for name, dataset in _datasets(spec):
        result = run(spec["reference_query"], dataset)
        if not result["ok"]:
            where = _("the public dataset") if name == "public" else _("the hidden dataset")
            raise SpecError(
                "reference_query",
                _("the reference query fails on %(dataset)s: %(reason)s")
                % {"dataset": where, "reason": notice_reason(result)},
            )
        if not _storable(result["columns"]) or not all(_storable(r) for r in result["rows"]):
            raise SpecError("reference_query", _("the reference query returns text that cannot be stored"))
        out[name] = {"columns": result["columns"], "rows": result["rows"]}
    return out


def notice_reason(result: dict) -> str:
    """An error of the harness in words (for the instructor's builder)."""
    from .messages import error_text

    return error_text(result["error"], result.get("message", ""))


def preview(spec: dict) -> list[dict]:
    """What the learner's page shows of the public dataset: each table or view, its columns and
    types, its first rows and its row count (built outside the sandbox, like validation)."""
    conn = harness.connect(LIMITS)
    try:
        harness.build(conn, spec["dataset"], LIMITS)
        tables = []
        for kind, name, cols in harness.schema(conn):
            q = harness.quote(name)
            count = conn.execute(f"SELECT count(*) FROM {q}").fetchone()[0]  # noqa: S608 - a quoted identifier
            rows = conn.execute(f"SELECT * FROM {q} LIMIT {limits.PREVIEW_ROWS}").fetchall()  # noqa: S608
            tables.append(
                {
                    "name": name,
                    "view": kind == "view",
                    "columns": [{"name": c, "type": t} for c, t in cols],
                    "rows": [[_shown(harness.plain(v)) for v in row] for row in rows],
                    "row_count": count,
                }
            )
        return tables
    except harness.BuildError:
        return []
    finally:
        conn.close()


def _shown(value) -> str:
    if value is None:
        return "NULL"
    text = value if type(value) is str else json.dumps(value)
    text = text if len(text) <= 80 else text[:79] + "…"
    return checker.storable(text)


def _strip(spec: dict) -> dict:
    return {k: v for k, v in spec.items() if k not in DERIVED}


def prepare_spec(spec: dict) -> dict:
    """The spec to store, with the learner's `preview` of the public dataset, and `expected`
    when the sandbox runs here (else the first grading computes it: complete_spec)."""
    spec = _strip(spec)
    prepared = {**spec, "preview": preview(spec)}
    try:
        return {**prepared, "expected": expected_results(spec)}
    except sandbox.SandboxUnavailable as exc:
        log.info("sql expected results deferred to the first grading, the sandbox cannot run here: %s", exc)
        return prepared


def checked_spec(spec: dict) -> dict:
    """prepare_spec for the builder's check: an unavailable sandbox is a field error."""
    spec = _strip(spec)
    try:
        return {**spec, "expected": expected_results(spec)}
    except sandbox.SandboxUnavailable as exc:
        raise SpecError(
            "reference_query",
            _("the sandbox is unavailable, so the reference query cannot run: %(reason)s") % {"reason": exc},
        ) from exc


def complete_spec(spec: dict) -> dict | None:
    if isinstance(spec.get("expected"), dict):
        return None
    try:
        return {**spec, "expected": expected_results(_strip(spec))}
    except sandbox.SandboxUnavailable as exc:
        raise GraderUnavailable(str(exc)) from exc
    except SpecError as exc:
        raise GraderError(f"the expected results cannot be computed: {exc.message}") from exc


def public_spec(spec: dict) -> dict:
    tables = spec.get("preview")
    return {
        "tables": tables if isinstance(tables, list) else preview(spec),
        "has_hidden": spec.get("hidden_dataset") is not None,
        "order_matters": bool(spec.get("order_matters", False)),
        "column_names_matter": bool(spec.get("column_names_matter", False)),
        "starter_query": spec.get("starter_query", ""),
    }


# --- comparing ----------------------------------------------------------------------------------


def _num(x) -> bool:
    return type(x) is int or type(x) is float


def _same(a, b, tol: float) -> bool:
    if _num(a) and _num(b):
        if type(a) is int and type(b) is int:
            return a == b
        return abs(float(a) - float(b)) <= tol
    return type(a) is type(b) and a == b


def _same_row(a: list, b: list, tol: float) -> bool:
    return len(a) == len(b) and all(_same(x, y, tol) for x, y in zip(a, b, strict=True))


def _key(row: list):
    """A total order on rows: NULL, then numbers (ints and floats together), then text."""
    return [(0, 0, "") if v is None else (1, float(v), "") if _num(v) else (2, 0, v) for v in row]


def _unordered_match(expected: list, got: list, tol: float) -> bool:
    """Rows as multisets: sorted, then row by row; small results that fail that way (a float
    within tolerance can sort on the other side of its twin) are matched greedily."""
    a, b = sorted(expected, key=_key), sorted(got, key=_key)
    if all(_same_row(x, y, tol) for x, y in zip(a, b, strict=True)):
        return True
    if len(a) > limits.GREEDY_MATCH_ROWS:
        return False
    left = list(b)
    for row in a:
        index = next((i for i, other in enumerate(left) if _same_row(row, other, tol)), None)
        if index is None:
            return False
        del left[index]
    return True


def compare(expected: dict, got: dict, *, order_matters: bool, column_names_matter: bool, tol: float) -> dict:
    """{matched, shape_ok, columns_ok, rows_ok, first_difference: {row, expected, got} | None}:
    the first differing row in order (the statement's order, or the sorted one for a multiset)."""
    ecols, gcols, erows, grows = expected["columns"], got["columns"], expected["rows"], got["rows"]
    shape_ok = len(ecols) == len(gcols) and len(erows) == len(grows)
    columns_ok = not column_names_matter or [c.lower() for c in ecols] == [c.lower() for c in gcols]
    if not shape_ok:
        rows_ok = False
    elif order_matters:
        rows_ok = all(_same_row(x, y, tol) for x, y in zip(erows, grows, strict=True))
    else:
        rows_ok = _unordered_match(erows, grows, tol)
    first = None
    if not rows_ok:
        a, b = (erows, grows) if order_matters else (sorted(erows, key=_key), sorted(grows, key=_key))
        for i in range(max(len(a), len(b))):
            x = a[i] if i < len(a) else None
            y = b[i] if i < len(b) else None
            if x is None or y is None or not _same_row(x, y, tol):
                first = {"row": i + 1, "expected": _row_shown(x), "got": _row_shown(y)}
                break
    return {"matched": shape_ok and columns_ok and rows_ok, "shape_ok": shape_ok, "columns_ok": columns_ok,
            "rows_ok": rows_ok, "first_difference": first}  # fmt: skip


def _row_shown(row):
    return None if row is None else [_shown(v) for v in row]


# --- grading ----------------------------------------------------------------------------------


def _notice(code: str, **params) -> dict:
    return {"code": f"sql.{code}", "params": params}


def _run_graded(query: str, dataset: dict) -> dict:
    try:
        return run(query, dataset)
    except sandbox.SandboxUnavailable as exc:
        raise GraderUnavailable(str(exc)) from exc


def grade(spec: dict, answer: dict) -> GradeResult:
    """One point per dataset (public, hidden) whose result matches the reference's. Feedback:
    {"kind": "sql", "public": {...compare, columns, expected_shape, got_shape}, "hidden":
    {"status"}, "messages": [codes]}: never a hidden row, count or message."""
    spec = complete_spec(spec) or spec
    expected = spec["expected"]
    datasets = _datasets(spec)
    query = answer.get("query") if isinstance(answer, dict) else None
    total = len(datasets)
    if not isinstance(query, str) or not query.strip():
        return GradeResult(score=0, max_score=total, feedback={"kind": "sql", "messages": [_notice("no_query")]})
    tol = float(spec.get("tolerance", limits.DEFAULT_TOLERANCE))
    options = {"order_matters": bool(spec.get("order_matters")),
               "column_names_matter": bool(spec.get("column_names_matter")), "tol": tol}  # fmt: skip
    feedback, messages, staff, score = {"kind": "sql"}, [], [], 0
    for name, dataset in datasets:
        result = _run_graded(query, dataset)
        want = expected[name]
        if name == "public":
            part = {"expected_shape": [len(want["columns"]), len(want["rows"])]}
            if result["ok"]:
                part.update(compare(want, result, **options))
                part["got_shape"] = [len(result["columns"]), len(result["rows"])]
                part["columns"] = [checker.storable(c)[:100] for c in result["columns"]]
                part["expected_columns"] = want["columns"]
                if not part["matched"]:
                    messages.append(_notice("public_different"))
            else:
                part.update(matched=False, error=result["error"])
                messages.append(_notice(f"error_{result['error']}", message=result.get("message", "")))
            feedback["public"] = part
            matched = part["matched"]
        else:
            if result["ok"]:
                matched = compare(want, result, **options)["matched"]
                status = MATCHED if matched else DIFFERENT
            else:
                matched = False
                status = TIME_LIMIT if result["error"] == "time" else ERROR
                staff.append(f"hidden run error: {result['error']}: {result.get('message', '')}")
            feedback["hidden"] = {"status": status}
        score += matched
    if messages:
        feedback["messages"] = messages
    return GradeResult(score=score, max_score=total, feedback=feedback, staff_log="\n".join(staff)[-4000:])

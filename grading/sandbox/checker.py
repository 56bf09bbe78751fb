"""The checker: runs in the worker, never imports learner code. It parses what the harness wrote
(strictly: size, depth, no NaN, exact JSON types) and compares it with the expected outputs."""

import json
import math

MAX_LINE = 256 * 1024
MAX_DEPTH = 24


class Malformed(ValueError):
    pass


def _reject_constant(name):
    raise Malformed(f"non-JSON number {name}")


def _depth_ok(value, depth=0) -> bool:
    if depth > MAX_DEPTH:
        return False
    if isinstance(value, list):
        return all(_depth_ok(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _depth_ok(v, depth + 1) for k, v in value.items())
    return True


def parse_line(line: str):
    if len(line) > MAX_LINE:
        raise Malformed("result too large")
    try:
        value = json.loads(line, parse_constant=_reject_constant)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise Malformed(f"not JSON: {exc}") from None
    if not _depth_ok(value):
        raise Malformed("result nested too deeply")
    return value


def parse_results(stdout: str, test_ids: set[str]) -> tuple[dict[str, dict], str | None]:
    """Map test id -> {"ok": bool, "value"|"error"}; plus a load error, if the submission failed to
    import. A line for an unknown id, or not shaped as a result, is ignored; the first line for
    an id wins (a later line cannot overwrite it)."""
    results: dict[str, dict] = {}
    load_error = None
    for line in stdout.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            record = parse_line(line)
        except Malformed:
            continue
        if type(record) is not dict:
            continue
        if "load_error" in record and type(record["load_error"]) is str and load_error is None:
            load_error = record["load_error"][:500]
            continue
        tid = record.get("id")
        if type(tid) is not str or tid not in test_ids or tid in results or type(record.get("ok")) is not bool:
            continue
        if record["ok"] and "value" in record:
            results[tid] = {"ok": True, "value": record["value"]}
        elif not record["ok"] and type(record.get("error")) is str:
            results[tid] = {"ok": False, "error": record["error"][:500]}
    return results, load_error


def _num(x) -> bool:
    return type(x) in (int, float)


def _close(a, b, rel: float, abs_: float) -> bool:
    if type(a) is int and type(b) is int:
        return a == b
    return math.isclose(float(a), float(b), rel_tol=rel, abs_tol=abs_)


def _special_float(x):
    if type(x) is dict and set(x) == {"__float__"} and type(x["__float__"]) is str:
        return x["__float__"]
    return None


def equal(expected, got, *, rel: float = 1e-6, abs_: float = 1e-9) -> bool:
    """Compare two JSON values: exact types (bool is not a number), floats within tolerance,
    DataFrames column names first, then cell by cell."""
    if expected is None or type(expected) in (bool, str):
        return type(got) is type(expected) and got == expected
    if _num(expected):
        return _num(got) and _close(expected, got, rel, abs_)
    if type(expected) is list:
        return (
            type(got) is list
            and len(got) == len(expected)
            and all(equal(e, g, rel=rel, abs_=abs_) for e, g in zip(expected, got, strict=True))
        )
    if type(expected) is dict:
        special = _special_float(expected)
        if special is not None:
            return _special_float(got) == special
        if type(got) is not dict or set(got) != set(expected):
            return False
        if set(expected) == {"__dataframe__"}:
            e, g = expected["__dataframe__"], got["__dataframe__"]
            if type(g) is not dict or set(g) != {"columns", "data"}:
                return False
            return equal(e["columns"], g["columns"]) and equal(e["data"], g["data"], rel=rel, abs_=abs_)
        return all(equal(expected[k], got[k], rel=rel, abs_=abs_) for k in expected)
    return False


def preview(value, limit: int = 300) -> str:
    """A short text of a value for a public test's feedback."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"

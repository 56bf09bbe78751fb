"""The checker: runs in the worker, never imports learner code. It parses what the harness wrote
(strictly: size, depth, no NaN or infinity, exact JSON types) and compares it with the expected
outputs.

Everything on that output is data the learner controls (learner code can write lines to it
itself), so nothing here raises on any of it: a line that does not parse (an integer too long to
convert, a nesting deeper than the parser goes, a float beyond the float range) is ignored, and a
value of the wrong shape (a DataFrame marker around a number, an integer beyond the float range
where a float is expected) is simply not equal: that test is wrong. Text that reaches the
learner's feedback or the staff log is made storable (`storable`)."""

import json
import math
from fractions import Fraction

MAX_LINE = 256 * 1024
MAX_DEPTH = 24


# The load error of a submission that does not define its entrypoint as a function (the harness
# reports it as such, so the learner reads which function is missing, not an AttributeError).
MISSING_ENTRYPOINT = "missing entrypoint"


class Malformed(ValueError):
    pass


def storable(text: str) -> str:
    """`text` as PostgreSQL text and jsonb accept it: lone surrogates escaped, NUL replaced."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\ufffd")


def _reject_constant(name):
    raise Malformed(f"non-JSON number {name}")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 parses as infinity
        raise Malformed("number out of range")
    return value


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
        value = json.loads(line, parse_constant=_reject_constant, parse_float=_finite_float)
    except (ValueError, RecursionError) as exc:  # ValueError: JSON syntax, int digits limit, range
        raise Malformed(f"not JSON: {str(exc)[:200]}") from None
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
            load_error = storable(record["load_error"][:500])
            continue
        if record.get("missing_entrypoint") is True and load_error is None:
            load_error = MISSING_ENTRYPOINT
            continue
        tid = record.get("id")
        if type(tid) is not str or tid not in test_ids or tid in results or type(record.get("ok")) is not bool:
            continue
        if record["ok"] and "value" in record:
            results[tid] = {"ok": True, "value": record["value"]}
        elif not record["ok"] and type(record.get("error")) is str:
            results[tid] = {"ok": False, "error": storable(record["error"][:500])}
    return results, load_error


def _num(x) -> bool:
    return type(x) in (int, float)


def _close(a, b, rel: float, abs_: float) -> bool:
    if type(a) is int and type(b) is int:
        return a == b
    try:
        return math.isclose(float(a), float(b), rel_tol=rel, abs_tol=abs_)
    except OverflowError:
        pass  # an int beyond the float range: compare exactly, as fractions
    except ValueError:  # a negative tolerance
        return False
    try:
        x, y = Fraction(a), Fraction(b)
        return abs(x - y) <= max(Fraction(rel) * max(abs(x), abs(y)), Fraction(abs_))
    except (OverflowError, ValueError):  # infinity or NaN on either side
        return False


def _special_float(x):
    if type(x) is dict and set(x) == {"__float__"} and type(x["__float__"]) is str:
        return x["__float__"]
    return None


def equal(expected, got, *, rel: float = 1e-6, abs_: float = 1e-9) -> bool:
    """Compare two JSON values: exact types (bool is not a number), floats within tolerance,
    DataFrames (`{"__dataframe__": {"columns": [...], "data": [[...]]}}`) column names first,
    then cell by cell. Never raises; a value deeper than any parsed result is not equal."""
    return _equal(expected, got, rel, abs_, 0)


def _equal(expected, got, rel: float, abs_: float, depth: int) -> bool:
    if depth > MAX_DEPTH + 1:
        return False
    if expected is None or type(expected) in (bool, str):
        return type(got) is type(expected) and got == expected
    if _num(expected):
        return _num(got) and _close(expected, got, rel, abs_)
    if type(expected) is list:
        return (
            type(got) is list
            and len(got) == len(expected)
            and all(_equal(e, g, rel, abs_, depth + 1) for e, g in zip(expected, got, strict=True))
        )
    if type(expected) is dict:
        special = _special_float(expected)
        if special is not None:
            return _special_float(got) == special
        if type(got) is not dict or set(got) != set(expected):
            return False
        # A DataFrame is a dict like any other: the same keys ("columns" first, then "data"),
        # each compared by its type, so a payload of any other shape is simply not equal.
        return all(_equal(expected[k], got[k], rel, abs_, depth + 1) for k in expected)
    return False


def preview(value, limit: int = 300) -> str:
    """A short, storable text of a value for a public test's feedback."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):  # not a JSON value: never one the harness wrote
        text = "…"
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return storable(text)

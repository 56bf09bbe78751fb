"""A public test's arguments as a learner reads them (public_spec's `shown`), a list of:
- `{"name": None | keyword, "json": text}`: a JSON value, written as JSON (not Python's repr);
- `{"name": None | keyword, "frame": {"columns", "rows", "total", "more"}}`: a DataFrame
  (`{"__dataframe__": {"columns": [...], "data": [[...]]}}`, see csvframe) as a small table: its
  column names and first FRAME_ROWS rows as text, its row count, and how many rows are not shown.
Plain data, no HTML: templates/assessment/_code_arguments.html writes it, in the page's language."""

import json

FRAME_ROWS = 10


def _frame(value):
    """The table of a DataFrame value, or None for anything else (shown as JSON then)."""
    if type(value) is not dict or set(value) != {"__dataframe__"}:
        return None
    body = value["__dataframe__"]
    if type(body) is not dict or type(body.get("columns")) is not list or type(body.get("data")) is not list:
        return None
    columns, data = body["columns"], body["data"]
    if not all(type(row) is list for row in data):
        return None
    return {
        "columns": [_cell(c) for c in columns],
        "rows": [[_cell(v) for v in row] for row in data[:FRAME_ROWS]],
        "total": len(data),
        "more": max(0, len(data) - FRAME_ROWS),
    }


def _cell(value) -> str:
    """A cell as pandas shows it: text as itself, anything else (numbers, null, true) as JSON."""
    return value if type(value) is str else _json(value)


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def _argument(value, name=None) -> dict:
    frame = _frame(value)
    return {"name": name, "frame": frame} if frame is not None else {"name": name, "json": _json(value)}


def arguments(test: dict) -> list[dict]:
    """What a learner sees of one test's call: its positional arguments, then its keyword ones."""
    args = test.get("args") or []
    kwargs = test.get("kwargs") or {}
    return [_argument(v) for v in args] + [_argument(v, name) for name, v in kwargs.items()]

"""Runs INSIDE the sandbox, as the slot's uid: imports /task/submission.py, calls its entrypoint on
each input of /task/inputs.json, and writes one JSON line per test to the stdout it was given.

Nothing here is trusted by the worker: the checker re-parses these lines strictly and compares
them with expected outputs that never enter the sandbox. The learner's own prints go to stderr
(staff only), so they cannot shape what the checker reads by accident.

The first line is the run's `started` token (inputs.json), written once the harness runs and
before the submission is loaded: without it the worker knows the sandbox failed, not the learner."""

import importlib.util
import json
import math
import os
import sys

MAX_DEPTH = 20


def to_plain(x, depth=0):
    """Strict conversion to JSON values: exact types only (type(x) is str, not isinstance)."""
    if depth > MAX_DEPTH:
        raise ValueError("value nested too deeply")
    t = type(x)
    if x is None or t is bool or t is int or t is str:
        return x
    if t is float:
        if math.isnan(x) or math.isinf(x):
            return {"__float__": repr(x)}
        return x
    if t is list or t is tuple:
        return [to_plain(v, depth + 1) for v in x]
    if t is dict:
        out = {}
        for k, v in x.items():
            if type(k) is not str:
                raise TypeError("dictionary keys must be str")
            out[k] = to_plain(v, depth + 1)
        return out
    np = sys.modules.get("numpy")
    pd = sys.modules.get("pandas")
    if pd is not None and t is pd.DataFrame:
        split = json.loads(x.to_json(orient="split", index=False))
        return {"__dataframe__": {"columns": split["columns"], "data": split["data"]}}
    if pd is not None and t is pd.Series:
        return json.loads(x.to_json(orient="values"))
    if np is not None and t is np.ndarray:
        return to_plain(x.tolist(), depth + 1)
    if np is not None and isinstance(x, np.generic) and t.__module__ == "numpy":
        return to_plain(x.item(), depth + 1)
    raise TypeError(f"cannot return a {t.__name__}: return numbers, strings, lists, dicts or DataFrames")


def from_plain(x):
    if type(x) is dict and set(x) == {"__dataframe__"}:
        import pandas as pd

        return pd.DataFrame(x["__dataframe__"]["data"], columns=x["__dataframe__"]["columns"])
    if type(x) is list:
        return [from_plain(v) for v in x]
    if type(x) is dict:
        return {k: from_plain(v) for k, v in x.items()}
    return x


def describe(exc: BaseException) -> str:
    """The error's type and text; an exception whose str() raises cannot stop the other tests."""
    try:
        text = str(exc)[:500]
    except BaseException:  # noqa: BLE001 - the learner's __str__ may raise anything
        text = "(the error could not be shown)"
    return f"{type(exc).__name__}: {text}"


def main():
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # the learner's print() goes to stderr from here on
    sys.stdout = sys.stderr
    with open("/task/inputs.json", encoding="utf-8") as f:
        task = json.load(f)

    def emit(record):
        out.write(json.dumps(record, allow_nan=False) + "\n")
        out.flush()

    out.write(task["started"] + "\n")  # the sandbox works: what follows is the learner's doing
    out.flush()
    try:
        spec = importlib.util.spec_from_file_location("submission", "/task/submission.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    except BaseException as exc:  # noqa: BLE001 - any failure to load is reported, not raised
        emit({"load_error": describe(exc)})
        return
    try:
        fn = getattr(module, task["entrypoint"], None)
    except BaseException:  # noqa: BLE001 - a module __getattr__ may raise anything
        fn = None
    if not callable(fn):  # said as "the function is missing", never as an AttributeError
        emit({"missing_entrypoint": True})
        return
    for test in task["tests"]:
        try:
            value = fn(*from_plain(test.get("args", [])), **from_plain(test.get("kwargs", {})))
            emit({"id": test["id"], "ok": True, "value": to_plain(value)})
        except BaseException as exc:  # noqa: BLE001 - SystemExit included: one test fails, not all
            emit({"id": test["id"], "ok": False, "error": describe(exc)})


main()

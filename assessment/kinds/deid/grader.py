"""The deid grader: validates the spec, reads the learner's release (CSV text, or the DataFrame
their code returns from the sandbox) and measures it against the source table (metrics.py).
Pure functions of (spec, answer): the source table is embedded in the spec."""

import re

import pandas as pd
from django.utils.translation import gettext as _

from assessment import sandbox
from assessment.kinds.base import GradeResult, GraderUnavailable, SpecError
from assessment.sandbox import checker

from . import messages, metrics, table

ANSWER_MODES = ("csv", "code", "either")
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}")
MAX_CODE_CHARS = 64 * 1024
MAX_ANSWER_CHARS = table.MAX_CHARS
KEYS = ("table", "direct_identifiers", "quasi_identifiers", "sensitive", "k", "l", "max_loss", "answer_mode",
        "entrypoint", "reference_release", "reference_solution")  # fmt: skip
NAME_CHARS = 100


def _notice(code: str, **params) -> dict:
    return {"code": f"deid.{code}", "params": params}


def _text(value) -> str:
    """Learner text made storable and short, for a notice's parameters."""
    return checker.storable(str(value))[:NAME_CHARS]


# --- the spec ----------------------------------------------------------------------------------


def _int(spec: dict, key: str, low: int, high: int) -> int:
    value = spec.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SpecError(key, _("must be a whole number from %(low)s to %(high)s") % {"low": low, "high": high})
    return value


def _columns(spec: dict, key: str, source: table.Table) -> list[str]:
    value = spec.get(key)
    if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
        raise SpecError(key, _("must be a list of column names"))
    for i, name in enumerate(value):
        if name not in source.columns:
            raise SpecError(f"{key}[{i}]", _("the table has no column %(name)s") % {"name": name})
    if len(set(value)) != len(value):
        raise SpecError(key, _("a column is listed twice"))
    if value != [c for c in source.columns if c in value]:
        raise SpecError(key, _("list the columns in the table's order"))
    return value


def source_table(spec: dict) -> table.Table:
    try:
        return table.parse(spec.get("table"))
    except table.TableError as exc:
        raise SpecError("table", messages.table_text(exc.code, exc.params)) from None


def validate_spec(spec: dict) -> None:
    unknown = [k for k in spec if k not in KEYS]
    if unknown:
        raise SpecError(unknown[0], _("unknown key"))
    for key in ("table", "reference_release"):
        if isinstance(spec.get(key), str) and "\r" in spec[key]:
            raise SpecError(key, _("line breaks are \\n only (no carriage return)"))
    source = source_table(spec)
    if not source.rows:
        raise SpecError("table", _("the table has no row"))
    di = _columns(spec, "direct_identifiers", source)
    qi = _columns(spec, "quasi_identifiers", source)
    if not qi:
        raise SpecError("quasi_identifiers", _("declare at least one quasi-identifier"))
    both = [c for c in qi if c in di]
    if both:
        raise SpecError("quasi_identifiers", _("%(name)s is also a direct identifier") % {"name": both[0]})
    sensitive = spec.get("sensitive")
    if not isinstance(sensitive, str) or sensitive not in source.columns:
        raise SpecError("sensitive", _("name the sensitive column of the table"))
    if sensitive in di or sensitive in qi:
        raise SpecError("sensitive", _("the sensitive column is neither a direct nor a quasi-identifier"))
    _int(spec, "k", 2, len(source.rows))
    _int(spec, "l", 1, len(set(source.column(sensitive))))
    loss = spec.get("max_loss")
    if isinstance(loss, bool) or not isinstance(loss, int | float) or not 0 <= loss <= 1:
        raise SpecError("max_loss", _("the information-loss budget is a number from 0 to 1"))
    if spec.get("answer_mode") not in ANSWER_MODES:
        raise SpecError("answer_mode", _("must be csv, code or either"))
    entrypoint = spec.get("entrypoint")
    if not isinstance(entrypoint, str) or not IDENTIFIER.fullmatch(entrypoint):
        raise SpecError("entrypoint", _("must be a Python function name, e.g. release"))
    for key in ("reference_release", "reference_solution"):
        if key in spec and (not isinstance(spec[key], str) or not spec[key].strip()):
            raise SpecError(key, _("must be text, or left out"))
    if "reference_solution" in spec and len(spec["reference_solution"]) > MAX_CODE_CHARS:
        raise SpecError("reference_solution", _("the code is too long (64 KB at most)"))
    if "reference_release" in spec:
        report = evaluate_csv(spec, spec["reference_release"])
        problem = report.problem_text()
        if problem:
            raise SpecError("reference_release", problem)


def public_spec(spec: dict) -> dict:
    """What the learner reads: the whole source table (their working data), each column's role,
    the targets and the answer mode; never the reference."""
    source = table.parse(spec["table"])
    roles = {c: "direct" for c in spec["direct_identifiers"]}
    roles.update({c: "quasi" for c in spec["quasi_identifiers"]})
    roles[spec["sensitive"]] = "sensitive"
    return {
        "columns": [{"name": c, "role": roles.get(c, "other")} for c in source.columns],
        "preview": source.rows[:10],
        "row_count": len(source.rows),
        "table": spec["table"],
        "direct_identifiers": list(spec["direct_identifiers"]),
        "quasi_identifiers": list(spec["quasi_identifiers"]),
        "sensitive": spec["sensitive"],
        "k": spec["k"],
        "l": spec["l"],
        "max_loss": spec["max_loss"],
        "answer_mode": spec["answer_mode"],
        "entrypoint": spec["entrypoint"],
    }


# --- measuring a release -----------------------------------------------------------------------


class Report:
    """What a release measures, and the notices (codes) that say what is wrong with it."""

    def __init__(self, spec: dict):
        self.spec = spec
        self.fatal: list[dict] = []  # any of these scores 0
        self.measures: dict | None = None

    def problem_text(self) -> str:
        """For the builder: why a reference release fails (a fatal notice or a missed target), "" if none."""
        notices = self.fatal or (self.measures or {}).get("missed", [])
        return " ".join(messages.notice_text(n["code"].partition(".")[2], n["params"]) for n in notices)


def _frame_value(source: table.Table) -> dict:
    def typed(text: str):
        if text == "":
            return None
        if metrics.NUMERIC.fullmatch(text):
            return int(text) if re.fullmatch(r"-?\d+", text) and len(text) < 16 else float(text)
        return text

    return {"__dataframe__": {"columns": source.columns, "data": [[typed(c) for c in row] for row in source.rows]}}


def evaluate_csv(spec: dict, text) -> Report:
    report = Report(spec)
    try:
        released = table.parse(text)
    except table.TableError as exc:
        report.fatal.append(_notice("table_" + exc.code, **exc.params))
        return report
    return evaluate(spec, released, report)


def evaluate(spec: dict, released: table.Table, report: Report | None = None) -> Report:
    report = report or Report(spec)
    source = table.parse(spec["table"])
    di, qi, sensitive = spec["direct_identifiers"], spec["quasi_identifiers"], spec["sensitive"]
    for name in released.columns:
        if name not in source.columns:
            report.fatal.append(_notice("unknown_column", column=_text(name)))
    for name in [*qi, sensitive]:
        if name not in released.columns:
            report.fatal.append(_notice("missing_column", column=name))
    for name in di:
        if name in released.columns:
            i = released.columns.index(name)
            if not all(metrics.is_suppressed(row[i]) for row in released.rows):
                report.fatal.append(_notice("direct_identifier_kept", column=name))
    if len(released.rows) > len(source.rows):
        report.fatal.append(_notice("too_many_rows", released=len(released.rows), source=len(source.rows)))
    if report.fatal:
        return report
    # Truthfulness: each released row generalizes its own source row.
    checked = [c for c in released.columns if c not in di]
    index = {c: metrics.Column(source.column(c)) for c in checked}
    positions = {c: released.columns.index(c) for c in checked}
    covers = []
    for n, row in enumerate(released.rows):
        bits = -1
        for c in checked:
            value = row[positions[c]]
            cell = index[c].rows.get(value, 0) if c == sensitive else index[c].read(value)[0]
            if not cell:
                form = "sensitive" if c == sensitive else "cell"
                report.fatal.append(_notice(f"untrue_{form}", row=n + 1, column=c, value=_text(value)))
                return report
            bits &= cell
        covers.append(bits)
    matching = metrics.match(covers)
    if not matching.ok:
        code = "untrue_row" if matching.reason == "none" else "untrue_copy"
        report.fatal.append(_notice(code, row=matching.row + 1))
        return report
    # The measures.
    cells = len(source.rows) * len(qi)
    missing_rows = len(source.rows) - len(released.rows)
    loss = suppressed = missing_rows * len(qi)
    for row in released.rows:
        for c in qi:
            _bits, cell_loss, form = index[c].read(row[positions[c]])
            loss += cell_loss
            suppressed += form == "suppressed"
    frame = pd.DataFrame([[row[positions[c]] for c in [*qi, sensitive]] for row in released.rows],
                         columns=[*qi, sensitive], dtype=object)  # fmt: skip
    if released.rows:
        found = metrics.classes(frame, qi, sensitive)
        k, l_div = int(found["size"].min()), int(found["distinct"].min())
        first = found.iloc[0]
        smallest = {"values": {c: _text(first[c]) for c in qi}, "size": int(first["size"]),
                    "distinct": int(first["distinct"])}  # fmt: skip
        class_count = len(found)
    else:
        k = l_div = class_count = 0
        smallest = None
    measures = {
        "k": k,
        "k_target": spec["k"],
        "l": l_div,
        "l_target": spec["l"],
        "loss": round(loss / cells, 4),
        "suppressed_share": round(suppressed / cells, 4),
        "max_loss": spec["max_loss"],
        "smallest_class": smallest,
        "classes": class_count,
        "rows_released": len(released.rows),
        "rows_source": len(source.rows),
    }
    missed = []
    if k < spec["k"]:
        missed.append(_notice("k_missed", k=k, target=spec["k"], short=spec["k"] - k))
    if l_div < spec["l"]:
        missed.append(_notice("l_missed", l=l_div, target=spec["l"], short=spec["l"] - l_div))
    if loss / cells > spec["max_loss"]:
        missed.append(_notice("loss_over", loss=measures["loss"], max=spec["max_loss"],
                              over=round(loss / cells - spec["max_loss"], 4)))  # fmt: skip
    measures["missed"] = missed
    report.measures = measures
    return report


# --- the answer --------------------------------------------------------------------------------


def run_code(spec: dict, code: str) -> tuple[table.Table | None, list[dict], str]:
    """Run the learner's (or the reference's) code in the sandbox on the source table: (the
    table it returned or None, notices, staff log). Raises sandbox.SandboxUnavailable."""
    source = table.parse(spec["table"])
    test = {"id": "release", "args": [_frame_value(source)]}
    outcome = sandbox.run_tests(code=code, entrypoint=spec["entrypoint"], tests=[test])
    staff = f"exit {outcome.run.returncode}, {outcome.run.duration:.2f}s\n{outcome.run.stderr[-4000:]}"
    if outcome.load_error == checker.MISSING_ENTRYPOINT:
        return None, [_notice("missing_function", name=spec["entrypoint"])], staff
    if outcome.load_error:
        return None, [_notice("load_error", error=outcome.load_error)], staff
    result = outcome.results.get("release")
    if result is None:
        if outcome.limit:
            return None, [_notice("limit", limit=outcome.limit)], staff
        return None, [_notice("no_result")], staff
    if not result["ok"]:
        return None, [_notice("code_error", error=result["error"][:300])], staff
    try:
        return table.from_frame(result["value"]), [], staff
    except table.TableError as exc:
        return None, [_notice("table_" + exc.code, **exc.params)], staff


def grade(spec: dict, answer: dict) -> GradeResult:
    """3 points: k met; then, for a release that meets k, l met and the loss within the budget
    (publishing the source unchanged must not earn the budget's point). 0 for a release that keeps
    a direct identifier, has wrong columns or is not truthful."""
    answer = answer if isinstance(answer, dict) else {}
    staff = ""
    mode = spec["answer_mode"]
    csv_text, code = answer.get("csv"), answer.get("code")
    if isinstance(code, str) and code.strip() and mode in ("code", "either"):
        try:
            released, notices, staff = run_code(spec, code)
        except sandbox.SandboxUnavailable as exc:
            raise GraderUnavailable(str(exc)) from exc
        report = Report(spec)
        if released is None:
            report.fatal.extend(notices)
        else:
            evaluate(spec, released, report)
    elif isinstance(csv_text, str) and csv_text.strip() and mode in ("csv", "either"):
        report = evaluate_csv(spec, csv_text)
    else:
        return GradeResult(score=0, max_score=3, feedback={"kind": "deid", "messages": [_notice("no_answer")]})
    feedback = {"kind": "deid"}
    if report.fatal:
        feedback["messages"] = report.fatal
        return GradeResult(score=0, max_score=3, feedback=feedback, staff_log=staff)
    m = report.measures
    k_ok = m["k"] >= spec["k"]
    score = int(k_ok) + int(k_ok and m["l"] >= spec["l"]) + int(k_ok and not any(
        n["code"] == "deid.loss_over" for n in m["missed"]))  # fmt: skip
    feedback.update({key: value for key, value in m.items() if key != "missed"})
    feedback["messages"] = m["missed"] or [_notice("targets_met")]
    if not k_ok and (m["l"] >= spec["l"] or not any(n["code"] == "deid.loss_over" for n in m["missed"])):
        feedback["messages"].append(_notice("k_first"))
    return GradeResult(score=score, max_score=3, feedback=feedback, staff_log=staff)

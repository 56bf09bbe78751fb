"""The instructor's form for a code assignment (the Builder contract: assessment/kinds/base.py).

Fields: the function name, the starter code and the reference solution (code editors), the
tolerance, and a table of tests. Each test row has a name, public or hidden, its arguments and
(optional) keyword arguments. An argument is a JSON value, or CSV for a DataFrame (csvframe), or
a CSV dataset file of the course, whose text is copied into the argument. Row operations are
submit buttons named `builder_action` (edit_action); "check" runs the reference solution in the
sandbox on every test and shows the outputs the learner will be compared with.

The POST names: entrypoint, starter_code, reference_solution, tol_rel, tol_abs, test_count, and
per row i: t{i}_id, t{i}_visibility, t{i}_kwargs, t{i}_argc and per argument j: t{i}_a{j}_mode
(json | csv), t{i}_a{j}_value, t{i}_a{j}_file."""

import json
import math
import re

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assessment.kinds.base import BuilderContext, SpecError
from assessment.sandbox import checker

from . import csvframe, grader
from .widgets import CodeEditor

MAX_ROWS = grader.MAX_TESTS + 10  # a posted count beyond this is cut: the grader's limit says why
MAX_ARGS = 20
MAX_VALUE_CHARS = 512 * 1024
PATH = re.compile(r"(public_tests|hidden_tests)\[(\d+)\](?:\.(\w+))?")
NUMBER_INT = re.compile(r"-?[0-9]+")

STARTER = {
    "entrypoint": "solve",
    "starter_code": "def solve(values):\n    ...\n",
    "reference_solution": "",
    "public_tests": [{"id": "t1", "args": [[1, 2, 3]], "kwargs": {}}],
    "hidden_tests": [],
    "tolerance": dict(grader.DEFAULT_TOLERANCE),
}


def _number_text(value) -> str:
    if value is None:
        return ""
    return repr(value) if type(value) is float else str(value)


def _json_text(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def _same(a, b) -> bool:
    """Equal as JSON with the same types and key order (1, 1.0 and true differ)."""
    return json.dumps(a) == json.dumps(b)


def _arg_row(value) -> dict:
    try:
        text = csvframe.dump(value)
        if _same(csvframe.parse(text), value):
            return {"mode": "csv", "value": text, "file": ""}
    except (csvframe.NotCsv, csvframe.CsvError):
        pass
    return {"mode": "json", "value": _json_text(value), "file": ""}


def _rows_from_spec(spec: dict) -> tuple[dict, list[dict]]:
    tol = spec.get("tolerance")
    top = {
        "entrypoint": spec.get("entrypoint", ""),
        "starter_code": spec.get("starter_code", ""),
        "reference_solution": spec.get("reference_solution", ""),
        "tol_rel": _number_text(tol.get("rel")) if isinstance(tol, dict) else "",
        "tol_abs": _number_text(tol.get("abs")) if isinstance(tol, dict) else "",
    }
    rows = []
    for key, visibility in (("public_tests", "public"), ("hidden_tests", "hidden")):
        for t in spec.get(key) or []:
            rows.append(
                {
                    "id": t.get("id", ""),
                    "visibility": visibility,
                    "kwargs": _json_text(t["kwargs"]) if "kwargs" in t else "",
                    "args": [_arg_row(a) for a in t.get("args") or []],
                }
            )
    return top, rows


def _count(data, key: str, limit: int) -> int:
    try:
        return max(0, min(int(str(data.get(key, "0")).strip() or "0"), limit))
    except ValueError:
        return 0


def _rows_from_data(data) -> tuple[dict, list[dict]]:
    top = {k: data.get(k, "") for k in ("entrypoint", "starter_code", "reference_solution", "tol_rel", "tol_abs")}
    rows = []
    for i in range(_count(data, "test_count", MAX_ROWS)):
        args = []
        for j in range(_count(data, f"t{i}_argc", MAX_ARGS)):
            p = f"t{i}_a{j}_"
            args.append({"mode": data.get(p + "mode", "json"), "value": data.get(p + "value", ""),
                         "file": data.get(p + "file", "")})  # fmt: skip
        rows.append(
            {
                "id": data.get(f"t{i}_id", ""),
                "visibility": data.get(f"t{i}_visibility", "public"),
                "kwargs": data.get(f"t{i}_kwargs", ""),
                "args": args,
            }
        )
    return top, rows


def _data_from_rows(top: dict, rows: list[dict]) -> dict:
    data = dict(top)
    data["test_count"] = str(len(rows))
    for i, row in enumerate(rows):
        data[f"t{i}_id"] = row["id"]
        data[f"t{i}_visibility"] = row["visibility"]
        data[f"t{i}_kwargs"] = row["kwargs"]
        data[f"t{i}_argc"] = str(len(row["args"]))
        for j, arg in enumerate(row["args"]):
            p = f"t{i}_a{j}_"
            data[p + "mode"], data[p + "value"], data[p + "file"] = arg["mode"], arg["value"], arg["file"]
    return data


def _unique_id(rows: list[dict], base: str) -> str:
    taken = {r["id"] for r in rows}
    n = 1
    while f"{base}_{n}" in taken if base else f"t{n}" in taken:
        n += 1
    return f"{base}_{n}" if base else f"t{n}"


def _lines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _reject_constant(name):
    raise ValueError(name)


class Builder(forms.Form):
    template_name = "assessment/builders/code.html"

    entrypoint = forms.CharField(
        label=gettext_lazy("Function name"),
        max_length=100,
        help_text=gettext_lazy("The Python function the learner writes, e.g. solve."),
        widget=forms.TextInput(attrs={"dir": "ltr", "spellcheck": "false", "autocomplete": "off"}),
    )
    starter_code = forms.CharField(
        label=gettext_lazy("Starter code"), required=False, strip=False, widget=CodeEditor(attrs={"rows": 8})
    )
    reference_solution = forms.CharField(
        label=gettext_lazy("Reference solution"),
        required=False,
        strip=False,
        help_text=gettext_lazy(
            "Never shown to learners: its outputs are what the learner's outputs are compared with."
        ),
        widget=CodeEditor(),
    )
    tol_rel = forms.CharField(
        label=gettext_lazy("Relative tolerance"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "dir": "ltr", "size": 10}),
    )
    tol_abs = forms.CharField(
        label=gettext_lazy("Absolute tolerance"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "dir": "ltr", "size": 10}),
    )
    test_count = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, data=None, files=None, *, spec=None, context=None, **kwargs):
        self.context = context or BuilderContext()
        self._spec = None
        self.check_results = None  # after a successful "check": [{id, public, input, expected}]
        if data is not None:
            self._top, self._rows = _rows_from_data(data)
        else:
            self._top, self._rows = _rows_from_spec(STARTER if spec is None else spec)
            kwargs.setdefault("initial", _data_from_rows(self._top, self._rows))
        super().__init__(data, files, **kwargs)
        self._build_fields()

    # -- the fields of the rows -------------------------------------------------------------

    def _csv_files(self) -> list[tuple[str, str]]:
        return [(name, f"{name} ({size:,} B)") for name, size in self.context.files if name.lower().endswith(".csv")]

    def _build_fields(self):
        files = self._csv_files()
        visibility = [("public", _("Public: the learner sees it")), ("hidden", _("Hidden: pass or fail only"))]
        modes = [("json", _("JSON value")), ("csv", _("CSV (a DataFrame)"))]
        for i, row in enumerate(self._rows):
            n = i + 1
            self.fields[f"t{i}_id"] = forms.CharField(
                label=_("Name of test %(n)s") % {"n": n}, max_length=100, required=False,
                widget=forms.TextInput(attrs={"dir": "ltr", "size": 12}),
            )  # fmt: skip
            self.fields[f"t{i}_visibility"] = forms.ChoiceField(label=_("Test %(n)s is") % {"n": n}, choices=visibility)
            self.fields[f"t{i}_kwargs"] = forms.CharField(
                label=_("Keyword arguments of test %(n)s (a JSON object, optional)") % {"n": n},
                required=False,
                widget=forms.TextInput(attrs={"dir": "ltr", "spellcheck": "false"}),
            )
            self.fields[f"t{i}_argc"] = forms.IntegerField(widget=forms.HiddenInput, required=False)
            for j, arg in enumerate(row["args"]):
                p, where = f"t{i}_a{j}_", {"n": n, "j": j + 1}
                lines = min(max(2, str(arg["value"]).count("\n") + 2), 16)  # a CSV shows whole
                self.fields[p + "mode"] = forms.ChoiceField(
                    label=_("Test %(n)s, argument %(j)s, entered as") % where, choices=modes
                )
                self.fields[p + "value"] = forms.CharField(
                    label=_("Test %(n)s, argument %(j)s") % where, required=False, strip=False,
                    widget=forms.Textarea(attrs={"rows": lines, "cols": 60, "dir": "ltr", "spellcheck": "false",
                                                 "class": "code-arg"}),
                )  # fmt: skip
                if files:
                    self.fields[p + "file"] = forms.ChoiceField(
                        label=_("or a CSV file of the course for test %(n)s, argument %(j)s") % where,
                        choices=[("", _("(none)"))] + files,
                        required=False,
                    )

    def rows(self) -> list[dict]:
        """For the template: per row its bound fields, and per argument its own."""
        out = []
        for i, row in enumerate(self._rows):
            p = f"t{i}_"
            args = []
            for j in range(len(row["args"])):
                a = f"{p}a{j}_"
                args.append({"index": j, "mode": self[a + "mode"], "value": self[a + "value"],
                             "file": self[a + "file"] if a + "file" in self.fields else None})  # fmt: skip
            out.append(
                {"index": i, "number": i + 1, "id": self[p + "id"], "visibility": self[p + "visibility"],
                 "kwargs": self[p + "kwargs"], "argc": self[p + "argc"], "args": args,
                 "first": i == 0, "last": i == len(self._rows) - 1}
            )  # fmt: skip
        return out

    # -- the contract ------------------------------------------------------------------------

    @classmethod
    def data_from_spec(cls, spec: dict) -> dict:
        top, rows = _rows_from_spec(spec)
        return _data_from_rows(top, rows)

    def edit_action(self) -> bool:
        if not self.is_bound:
            return False
        action = str(self.data.get("builder_action", ""))
        if action == "check":
            self._check()
            return True
        rows = self._rows
        verb, _sep, rest = action.partition("-")
        try:
            numbers = [int(x) for x in rest.split("-")] if rest else []
        except ValueError:
            return False
        i = numbers[0] if numbers else None
        j = numbers[1] if len(numbers) > 1 else None
        if verb == "add" and i is None:
            if len(rows) >= MAX_ROWS:
                return True
            rows.append({"id": _unique_id(rows, ""), "visibility": "public", "kwargs": "{}",
                         "args": [{"mode": "json", "value": "", "file": ""}]})  # fmt: skip
        elif i is None or not 0 <= i < len(rows):
            return False
        elif verb == "duplicate" and j is None:
            if len(rows) >= MAX_ROWS:
                return True
            copy = {**rows[i], "args": [dict(a) for a in rows[i]["args"]]}
            copy["id"] = _unique_id(rows, rows[i]["id"].strip())
            rows.insert(i + 1, copy)
        elif verb == "delete" and j is None:
            del rows[i]
        elif verb in ("up", "down") and j is None:
            k = i - 1 if verb == "up" else i + 1
            if 0 <= k < len(rows):
                rows[i], rows[k] = rows[k], rows[i]
        elif verb == "addarg" and j is None:
            if len(rows[i]["args"]) < MAX_ARGS:
                rows[i]["args"].append({"mode": "json", "value": "", "file": ""})
        elif verb == "delarg" and j is not None and 0 <= j < len(rows[i]["args"]):
            del rows[i]["args"][j]
        elif verb == "pick" and j is not None and 0 <= j < len(rows[i]["args"]):
            arg = rows[i]["args"][j]
            text = self._file_text(arg["file"])
            if text is not None:
                arg.update(mode="csv", value=text, file="")
        else:
            return False
        self._rebind()
        return True

    def _rebind(self):
        """Show the edited rows as an unbound form: nothing is validated, nothing is saved."""
        data = _data_from_rows(self._top, self._rows)
        for key, value in self.data.items():  # the page's own fields stay as they were posted
            if key not in data and not re.fullmatch(r"t\d+_\w+|builder_action", key):
                data[key] = value
        self.is_bound = False
        self.data = {}
        self.initial = data
        self._errors = None
        for name in [n for n in self.fields if re.fullmatch(r"t\d+_\w+", n)]:
            del self.fields[name]
        self._build_fields()
        self._bound_fields_cache = {}

    def _file_text(self, name: str) -> str | None:
        if not name or name not in {n for n, _label in self._csv_files()}:
            return None
        raw = self.context.read_file(name)
        if raw is None:
            return None
        try:
            return _lines(raw.decode("utf-8-sig"))
        except UnicodeDecodeError:
            return None

    def _check(self):
        """Run the reference solution on every test: its outputs, or a field error."""
        if not self.is_valid():
            return
        spec = self.to_spec()
        try:
            prepared = grader.checked_spec(spec)
        except SpecError as exc:
            self.add_spec_error(exc)
            return
        self.check_results = [
            {"id": t["id"], "public": public, "input": checker.preview(t.get("args", [])),
             "expected": checker.preview(prepared["expected"][t["id"]])}
            for key, public in (("public_tests", True), ("hidden_tests", False))
            for t in prepared[key]
        ]  # fmt: skip

    # -- cleaning ----------------------------------------------------------------------------

    def clean(self):
        cleaned = super().clean()
        self._spec = None
        for key in ("starter_code", "reference_solution"):
            if isinstance(cleaned.get(key), str):
                cleaned[key] = _lines(cleaned[key])
        tolerance = {}
        for key, field in (("rel", "tol_rel"), ("abs", "tol_abs")):
            value = self._tolerance(field)
            if value is not None:
                tolerance[key] = value
        public, hidden, names = [], [], {}
        for i, row in enumerate(self._rows):
            test = self._test(i, row, names)
            if test is not None:
                (public if cleaned.get(f"t{i}_visibility") == "public" else hidden).append(test)
        if not self._rows:
            self.add_error("test_count", _("Add at least one test."))
        if self.errors:
            return cleaned
        spec = {
            "entrypoint": cleaned["entrypoint"],
            "starter_code": cleaned["starter_code"],
            "reference_solution": cleaned["reference_solution"],
            "public_tests": public,
            "hidden_tests": hidden,
        }
        if tolerance:
            spec["tolerance"] = tolerance
        try:
            grader.validate_spec(spec)
        except SpecError as exc:
            self.add_spec_error(exc)
            return cleaned
        self._spec = spec
        return cleaned

    def _tolerance(self, field: str):
        text = (self.cleaned_data.get(field) or "").strip()
        if not text:
            return None
        try:
            value = int(text) if NUMBER_INT.fullmatch(text) else float(text.replace(",", "."))
        except ValueError:
            self.add_error(field, _("Enter a number, e.g. 0.000001 or 1e-6."))
            return None
        if not math.isfinite(value) or value < 0:
            self.add_error(field, _("A tolerance is 0 or more."))
            return None
        return value

    def _test(self, i: int, row: dict, names: dict) -> dict | None:
        p = f"t{i}_"
        name = (self.cleaned_data.get(p + "id") or "").strip()
        if not name:
            self.add_error(p + "id", _("Give the test a name."))
        elif name in names:
            self.add_error(p + "id", _("Test %(n)s already has this name.") % {"n": names[name] + 1})
        else:
            names[name] = i
        args = []
        for j in range(len(row["args"])):
            value = self._argument(f"{p}a{j}_")
            args.append(self._stored(f"{p}a{j}_value", value))
        test = {"id": name, "args": args}
        kwargs_text = (self.cleaned_data.get(p + "kwargs") or "").strip()
        if kwargs_text:
            kwargs = self._json(p + "kwargs", kwargs_text)
            if kwargs is not None and not isinstance(kwargs, dict):
                self.add_error(p + "kwargs", _('Keyword arguments are a JSON object, e.g. {"n": 3}.'))
            test["kwargs"] = self._stored(p + "kwargs", kwargs)
        return test

    def _stored(self, field: str, value):
        """`value` if the database can store its text (PostgreSQL jsonb: no NUL, no lone surrogate)."""
        if not grader._storable(value):
            self.add_error(field, _("This value has text that cannot be stored (a NUL character or a lone surrogate)."))
            return None
        return value

    def _json(self, field: str, text: str):
        try:
            return json.loads(text, parse_constant=_reject_constant)
        except RecursionError:
            self.add_error(field, _("This JSON value is nested too deeply."))
        except json.JSONDecodeError as exc:
            self.add_error(
                field,
                _(
                    "This is not a JSON value (line %(line)s, column %(column)s). Text goes in double quotes,"
                    ' e.g. "Rabat"; a list in brackets, e.g. [1, 2].'
                )
                % {"line": exc.lineno, "column": exc.colno},
            )
        except ValueError:
            self.add_error(
                field, _("This JSON value has a number that is not accepted (NaN, Infinity or too many digits).")
            )
        return None

    def _argument(self, p: str):
        value_field = p + "value"
        file_name = self.cleaned_data.get(p + "file") or ""
        if file_name:
            text = self._file_text(file_name)
            if text is None:
                self.add_error(p + "file", _("This file cannot be read as UTF-8 text."))
                return None
            mode = "csv"
        else:
            text, mode = self.cleaned_data.get(value_field) or "", self.cleaned_data.get(p + "mode")
        if len(text) > MAX_VALUE_CHARS:
            self.add_error(value_field, _("This argument is too large (512 KB at most)."))
            return None
        if mode == "csv":
            try:
                return csvframe.parse(_lines(text))
            except csvframe.CsvError as exc:
                self.add_error(value_field, _("This is not a CSV table: %(reason)s.") % {"reason": exc})
                return None
        if not text.strip():
            self.add_error(value_field, _('Enter a JSON value, e.g. 3, "text" or [1, 2]; or delete the argument.'))
            return None
        return self._json(value_field, text)

    def to_spec(self) -> dict:
        if self._spec is None:
            raise ValueError("to_spec() needs a valid builder (call is_valid() first)")
        return self._spec

    def add_spec_error(self, exc: SpecError) -> None:
        path = exc.path or ""
        match = PATH.fullmatch(path)
        if match:
            key, index, part = match.group(1), int(match.group(2)), match.group(3)
            want = "public" if key == "public_tests" else "hidden"
            order = [i for i, r in enumerate(self._rows) if r["visibility"] == want]
            if index < len(order):
                i = order[index]
                field = f"t{i}_id"
                if part == "kwargs":
                    field = f"t{i}_kwargs"
                elif part == "args" and self._rows[i]["args"]:
                    field = f"t{i}_a0_value"
                self.add_error(field, exc.message)
                return
            path = key
        field = {
            "entrypoint": "entrypoint",
            "starter_code": "starter_code",
            "reference_solution": "reference_solution",
            "tolerance": "tol_rel",
            "public_tests": "test_count",
            "hidden_tests": "test_count",
        }.get(path.split(".")[0].split("[")[0])
        self.add_error(field, exc.message)

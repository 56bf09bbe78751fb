"""The instructor's form for a SQL assignment (the Builder contract: assessment/kinds/base.py).

The statement is the assignment's prompt (the settings form has it). Fields, with their POST
names:
- the public dataset: `ds_files` (course files ticked: each CSV becomes a table named after the
  file, or one .sql file is the script), `ds_script` (a script pasted), `ds_current` (hidden: the
  tables already embedded in the spec, kept unless files are ticked or a script is typed);
- the hidden dataset: `hd_files`, `hd_script`, `hd_current`, and `hd_remove` (no hidden dataset);
- `reference_query`, `order_matters`, `column_names_matter`, `tolerance`, `starter_query`;
- `meta` (hidden): which optional keys the spec spelled out, so the round trip is exact.
A `builder_action=check` button runs the reference query in the sandbox on both datasets and
shows its result on the public one (first rows) and the row counts; nothing is saved."""

import json
import math
import re
from pathlib import PurePosixPath

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assessment.kinds.base import BuilderContext, SpecError

from . import grader, limits
from .forms import QUERY_ATTRS

OPTIONAL = ("order_matters", "column_names_matter", "tolerance", "starter_query")
NUMBER_INT = re.compile(r"-?[0-9]+")
STARTER = {"reference_query": "", "starter_query": ""}
SCRIPT_ATTRS = {"rows": 8, "cols": 90, "class": "code sql-query", "dir": "ltr", "spellcheck": "false"}


def _lines(text: str) -> str:
    return (text or "").replace("\r\n", "\n").replace("\r", "\n")


def table_name(file_name: str, *, hidden: bool = False) -> str:
    """A course file's table name: its stem, as an identifier (admissions.csv -> admissions). For
    the hidden dataset a `_hidden` or `-hidden` ending is dropped (admissions_hidden.csv ->
    admissions), so both variants can be files of the same course."""
    stem = PurePosixPath(file_name).stem
    if hidden:
        stem = re.sub(r"[_-]hidden$", "", stem, flags=re.IGNORECASE) or stem
    stem = re.sub(r"[^A-Za-z0-9_]", "_", stem)[: limits.IDENTIFIER_CHARS] or "t"
    if stem[0].isdigit() or stem.lower().startswith("sqlite_"):
        stem = f"t_{stem}"[: limits.IDENTIFIER_CHARS]
    return stem


def _dataset_data(dataset, p: str) -> dict:
    if isinstance(dataset, dict) and "script" in dataset:
        return {f"{p}_script": dataset["script"], f"{p}_current": ""}
    if isinstance(dataset, dict):
        return {f"{p}_script": "", f"{p}_current": json.dumps(dataset, ensure_ascii=False)}
    return {f"{p}_script": "", f"{p}_current": ""}


def _number_text(value) -> str:
    return repr(value) if type(value) is float else str(value)


class Builder(forms.Form):
    template_name = "assessment/builders/sql.html"

    ds_files = forms.MultipleChoiceField(
        label=gettext_lazy("Course files for the public dataset"), required=False,
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip
    ds_script = forms.CharField(
        label=gettext_lazy("Or a SQL script for the public dataset"), required=False, strip=False,
        help_text=gettext_lazy("CREATE TABLE, INSERT, CREATE INDEX and CREATE VIEW statements only."),
        widget=forms.Textarea(attrs=SCRIPT_ATTRS),
    )  # fmt: skip
    ds_current = forms.CharField(required=False, widget=forms.HiddenInput)
    hd_files = forms.MultipleChoiceField(
        label=gettext_lazy("Course files for the hidden dataset"), required=False,
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip
    hd_script = forms.CharField(
        label=gettext_lazy("Or a SQL script for the hidden dataset"), required=False, strip=False,
        help_text=gettext_lazy(
            "The same tables and columns as the public dataset, other rows. A file named admissions_hidden.csv"
            " is the table admissions."
        ),
        widget=forms.Textarea(attrs=SCRIPT_ATTRS),
    )  # fmt: skip
    hd_current = forms.CharField(required=False, widget=forms.HiddenInput)
    hd_remove = forms.BooleanField(label=gettext_lazy("No hidden dataset"), required=False)
    reference_query = forms.CharField(
        label=gettext_lazy("Reference query"), strip=False, required=False,
        help_text=gettext_lazy(
            "Never shown to learners: its results are what the learner's results are compared with."
        ),
        widget=forms.Textarea(attrs=QUERY_ATTRS),
    )  # fmt: skip
    order_matters = forms.BooleanField(label=gettext_lazy("The order of the rows matters (ORDER BY)"), required=False)
    column_names_matter = forms.BooleanField(label=gettext_lazy("Column names must match"), required=False)
    tolerance = forms.CharField(
        label=gettext_lazy("Tolerance for floats"), required=False,
        help_text=gettext_lazy("Two numbers are equal when they differ by at most this much, e.g. 0.000001."),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "dir": "ltr", "size": 12}),
    )  # fmt: skip
    starter_query = forms.CharField(
        label=gettext_lazy("Starter query"), required=False, strip=False, widget=forms.Textarea(attrs=QUERY_ATTRS)
    )
    meta = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, data=None, files=None, *, spec=None, context=None, **kwargs):
        self.context = context or BuilderContext()
        self._spec = None
        self.check_result = None  # after a successful check: {columns, rows, more, counts}
        if data is None:
            initial = self.data_from_spec(STARTER if spec is None else spec)
            for key in ("order_matters", "column_names_matter", "hd_remove"):
                initial[key] = initial.get(key) == "on"
            kwargs.setdefault("initial", initial)
        super().__init__(data, files, **kwargs)
        choices = [(name, f"{name} ({size:,} B)") for name, size in self.context.files
                   if name.lower().endswith((".csv", ".sql"))]  # fmt: skip
        for p in ("ds", "hd"):
            self.fields[f"{p}_files"].choices = choices
        self.has_files = bool(choices)

    # -- the contract ----------------------------------------------------------------------------

    @classmethod
    def data_from_spec(cls, spec: dict) -> dict:
        data = {**_dataset_data(spec.get("dataset"), "ds"), **_dataset_data(spec.get("hidden_dataset"), "hd")}
        data["reference_query"] = spec.get("reference_query", "")
        data["starter_query"] = spec.get("starter_query", "")
        for key in ("order_matters", "column_names_matter"):
            if spec.get(key):
                data[key] = "on"
        data["tolerance"] = _number_text(spec["tolerance"]) if "tolerance" in spec else ""
        data["meta"] = json.dumps({"present": [k for k in OPTIONAL if k in spec]})
        return data

    def edit_action(self) -> bool:
        if not self.is_bound or self.data.get("builder_action") != "check":
            return False
        self._check()
        return True

    def _check(self):
        if not self.is_valid():
            return
        try:
            prepared = grader.checked_spec(self.to_spec())
        except SpecError as exc:
            self.add_spec_error(exc)
            return
        public = prepared["expected"]["public"]
        hidden = prepared["expected"].get("hidden")
        self.check_result = {
            "columns": public["columns"],
            "rows": [[grader._shown(v) for v in row] for row in public["rows"][: limits.CHECK_ROWS]],
            "public_count": len(public["rows"]),
            "hidden_count": None if hidden is None else len(hidden["rows"]),
        }

    # -- cleaning --------------------------------------------------------------------------------

    def _file_text(self, name: str) -> str | None:
        raw = self.context.read_file(name)
        if raw is None:
            return None
        try:
            return _lines(raw.decode("utf-8-sig"))
        except UnicodeDecodeError:
            return None

    def _dataset(self, p: str):
        """The dataset the fields of `p` (ds, hd) give, None for none; adds field errors."""
        files = self.cleaned_data.get(f"{p}_files") or []
        script = _lines(self.cleaned_data.get(f"{p}_script") or "")
        if files:
            texts = {}
            for name in files:
                text = self._file_text(name)
                if text is None:
                    self.add_error(f"{p}_files", _("%(name)s cannot be read as UTF-8 text.") % {"name": name})
                    return None
                texts[name] = text
            scripts = [n for n in files if n.lower().endswith(".sql")]
            if scripts:
                if len(files) > 1:
                    self.add_error(f"{p}_files", _("Tick one .sql file alone, or CSV files only."))
                    return None
                return {"script": texts[scripts[0]]}
            tables = [{"name": table_name(n, hidden=p == "hd"), "csv": texts[n]} for n in files]
            return {"tables": tables}
        if script.strip():
            return {"script": script}
        current = self.cleaned_data.get(f"{p}_current") or ""
        if current:
            try:
                value = json.loads(current)
            except ValueError:
                value = None
            if isinstance(value, dict):
                return value
        return None

    def _tolerance(self):
        text = (self.cleaned_data.get("tolerance") or "").strip()
        if not text:
            return None
        try:
            value = int(text) if NUMBER_INT.fullmatch(text) else float(text.replace(",", "."))
        except ValueError:
            self.add_error("tolerance", _("Enter a number, e.g. 0.000001 or 1e-6."))
            return None
        if not math.isfinite(value) or value < 0:
            self.add_error("tolerance", _("A tolerance is 0 or more."))
            return None
        return value

    def clean(self):
        cleaned = super().clean()
        self._spec = None
        try:
            meta = json.loads(cleaned.get("meta") or "{}")
            present = set(meta.get("present") or []) if isinstance(meta, dict) else set()
        except (ValueError, TypeError):
            present = set()
        dataset = self._dataset("ds")
        hidden = None if cleaned.get("hd_remove") else self._dataset("hd")
        tolerance = self._tolerance()
        if dataset is None and "ds_files" not in self.errors:
            self.add_error("ds_files" if self.has_files else "ds_script",
                           _("Give the dataset: tick course files or write a script."))  # fmt: skip
        reference = _lines(cleaned.get("reference_query") or "")
        if not reference.strip():
            self.add_error("reference_query", _("Write the reference query."))
        if self.errors:
            return cleaned
        spec = {"dataset": dataset}
        if hidden is not None:
            spec["hidden_dataset"] = hidden
        spec["reference_query"] = reference
        for key in ("order_matters", "column_names_matter"):
            if key in present or cleaned.get(key):
                spec[key] = bool(cleaned.get(key))
        if tolerance is not None:
            spec["tolerance"] = tolerance
        starter = _lines(cleaned.get("starter_query") or "")
        if "starter_query" in present or starter:
            spec["starter_query"] = starter
        try:
            grader.validate_spec(spec)
        except SpecError as exc:
            self.add_spec_error(exc)
            return cleaned
        self._spec = spec
        return cleaned

    def to_spec(self) -> dict:
        if self._spec is None:
            raise ValueError("to_spec() needs a valid builder (call is_valid() first)")
        return self._spec

    def add_spec_error(self, exc: SpecError) -> None:
        path = exc.path or ""
        head = path.split(".")[0].split("[")[0]
        field = None
        if head in ("dataset", "hidden_dataset"):
            p = "ds" if head == "dataset" else "hd"
            typed = self.is_bound and bool((self.data.get(f"{p}_script") or "").strip())
            picked = self.is_bound and bool(self.data.get(f"{p}_files"))
            script = not self.has_files or (path.endswith(".script") and not picked) or (typed and not picked)
            field = f"{p}_script" if script else f"{p}_files"
        elif head in ("reference_query", "order_matters", "column_names_matter", "tolerance", "starter_query"):
            field = head
        self.add_error(field, exc.message)

    # -- for the template ------------------------------------------------------------------------

    def current(self, p: str) -> list[dict] | None:
        """The tables embedded in the spec for `p` (kept unless replaced), for the template."""
        text = self[f"{p}_current"].value() or ""
        try:
            value = json.loads(text) if text else None
        except ValueError:
            return None
        if not isinstance(value, dict) or not isinstance(value.get("tables"), list):
            return None
        tables = [t for t in value["tables"] if isinstance(t, dict)]
        return [{"name": t.get("name", ""), "rows": max(0, sum(1 for x in str(t.get("csv", "")).split("\n") if x) - 1)}
                for t in tables]  # fmt: skip

    def dataset_parts(self) -> list[dict]:
        return [
            {"legend": _("Public dataset"), "files": self["ds_files"], "script": self["ds_script"],
             "current_field": self["ds_current"], "current": self.current("ds"), "remove": None,
             "hint": _("The learner sees its tables (columns and first rows) and the result of their query on it.")},
            {"legend": _("Hidden dataset (optional)"), "files": self["hd_files"], "script": self["hd_script"],
             "current_field": self["hd_current"], "current": self.current("hd"), "remove": self["hd_remove"],
             "hint": _("The same tables and columns with other rows: catches a query written for the visible rows. "
                       "The learner only learns whether their query matched on it.")},
        ]  # fmt: skip

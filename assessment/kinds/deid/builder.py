"""The deid builder (the Builder contract: assessment/kinds/base.py), in the studio pattern:
the statement is the page's prompt; the dataset is a course CSV file picked into the spec (or
pasted), and each of its columns gets a role; then the targets (k, l, loss budget), how learners
answer, and a reference release or solution that "Check against the reference" measures.

POST names (prefix "deid-"): deid-source_file, deid-table, deid-columns (hidden: the JSON list of
the columns the role fields stand for), deid-role-<i> (direct | quasi | sensitive | other, per
column in the table's order), deid-k, deid-l, deid-max_loss, deid-answer_mode, deid-entrypoint,
deid-reference_release, deid-reference_solution. Row operations are `builder_action`: "pick"
(copy the chosen file into the table and reload its columns), "columns" (reload the columns of
the table as typed), "check" (measure the reference)."""

import json

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assessment import sandbox
from assessment.kinds.base import BuilderContext, SpecError
from assessment.kinds.code.widgets import CodeEditor

from . import grader, messages, table

PREFIX = "deid"
ROLES = ("direct", "quasi", "sensitive", "other")
LTR = {"dir": "ltr", "spellcheck": "false"}
STARTER = {"table": "", "k": 3, "l": 2, "max_loss": 0.5, "answer_mode": "either", "entrypoint": "release"}


def _lines(text: str) -> str:
    return (text or "").replace("\r\n", "\n").replace("\r", "\n")


def _number_text(value) -> str:
    return "" if value is None else str(value)


def _columns_of(text: str) -> list[str]:
    try:
        return table.parse(text).columns
    except table.TableError:
        return []


def _role_choices():
    return [("direct", _("Direct identifier")), ("quasi", _("Quasi-identifier")),
            ("sensitive", _("Sensitive attribute")), ("other", _("Other"))]  # fmt: skip


class Builder(forms.Form):
    template_name = "assessment/builders/deid.html"

    source_file = forms.ChoiceField(label=gettext_lazy("Course CSV file"), required=False)
    table = forms.CharField(
        label=gettext_lazy("Patient table (CSV)"),
        strip=False,
        help_text=gettext_lazy("Its first line names the columns. Learners see the whole table: use made-up patients."),
        widget=forms.Textarea(attrs={"rows": 10, "cols": 90, "class": "code", **LTR}),
    )
    columns = forms.CharField(required=False, widget=forms.HiddenInput)
    k = forms.IntegerField(label=gettext_lazy("k (smallest class size)"), min_value=2)
    l = forms.IntegerField(label=gettext_lazy("l (distinct sensitive values per class)"), min_value=1)  # noqa: E741
    max_loss = forms.CharField(
        label=gettext_lazy("Information-loss budget (0 to 1)"),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 8, **LTR}),
    )
    answer_mode = forms.ChoiceField(
        label=gettext_lazy("Learners submit"),
        choices=[
            ("either", gettext_lazy("a table (CSV) or code")),
            ("csv", gettext_lazy("a table (CSV)")),
            ("code", gettext_lazy("Python code")),
        ],  # fmt: skip
    )
    entrypoint = forms.CharField(
        label=gettext_lazy("Function name (code answers)"),
        max_length=100,
        help_text=gettext_lazy("The learner writes def release(df): ... and returns the released DataFrame."),
        widget=forms.TextInput(attrs={**LTR, "autocomplete": "off"}),
    )
    reference_release = forms.CharField(
        label=gettext_lazy("Reference release (CSV)"),
        required=False,
        strip=False,
        help_text=gettext_lazy("Never shown to learners: a release that meets the targets."),
        widget=forms.Textarea(attrs={"rows": 8, "cols": 90, "class": "code", **LTR}),
    )
    reference_solution = forms.CharField(
        label=gettext_lazy("Reference solution (Python)"),
        required=False,
        strip=False,
        help_text=gettext_lazy("Never shown to learners: code that makes a release meeting the targets."),
        widget=CodeEditor(attrs={"rows": 10}),
    )

    def __init__(self, data=None, files=None, *, spec=None, context=None, **kwargs):
        super().__init__(data, files, prefix=PREFIX, **kwargs)
        self.context = context or BuilderContext()
        self.check_results = None  # after "check": [{"what": ..., "measures": {...}}]
        self._spec = None
        self.fields["source_file"].choices = [("", _("(none)"))] + [
            (name, f"{name} ({size:,} B)") for name, size in self.context.files if name.lower().endswith(".csv")
        ]
        if self.is_bound:
            try:
                names = json.loads(self._raw("columns") or "[]")
            except ValueError:
                names = []
            names = [n for n in names if isinstance(n, str)][: table.MAX_COLUMNS] if isinstance(names, list) else []
            self.column_names = names
            self._role_fields()
        else:
            self._show(self._state_from_spec(STARTER if spec is None else spec))

    # --- state ---------------------------------------------------------------------------------

    def _raw(self, name: str):
        return self.fields[name].widget.value_from_datadict(self.data, self.files, self.add_prefix(name))

    @staticmethod
    def _state_from_spec(spec: dict) -> dict:
        names = _columns_of(spec.get("table", ""))
        roles = {c: "other" for c in names}
        roles.update({c: "direct" for c in spec.get("direct_identifiers") or []})
        roles.update({c: "quasi" for c in spec.get("quasi_identifiers") or []})
        if spec.get("sensitive"):
            roles[spec["sensitive"]] = "sensitive"
        return {
            "source_file": "",
            "table": spec.get("table", ""),
            "columns": names,
            "roles": [roles.get(c, "other") for c in names],
            "k": spec.get("k"),
            "l": spec.get("l"),
            "max_loss": _number_text(spec.get("max_loss")),
            "answer_mode": spec.get("answer_mode", "either"),
            "entrypoint": spec.get("entrypoint", "release"),
            "reference_release": spec.get("reference_release", ""),
            "reference_solution": spec.get("reference_solution", ""),
        }

    def _state_from_data(self) -> dict:
        names = ("source_file", "table", "k", "l", "max_loss", "answer_mode", "entrypoint", "reference_release",
                 "reference_solution")  # fmt: skip
        state = {name: self._raw(name) or "" for name in names}
        state["columns"] = list(self.column_names)
        state["roles"] = [self._raw(f"role-{i}") or "other" for i in range(len(self.column_names))]
        return state

    def _role_fields(self) -> None:
        for name in [n for n in self.fields if n.startswith("role-")]:
            del self.fields[name]
        for i, column in enumerate(self.column_names):
            self.fields[f"role-{i}"] = forms.ChoiceField(
                label=_("Role of the column %(name)s") % {"name": column}, choices=_role_choices()
            )

    def _show(self, state: dict) -> None:
        """Show `state` unbound: nothing validated, nothing saved."""
        self.is_bound = False
        self.data, self._errors = {}, None
        self.column_names = state["columns"]
        self._role_fields()
        for name in ("source_file", "table", "k", "l", "max_loss", "answer_mode", "entrypoint",
                     "reference_release", "reference_solution"):  # fmt: skip
            self.fields[name].initial = state[name]
        self.fields["columns"].initial = json.dumps(state["columns"], ensure_ascii=False)
        for i, role in enumerate(state["roles"]):
            self.fields[f"role-{i}"].initial = role
        self._bound_fields_cache = {}

    # --- the contract --------------------------------------------------------------------------

    @classmethod
    def data_from_spec(cls, spec: dict) -> dict:
        state = cls._state_from_spec(spec)
        data = {f"{PREFIX}-{k}": _number_text(state[k]) for k in ("source_file", "table", "k", "l", "max_loss",
                "answer_mode", "entrypoint", "reference_release", "reference_solution")}  # fmt: skip
        data[f"{PREFIX}-columns"] = json.dumps(state["columns"], ensure_ascii=False)
        for i, role in enumerate(state["roles"]):
            data[f"{PREFIX}-role-{i}"] = role
        return data

    def edit_action(self) -> bool:
        if not self.is_bound:
            return False
        action = str(self.data.get("builder_action", ""))
        if action == "check":
            self._check()
            return True
        if action not in ("pick", "columns"):
            return False
        state = self._state_from_data()
        if action == "pick":
            text = self._file_text(state["source_file"])
            if text is None:
                self.add_error("source_file", _("Choose a CSV file of the course that is UTF-8 text."))
                return True
            state["table"], state["source_file"] = text, ""
        old = dict(zip(state["columns"], state["roles"], strict=False))
        state["columns"] = _columns_of(state["table"])
        state["roles"] = [old.get(c, "other") for c in state["columns"]]
        self._show(state)
        return True

    def _file_text(self, name: str) -> str | None:
        if not name or name not in {n for n, _size in self.context.files}:
            return None
        raw = self.context.read_file(name)
        try:
            return _lines(raw.decode("utf-8-sig")) if raw is not None else None
        except UnicodeDecodeError:
            return None

    def clean(self):
        cleaned = super().clean()
        text = _lines(cleaned.get("table") or "")
        if "table" not in self.errors:
            try:
                names = table.parse(text).columns
            except table.TableError as exc:
                self.add_error("table", messages.table_text(exc.code, exc.params))
                return cleaned
            if names != self.column_names:
                self.add_error(
                    "table", _("The table's columns changed: press “Reload the columns” and set their roles.")
                )
        loss = None
        loss_text = (cleaned.get("max_loss") or "").strip().replace(",", ".")
        try:
            loss = float(loss_text)
        except ValueError:
            self.add_error("max_loss", _("Enter a number from 0 to 1, e.g. 0.4."))
        if self.errors:
            return cleaned
        roles = [cleaned.get(f"role-{i}") for i in range(len(self.column_names))]
        sensitive = [c for c, r in zip(self.column_names, roles, strict=True) if r == "sensitive"]
        if len(sensitive) != 1:
            field = f"role-{roles.index('sensitive', roles.index('sensitive') + 1)}" if len(sensitive) > 1 else (
                "role-0" if self.column_names else "table")  # fmt: skip
            self.add_error(field, _("Give exactly one column the role “Sensitive attribute”."))
            return cleaned
        spec = {
            "table": text,
            "direct_identifiers": [c for c, r in zip(self.column_names, roles, strict=True) if r == "direct"],
            "quasi_identifiers": [c for c, r in zip(self.column_names, roles, strict=True) if r == "quasi"],
            "sensitive": sensitive[0],
            "k": cleaned["k"],
            "l": cleaned["l"],
            "max_loss": int(loss) if loss_text.isdigit() else loss,
            "answer_mode": cleaned["answer_mode"],
            "entrypoint": cleaned["entrypoint"].strip(),
        }
        for key in ("reference_release", "reference_solution"):
            value = _lines(cleaned.get(key) or "")
            if value.strip():
                spec[key] = value
        try:
            grader.validate_spec(spec)
        except SpecError as exc:
            self.add_spec_error(exc)
            return cleaned
        self._spec = spec
        return cleaned

    def _check(self) -> None:
        """Measure the reference release and the reference solution's release: the measures for
        the page, or a field error on the reference that misses a target."""
        if not self.is_valid():
            return
        spec = self._spec
        if "reference_release" not in spec and "reference_solution" not in spec:
            self.add_error("reference_release", _("Give a reference release or a reference solution to check."))
            return
        results = []
        if "reference_release" in spec:
            report = grader.evaluate_csv(spec, spec["reference_release"])
            results.append({"what": _("Reference release"), "measures": report.measures})
        if "reference_solution" in spec:
            try:
                released, notices, _staff = grader.run_code(spec, spec["reference_solution"])
            except sandbox.SandboxUnavailable as exc:
                self.add_error("reference_solution", _("The sandbox is unavailable: %(reason)s") % {"reason": exc})
                return
            report = grader.Report(spec)
            if released is None:
                report.fatal.extend(notices)
            else:
                grader.evaluate(spec, released, report)
            problem = report.problem_text()
            if problem:
                self.add_error("reference_solution", problem)
                return
            results.append({"what": _("Reference solution"), "measures": report.measures})
        self.check_results = results

    def to_spec(self) -> dict:
        if self._spec is None:
            raise ValueError("to_spec() needs a valid builder (call is_valid() first)")
        return self._spec

    def add_spec_error(self, exc: SpecError) -> None:
        key = (exc.path or "").split("[")[0].split(".")[0]
        if key in ("direct_identifiers", "quasi_identifiers", "sensitive"):
            field = "role-0" if "role-0" in self.fields else "table"
        elif key in self.fields:
            field = key
        else:
            field = None
        self.add_error(field, exc.message)

    # --- for the template ----------------------------------------------------------------------

    def role_rows(self) -> list:
        return [self[f"role-{i}"] for i in range(len(self.column_names))]

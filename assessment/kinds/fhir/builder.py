"""The FHIR builder: the instructor's form for a fhir spec (the Builder contract is in
assessment.kinds.base). Fields: the resource type the learner writes, the rules as rows (an
element path, a check: required / equals / code, the value or code, and the code system), the
identifier system and the resources that need it, whether references must resolve inside the
Bundle, the starter and the reference answer (JSON texts). "Check against the reference"
(builder_action=check) runs every check on the reference answer and shows what each rule found
there, or puts the failure on the rule row, or on the reference answer, that fails.

POST names (prefix `builder-`): resource_type, identifier_system, identifier_type,
resolve_references, starter, reference_answer, meta, rules (the row count), and per row i:
rule-{i}-path, rule-{i}-check, rule-{i}-value, rule-{i}-system, rule-{i}-meta."""

import json
import re

from django import forms
from django.utils.translation import gettext_lazy as _

from assessment.kinds.base import BuilderContext, SpecError
from assessment.kinds.rowbuilder import (
    ACTION,
    PREFIX,
    TemplateRenderMixin,
    apply_op,
    count,
    hidden,
    meta_dump,
    meta_load,
    parse_action,
    show_unbound,
    split_known,
)

from . import grader, paths, source

KNOWN = ("resource_type", "rules", "identifier_system", "identifier_type", "resolve_references", "starter",
         "reference_answer")  # fmt: skip
RULE_KNOWN = ("path", "required", "equals", "code")
ROW_KEYS = ("path", "check", "value", "system", "meta")
_RULE_PATH = re.compile(r"^rules\[(\d+)\](?:\.(path|required|equals|code)(?:\.(system|code))?)?")
_LTR = {"dir": "ltr", "spellcheck": "false", "autocomplete": "off"}


def _text(value) -> str:
    return (value or "").replace("\r\n", "\n")


def _preview(value) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:79] + "…"


class Builder(TemplateRenderMixin, forms.Form):
    template_name = "assessment/builders/fhir.html"

    resource_type = forms.ChoiceField(
        label=_("Resource the learner writes"), choices=[(t, t) for t in grader.RESOURCE_TYPES]
    )
    identifier_system = forms.CharField(
        label=_("Identifier system"), required=False, strip=False, max_length=grader.MAX_VALUE_CHARS,
        help_text=_("Optional: the resource needs an identifier with this system, e.g. a hospital's patient number."),
        widget=forms.TextInput(attrs={**_LTR, "size": 50}),
    )  # fmt: skip
    identifier_type = forms.CharField(
        label=_("Resources that need it (in a Bundle)"), required=False, strip=False, max_length=64,
        help_text=_("For a Bundle: the resource type whose every resource needs the identifier, e.g. Patient."),
        widget=forms.TextInput(attrs={**_LTR, "size": 20}),
    )  # fmt: skip
    resolve_references = forms.BooleanField(label=_("References must resolve inside the Bundle"), required=False)
    starter = forms.CharField(
        label=_("Starter"), required=False, strip=False, max_length=source.MAX_BYTES,
        help_text=_("Optional: the JSON the learner's answer starts from."),
        widget=forms.Textarea(attrs={**_LTR, "rows": 6, "cols": 80, "class": "code"}),
    )  # fmt: skip
    reference_answer = forms.CharField(
        label=_("Reference answer"), required=False, strip=False, max_length=source.MAX_BYTES,
        help_text=_("Never shown to learners: a resource that passes every check."),
        widget=forms.Textarea(attrs={**_LTR, "rows": 16, "cols": 80, "class": "code"}),
    )  # fmt: skip
    meta = hidden()
    rules = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, data=None, files=None, *, spec: dict | None = None, context: BuilderContext | None = None,
                 **kwargs):  # fmt: skip
        super().__init__(data, files, prefix=PREFIX, **kwargs)
        self.context = context or BuilderContext()
        self.check_results = None  # after a successful "check": [{path, what, found}]
        self._spec = None
        self._setup(None if self.is_bound else self._state_from_spec(spec if spec is not None else self.starter_spec()))

    # --- state: the form's content as plain values ----------------------------------------------

    @staticmethod
    def starter_spec() -> dict:
        return {
            "resource_type": "Observation",
            "rules": [{"path": "Observation.code", "code": {"system": "http://loinc.org", "code": ""}}],
            "reference_answer": "",
        }

    @staticmethod
    def _row_from_rule(rule: dict) -> dict:
        known, extra = split_known(rule, RULE_KNOWN)
        row = {"path": known.get("path", ""), "check": "required", "value": "", "system": ""}
        more = {}
        if "equals" in known:
            value = known["equals"]
            row["check"] = "equals"
            if isinstance(value, str):
                row["value"] = value
            else:
                row["value"] = json.dumps(value)
                more["equals_json"] = True
        elif "code" in known and isinstance(known["code"], dict):
            code_known, code_extra = split_known(known["code"], ("system", "code"))
            row.update(check="code", value=code_known.get("code", ""), system=code_known.get("system", ""))
            if code_extra:
                more["code_extra"] = code_extra
        row["meta"] = meta_dump(present=known, extra=extra, **more)
        return row

    @classmethod
    def _state_from_spec(cls, spec: dict) -> dict:
        known, extra = split_known(spec, KNOWN)
        return {
            "resource_type": known.get("resource_type", "Observation"),
            "identifier_system": known.get("identifier_system") or "",
            "identifier_type": known.get("identifier_type") or "",
            "resolve_references": bool(known.get("resolve_references", False)),
            "starter": known.get("starter") or "",
            "reference_answer": known.get("reference_answer") or "",
            "rules": [cls._row_from_rule(r) for r in known.get("rules") or [] if isinstance(r, dict)],
            "meta": meta_dump(present=known, extra=extra),
        }

    def _raw(self, name: str):
        field = self.fields[name]
        return field.widget.value_from_datadict(self.data, self.files, self.add_prefix(name))

    def _state_from_data(self) -> dict:
        state = {k: self._raw(k) or "" for k in ("resource_type", "identifier_system", "identifier_type", "starter",
                                                  "reference_answer", "meta")}  # fmt: skip
        state["resolve_references"] = self.fields["resolve_references"].to_python(self._raw("resolve_references"))
        state["rules"] = [{k: self._raw(f"rule-{i}-{k}") or "" for k in ROW_KEYS} for i in range(self.rule_count)]
        return state

    def _setup(self, state: dict | None) -> None:
        self.rule_count = count(self.data, "rules", grader.MAX_RULES) if state is None else len(state["rules"])
        checks = [("required", _("must be present")), ("equals", _("must equal the value")),
                  ("code", _("must hold the code (system and code)"))]  # fmt: skip
        for i in range(self.rule_count):
            n = {"n": i + 1}
            self.fields[f"rule-{i}-path"] = forms.CharField(
                label=_("Element path of rule %(n)s") % n, required=False, strip=False, max_length=paths.MAX_PATH,
                widget=forms.TextInput(attrs={**_LTR, "size": 40, "placeholder": "Observation.code.coding.system"}),
            )  # fmt: skip
            self.fields[f"rule-{i}-check"] = forms.ChoiceField(label=_("Check of rule %(n)s") % n, choices=checks)
            self.fields[f"rule-{i}-value"] = forms.CharField(
                label=_("Value or code of rule %(n)s") % n, required=False, strip=False,
                max_length=grader.MAX_VALUE_CHARS, widget=forms.TextInput(attrs={**_LTR, "size": 30}),
            )  # fmt: skip
            self.fields[f"rule-{i}-system"] = forms.CharField(
                label=_("Code system of rule %(n)s") % n, required=False, strip=False,
                max_length=grader.MAX_VALUE_CHARS,
                widget=forms.TextInput(attrs={**_LTR, "size": 30, "placeholder": "http://loinc.org"}),
            )  # fmt: skip
            self.fields[f"rule-{i}-meta"] = hidden()
        if state is not None:
            for name in ("resource_type", "identifier_system", "identifier_type", "resolve_references", "starter",
                         "reference_answer", "meta"):  # fmt: skip
                self.fields[name].initial = state.get(name)
            self.fields["rules"].initial = self.rule_count
            for i, row in enumerate(state["rules"]):
                for key in ROW_KEYS:
                    self.fields[f"rule-{i}-{key}"].initial = row.get(key)
        self.stored_meta = meta_load(state["meta"] if state is not None else self._raw("meta"))

    # --- the contract --------------------------------------------------------------------------

    @classmethod
    def data_from_spec(cls, spec: dict) -> dict:
        state = cls._state_from_spec(spec)
        data = {f"{PREFIX}-{k}": state[k] for k in ("resource_type", "identifier_system", "identifier_type", "starter",
                                                     "reference_answer", "meta")}  # fmt: skip
        data[f"{PREFIX}-rules"] = str(len(state["rules"]))
        if state["resolve_references"]:
            data[f"{PREFIX}-resolve_references"] = "on"
        for i, row in enumerate(state["rules"]):
            for key in ROW_KEYS:
                data[f"{PREFIX}-rule-{i}-{key}"] = row[key]
        return data

    def edit_action(self) -> bool:
        if not self.is_bound:
            return False
        if self.data.get(ACTION) == "check":
            self._check()
            return True
        parsed = parse_action(self.data.get(ACTION))
        if parsed is None or parsed[1] != "rule":
            return False
        op, _what, indexes = parsed
        state = self._state_from_data()
        if op != "add" or len(state["rules"]) < grader.MAX_RULES:
            rtype = state["resource_type"] if state["resource_type"] in grader.RESOURCE_TYPES else "Observation"
            new = {"path": f"{rtype}.", "check": "required", "value": "", "system": "", "meta": meta_dump()}
            apply_op(state["rules"], op, indexes[0] if indexes else None, lambda: new)
        return show_unbound(self, state)

    def _check(self) -> None:
        """Every check on the reference answer: what each rule found there, or the field errors."""
        if not self.is_valid():
            return
        spec = self.to_spec()
        resource = grader.read(spec, spec["reference_answer"])
        rows = []
        for rule in spec.get("rules") or []:
            rtype, steps = paths.parse(rule["path"])
            found = [
                _preview(v) for _prefix, item in grader._targets(resource, rtype) for v in paths.evaluate(item, steps)
            ]
            rows.append({"path": rule["path"], "found": found[:5]})
        self.check_results = rows

    def clean(self):
        data = super().clean()
        self._spec = None
        for i in range(self.rule_count):
            p = f"rule-{i}-"
            check = data.get(p + "check")
            if not (data.get(p + "path") or "").strip() and p + "path" not in self.errors:
                self.add_error(p + "path", _("Write the element path, or delete the rule."))
            if (
                check in ("equals", "code")
                and not (data.get(p + "value") or "").strip()
                and p + "value" not in self.errors
            ):
                self.add_error(p + "value", _("Write the value (or the code) this element must hold."))
            if check == "code" and not (data.get(p + "system") or "").strip() and p + "system" not in self.errors:
                self.add_error(p + "system", _("Write the code system, e.g. http://loinc.org."))
        if self.errors:
            return data
        spec = self._build(data)
        if spec is None:
            return data
        try:
            grader.validate_spec(spec)
        except SpecError as exc:
            self.add_spec_error(exc)
            return data
        self._spec = spec
        return data

    def _build(self, data) -> dict | None:
        present = set(self.stored_meta["present"])
        spec = {"resource_type": data["resource_type"]}
        rules = []
        for i in range(self.rule_count):
            p = f"rule-{i}-"
            meta = meta_load(data.get(p + "meta"))
            rule = {"path": data[p + "path"]}
            check, value = data[p + "check"], data.get(p + "value") or ""
            if check == "required":
                rule["required"] = True
            elif check == "equals":
                if meta.get("equals_json"):
                    try:
                        value = json.loads(value)
                    except ValueError:
                        self.add_error(p + "value", _("Write a number, true or false, as it was."))
                        return None
                rule["equals"] = value
            else:
                extra = {k: v for k, v in (meta.get("code_extra") or {}).items() if k not in ("system", "code")}
                rule["code"] = {"system": data.get(p + "system") or "", "code": value, **extra}
            rules.append({**rule, **{k: v for k, v in meta["extra"].items() if k not in RULE_KNOWN}})
        if "rules" in present or rules:
            spec["rules"] = rules
        for key in ("identifier_system", "identifier_type"):  # blank: not checked (a valid spec is never blank)
            if data.get(key):
                spec[key] = data[key]
        if "resolve_references" in present or data.get("resolve_references"):
            spec["resolve_references"] = bool(data.get("resolve_references"))
        if "starter" in present or data.get("starter"):
            spec["starter"] = _text(data.get("starter"))
        spec["reference_answer"] = _text(data.get("reference_answer"))
        spec.update({k: v for k, v in self.stored_meta["extra"].items() if k not in KNOWN})
        return spec

    def to_spec(self) -> dict:
        if self._spec is None:
            raise ValueError("to_spec() needs a valid builder (call is_valid() first)")
        return self._spec

    def add_spec_error(self, exc: SpecError) -> None:
        path = exc.path or ""
        field = None
        match = _RULE_PATH.match(path)
        if match:
            index, key, sub = int(match.group(1)), match.group(2), match.group(3)
            field = f"rule-{index}-path"
            if key == "equals" or (key == "code" and sub != "system"):
                field = f"rule-{index}-value"
            elif key == "code":
                field = f"rule-{index}-system"
        elif path.split("[", 1)[0] in KNOWN:
            field = path.split("[", 1)[0]
        if field not in self.fields or field == "rules":
            field = None
        self.add_error(field, exc.message)

    # --- for the template ----------------------------------------------------------------------

    def rule_rows(self) -> list[dict]:
        return [
            {"index": i, "number": i + 1, **{k: self[f"rule-{i}-{k}"] for k in ROW_KEYS},
             "first": i == 0, "last": i == self.rule_count - 1}
            for i in range(self.rule_count)
        ]  # fmt: skip

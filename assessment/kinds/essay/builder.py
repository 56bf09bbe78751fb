"""The essay builder: a rubric of criteria × levels and the word limits, as a form (the Builder
contract is in assessment.kinds.base). Rows are added, deleted and moved with submit buttons
(`builder_action`), so it works without JavaScript. Criterion and level ids are made once, when
the row is added, and never shown: a review keeps pointing at the same level when titles change.

Canonical key order (as the archive writes a spec): rubric {criteria [{id, title, description,
levels [{id, title, points, description}]}]}, min_words, max_words, then any key the builder has
no field for, carried as it was."""

import re
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from assessment.kinds.base import MAX_POINTS, BuilderContext, SpecError, content_attrs
from assessment.kinds.rowbuilder import (
    ACTION,
    PREFIX,
    TemplateRenderMixin,
    apply_op,
    count,
    hidden,
    meta_dump,
    meta_load,
    number,
    parse_action,
    show_unbound,
    split_known,
    unique_id,
)

from . import grader

MAX_CRITERIA = 50
MAX_LEVELS = 20
KNOWN = ("rubric", "min_words", "max_words", "model_answer")
CRITERION_KNOWN = ("id", "title", "description", "levels")
LEVEL_KNOWN = ("id", "title", "points", "description")
_PATH = re.compile(r"^rubric\.criteria(?:\[(\d+)\](?:\.(\w+))?(?:\[(\d+)\](?:\.(\w+))?)?)?")


def _text(value) -> str:
    return (value or "").replace("\r\n", "\n")


def _new_level(taken: set, points=0) -> dict:
    return {"id": unique_id(taken, "level"), "title": "", "points": points, "description": "", "meta": meta_dump()}


def _new_criterion(taken: set) -> dict:
    levels, ids = [], set()
    for points in (0, 1, 2):
        level = _new_level(ids, points)
        ids.add(level["id"])
        levels.append(level)
    return {"id": unique_id(taken, "criterion"), "title": "", "description": "", "levels": levels,
            "meta": meta_dump(present=["description"])}  # fmt: skip


class Builder(TemplateRenderMixin, forms.Form):
    template_name = "assessment/builders/essay.html"

    min_words = forms.IntegerField(label=_("Minimum words"), min_value=0, required=False)
    max_words = forms.IntegerField(
        label=_("Maximum words"), min_value=1, required=False, help_text=_("Empty: no maximum.")
    )
    model_answer = forms.CharField(
        label=_("Model answer"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Shown to graders beside the rubric, never to learners."),
    )
    meta = hidden()
    criteria = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, data=None, files=None, *, spec: dict | None = None, context: BuilderContext | None = None,
                 **kwargs):  # fmt: skip
        super().__init__(data, files, prefix=PREFIX, **kwargs)
        self.context = context or BuilderContext()
        self.fields["model_answer"].widget.attrs.update(content_attrs(self.context, rows=8))
        self._setup(None if self.is_bound else (self._state_from_spec(spec) if spec is not None else self.starter()))

    # --- state ---------------------------------------------------------------------------------

    @staticmethod
    def starter() -> dict:
        return {"criteria": [_new_criterion(set())], "min_words": 0, "max_words": None, "model_answer": "",
                "meta": meta_dump(present=["min_words", "max_words"])}  # fmt: skip

    @staticmethod
    def _state_from_spec(spec: dict) -> dict:
        known, extra = split_known(spec, KNOWN)
        rubric = known.get("rubric") if isinstance(known.get("rubric"), dict) else {}
        rubric_known, rubric_extra = split_known(rubric, ("criteria",))
        criteria = []
        for c in rubric_known.get("criteria") or []:
            c_known, c_extra = split_known(c, CRITERION_KNOWN)
            levels = []
            for level in c_known.get("levels") or []:
                l_known, l_extra = split_known(level, LEVEL_KNOWN)
                levels.append({"id": l_known.get("id", ""), "title": l_known.get("title", ""),
                               "points": l_known.get("points"), "description": l_known.get("description", ""),
                               "meta": meta_dump(present=l_known, extra=l_extra)})  # fmt: skip
            criteria.append({"id": c_known.get("id", ""), "title": c_known.get("title", ""),
                             "description": c_known.get("description", ""), "levels": levels,
                             "meta": meta_dump(present=c_known, extra=c_extra)})  # fmt: skip
        present = [k for k in known if k != "rubric"]
        return {"criteria": criteria, "min_words": known.get("min_words", 0), "max_words": known.get("max_words"),
                "model_answer": known.get("model_answer", ""),
                "meta": meta_dump(present=present, extra=extra, rubric_extra=rubric_extra)}  # fmt: skip

    def _raw(self, name: str):
        field = self.fields[name]
        return field.widget.value_from_datadict(self.data, self.files, self.add_prefix(name))

    def _state_from_data(self) -> dict:
        criteria = []
        for i, n_levels in enumerate(self.level_counts):
            c = {k: self._raw(f"c{i}-{k}") for k in ("id", "title", "description", "meta")}
            c["levels"] = [
                {k: self._raw(f"c{i}-l{j}-{k}") for k in ("id", "title", "points", "description", "meta")}
                for j in range(n_levels)
            ]
            criteria.append(c)
        return {"criteria": criteria, "min_words": self._raw("min_words"), "max_words": self._raw("max_words"),
                "model_answer": self._raw("model_answer"), "meta": self._raw("meta")}  # fmt: skip

    def _setup(self, state: dict | None) -> None:
        if state is None:
            n = count(self.data, "criteria", MAX_CRITERIA)
            self.level_counts = [count(self.data, f"c{i}-levels", MAX_LEVELS) for i in range(n)]
        else:
            self.level_counts = [len(c["levels"]) for c in state["criteria"]]
        for i, n_levels in enumerate(self.level_counts):
            self.fields[f"c{i}-id"] = hidden()
            self.fields[f"c{i}-meta"] = hidden()
            self.fields[f"c{i}-levels"] = forms.IntegerField(required=False, widget=forms.HiddenInput)
            self.fields[f"c{i}-title"] = forms.CharField(
                label=_("Criterion title"), max_length=200, required=False, strip=False,
                widget=forms.TextInput(attrs=content_attrs(self.context)),
            )  # fmt: skip
            self.fields[f"c{i}-description"] = forms.CharField(
                label=_("What this criterion assesses"), required=False, strip=False,
                widget=forms.Textarea(attrs=content_attrs(self.context, rows=2)),
            )  # fmt: skip
            for j in range(n_levels):
                self.fields[f"c{i}-l{j}-id"] = hidden()
                self.fields[f"c{i}-l{j}-meta"] = hidden()
                self.fields[f"c{i}-l{j}-title"] = forms.CharField(
                    label=_("Level title"), max_length=200, required=False, strip=False,
                    widget=forms.TextInput(attrs=content_attrs(self.context)),
                )  # fmt: skip
                self.fields[f"c{i}-l{j}-points"] = forms.DecimalField(
                    label=_("Points"), min_value=0, max_value=MAX_POINTS,
                    widget=forms.NumberInput(attrs={"step": "any"}),
                )  # fmt: skip
                self.fields[f"c{i}-l{j}-description"] = forms.CharField(
                    label=_("Descriptor: what an answer at this level looks like"), required=False, strip=False,
                    widget=forms.Textarea(attrs=content_attrs(self.context, rows=2)),
                )  # fmt: skip
        if state is not None:
            self.fields["min_words"].initial = state["min_words"]
            self.fields["max_words"].initial = state["max_words"]
            self.fields["model_answer"].initial = state["model_answer"]
            self.fields["meta"].initial = state["meta"]
            self.fields["criteria"].initial = len(state["criteria"])
            for i, c in enumerate(state["criteria"]):
                self.fields[f"c{i}-levels"].initial = len(c["levels"])
                for key in ("id", "title", "description", "meta"):
                    self.fields[f"c{i}-{key}"].initial = c[key]
                for j, level in enumerate(c["levels"]):
                    for key in ("id", "title", "points", "description", "meta"):
                        self.fields[f"c{i}-l{j}-{key}"].initial = level[key]
        self.stored_meta = meta_load(state["meta"] if state is not None else self._raw("meta"))

    # --- the contract --------------------------------------------------------------------------

    @classmethod
    def data_from_spec(cls, spec: dict) -> dict:
        state = cls._state_from_spec(spec)
        p = PREFIX

        def text(value):
            return "" if value is None else str(value)

        data = {f"{p}-min_words": text(state["min_words"]), f"{p}-max_words": text(state["max_words"]),
                f"{p}-model_answer": text(state["model_answer"]), f"{p}-meta": state["meta"],
                f"{p}-criteria": str(len(state["criteria"]))}  # fmt: skip
        for i, c in enumerate(state["criteria"]):
            data[f"{p}-c{i}-levels"] = str(len(c["levels"]))
            for key in ("id", "title", "description", "meta"):
                data[f"{p}-c{i}-{key}"] = text(c[key])
            for j, level in enumerate(c["levels"]):
                for key in ("id", "title", "points", "description", "meta"):
                    data[f"{p}-c{i}-l{j}-{key}"] = text(level[key])
        return data

    def edit_action(self) -> bool:
        parsed = parse_action(self.data.get(ACTION)) if self.is_bound else None
        if parsed is None or parsed[1] not in ("criterion", "level"):
            return False
        op, what, indexes = parsed
        state = self._state_from_data()
        criteria = state["criteria"]
        if what == "criterion":
            if op != "add" or len(criteria) < MAX_CRITERIA:
                new = _new_criterion({c["id"] for c in criteria})
                apply_op(criteria, op, indexes[0] if indexes else None, lambda: new)
        elif indexes and 0 <= indexes[0] < len(criteria):
            levels = criteria[indexes[0]]["levels"]
            if op != "add" or len(levels) < MAX_LEVELS:
                valid = [x for x in map(_decimal_or_none, (lv["points"] for lv in levels)) if x is not None]
                new = _new_level({lv["id"] for lv in levels}, points=number(max(valid) + 1) if valid else 0)
                apply_op(levels, op, indexes[1] if len(indexes) > 1 else None, lambda: new)
        return show_unbound(self, state)

    def clean(self):
        data = super().clean()
        if not self.level_counts:
            self.add_error("criteria", _("Add at least one criterion to the rubric."))
        for i, n_levels in enumerate(self.level_counts):
            if not (data.get(f"c{i}-title") or "").strip() and f"c{i}-title" not in self.errors:
                self.add_error(f"c{i}-title", _("Give this criterion a title."))
            if not n_levels:
                self.add_error(f"c{i}-levels", _("Add at least one level to this criterion."))
        lo, hi = data.get("min_words"), data.get("max_words")
        if lo is not None and hi is not None and lo > hi:
            message = ngettext(
                "The minimum is above the maximum (%(max)d word).",
                "The minimum is above the maximum (%(max)d words).",
                hi,
            )
            self.add_error("min_words", message % {"max": hi})
        if self.errors:
            return data
        try:
            grader.validate_spec(self.to_spec())
        except SpecError as exc:
            self.add_spec_error(exc)
        return data

    def to_spec(self) -> dict:
        data = self.cleaned_data
        criteria = []
        for i, n_levels in enumerate(self.level_counts):
            c_meta = meta_load(data.get(f"c{i}-meta"))
            levels = []
            for j in range(n_levels):
                l_meta = meta_load(data.get(f"c{i}-l{j}-meta"))
                level = {"id": data.get(f"c{i}-l{j}-id") or "", "title": data.get(f"c{i}-l{j}-title") or "",
                         "points": number(data.get(f"c{i}-l{j}-points"))}  # fmt: skip
                description = _text(data.get(f"c{i}-l{j}-description"))
                if description or "description" in l_meta["present"]:
                    level["description"] = description
                level.update({k: v for k, v in l_meta["extra"].items() if k not in LEVEL_KNOWN})
                levels.append(level)
            criterion = {"id": data.get(f"c{i}-id") or "", "title": data.get(f"c{i}-title") or ""}
            description = _text(data.get(f"c{i}-description"))
            if description or "description" in c_meta["present"]:
                criterion["description"] = description
            criterion["levels"] = levels
            criterion.update({k: v for k, v in c_meta["extra"].items() if k not in CRITERION_KNOWN})
            criteria.append(criterion)
        self._fill_ids(criteria)
        rubric_extra = self.stored_meta.get("rubric_extra")
        rubric = {"criteria": criteria}
        if isinstance(rubric_extra, dict):
            rubric.update({k: v for k, v in rubric_extra.items() if k != "criteria"})
        spec = {"rubric": rubric}
        present = set(self.stored_meta["present"])
        if "min_words" in present or data.get("min_words") not in (None, 0):
            spec["min_words"] = data.get("min_words") or 0
        if "max_words" in present or data.get("max_words") is not None:
            spec["max_words"] = data.get("max_words")
        if data.get("model_answer"):
            spec["model_answer"] = data["model_answer"]
        spec.update({k: v for k, v in self.stored_meta["extra"].items() if k not in KNOWN})
        return spec

    @staticmethod
    def _fill_ids(criteria: list) -> None:
        """Rows posted without their hidden id (or with a duplicate one) get a fresh one."""
        taken: set = set()
        for c in criteria:
            if not c["id"] or c["id"] in taken:
                c["id"] = unique_id(taken | {x["id"] for x in criteria}, "criterion")
            taken.add(c["id"])
            level_ids: set = set()
            for level in c["levels"]:
                if not level["id"] or level["id"] in level_ids:
                    level["id"] = unique_id(level_ids | {x["id"] for x in c["levels"]}, "level")
                level_ids.add(level["id"])

    def add_spec_error(self, exc: SpecError) -> None:
        path = exc.path or ""
        field = None
        match = _PATH.match(path)
        if match:
            ci, c_key, li, l_key = match.groups()
            if ci is None:
                field = "criteria"
            elif li is None:
                field = f"c{ci}-levels" if c_key == "levels" else f"c{ci}-{'title' if c_key in (None, 'id') else c_key}"
            else:
                field = f"c{ci}-l{li}-{'title' if l_key in (None, 'id') else l_key}"
        elif path in ("min_words", "max_words", "model_answer"):
            field = path
        if field not in self.fields:
            field = None
        self.add_error(field, exc.message)

    # --- for the template ----------------------------------------------------------------------

    def criterion_rows(self) -> list[dict]:
        rows = []
        last = len(self.level_counts) - 1
        for i, n_levels in enumerate(self.level_counts):
            levels = [
                {"index": j, "title": self[f"c{i}-l{j}-title"], "points": self[f"c{i}-l{j}-points"],
                 "description": self[f"c{i}-l{j}-description"], "hidden": [self[f"c{i}-l{j}-id"],
                 self[f"c{i}-l{j}-meta"]], "first": j == 0, "last": j == n_levels - 1}
                for j in range(n_levels)
            ]  # fmt: skip
            rows.append({"index": i, "title": self[f"c{i}-title"], "description": self[f"c{i}-description"],
                         "levels_field": self[f"c{i}-levels"], "hidden": [self[f"c{i}-id"], self[f"c{i}-meta"]],
                         "levels": levels, "first": i == 0, "last": i == last})  # fmt: skip
        return rows


def _decimal_or_none(value) -> Decimal | None:
    try:
        number = Decimal(str(value))
    except (ArithmeticError, ValueError, TypeError):
        return None
    return number if number.is_finite() else None

"""The flag builder: the instructor's form for a flag spec (the Builder contract is in
assessment.kinds.base). Fields: the flag (write-only: a stored flag is only its hash, kept as it
is unless a new flag is typed), case sensitivity, wrong flags allowed per hour, the course files
attached as artifacts, and hints, each unlocked after a number of wrong attempts.

Canonical key order (as the archive writes a spec): flag_hash | flag, case_sensitive,
max_wrong_per_hour, artifacts, hints [{text, after_wrong}], then any key the builder has no
field for, carried as it was."""

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from assessment.kinds.base import BuilderContext, SpecError, content_attrs
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

from . import grader

KNOWN = ("flag", "flag_hash", "case_sensitive", "max_wrong_per_hour", "artifacts", "hints")
HINT_KNOWN = ("text", "after_wrong")
_HINT_PATH = re.compile(r"^hints\[(\d+)\](?:\.(text|after_wrong))?")


def _text(value) -> str:
    return (value or "").replace("\r\n", "\n")


class Builder(TemplateRenderMixin, forms.Form):
    template_name = "assessment/builders/flag.html"

    flag = forms.CharField(
        label=_("Flag"),
        required=False,
        strip=False,
        max_length=500,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "dir": "ltr"}),
    )
    case_sensitive = forms.BooleanField(label=_("Upper and lower case must match"), required=False)
    max_wrong_per_hour = forms.IntegerField(
        label=_("Wrong flags allowed per hour"),
        min_value=1,
        help_text=_("Past this, a learner waits before trying again: guessing stays slow."),
    )
    artifacts = forms.MultipleChoiceField(
        label=_("Attached files"), required=False, widget=forms.CheckboxSelectMultiple
    )
    flag_hash = hidden()
    meta = hidden()
    hints = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, data=None, files=None, *, spec: dict | None = None, context: BuilderContext | None = None,
                 **kwargs):  # fmt: skip
        super().__init__(data, files, prefix=PREFIX, **kwargs)
        self.context = context or BuilderContext()
        self._setup(None if self.is_bound else self._state_from_spec(spec if spec is not None else self.starter()))

    # --- state: the form's content as plain values ----------------------------------------------

    @staticmethod
    def starter() -> dict:
        return {"flag": "", "case_sensitive": True, "max_wrong_per_hour": grader.DEFAULT_MAX_WRONG_PER_HOUR}

    @staticmethod
    def _state_from_spec(spec: dict) -> dict:
        known, extra = split_known(spec, KNOWN)
        hints = []
        for hint in known.get("hints") or []:
            h_known, h_extra = split_known(hint, HINT_KNOWN)
            hints.append({"text": h_known.get("text", ""), "after_wrong": h_known.get("after_wrong"),
                          "meta": meta_dump(present=h_known, extra=h_extra)})  # fmt: skip
        flag_hash = known.get("flag_hash") or ""
        more = {"hash_case_sensitive": known.get("case_sensitive", True)} if flag_hash else {}
        return {
            "flag": known.get("flag") or "",
            "flag_hash": flag_hash,
            "case_sensitive": known.get("case_sensitive", True),
            "max_wrong_per_hour": known.get("max_wrong_per_hour", grader.DEFAULT_MAX_WRONG_PER_HOUR),
            "artifacts": list(known.get("artifacts") or []),
            "hints": hints,
            "meta": meta_dump(present=[k for k in known if k not in ("flag", "flag_hash")], extra=extra, **more),
        }

    def _raw(self, name: str):
        field = self.fields[name]
        return field.widget.value_from_datadict(self.data, self.files, self.add_prefix(name))

    def _state_from_data(self) -> dict:
        return {
            "flag": self._raw("flag") or "",
            "flag_hash": self._raw("flag_hash") or "",
            "case_sensitive": self.fields["case_sensitive"].to_python(self._raw("case_sensitive")),
            "max_wrong_per_hour": self._raw("max_wrong_per_hour"),
            "artifacts": self._raw("artifacts") or [],
            "hints": [
                {k: self._raw(f"hint-{i}-{k}") for k in ("text", "after_wrong", "meta")} for i in range(self.hint_count)
            ],
            "meta": self._raw("meta"),
        }

    def _setup(self, state: dict | None) -> None:
        """Build the per-hint fields and the artifact choices: from the posted data (bound), or
        showing `state` (unbound)."""
        if state is None:
            self.hint_count = count(self.data, "hints", grader.MAX_HINTS)
            chosen = self._raw("artifacts") or []
        else:
            self.hint_count = len(state["hints"])
            chosen = state["artifacts"]
        names = [name for name, _size in self.context.files]
        sizes = dict(self.context.files)
        missing = [n for n in chosen if isinstance(n, str) and n not in sizes]
        self.fields["artifacts"].choices = [(n, n) for n in names] + [
            (n, _("%(name)s (no longer among the course's files)") % {"name": n}) for n in missing
        ]
        for i in range(self.hint_count):
            self.fields[f"hint-{i}-text"] = forms.CharField(
                label=_("Hint %(n)d") % {"n": i + 1}, strip=False, required=False,
                widget=forms.Textarea(attrs=content_attrs(self.context, rows=2)), max_length=grader.MAX_HINT_CHARS,
            )  # fmt: skip
            self.fields[f"hint-{i}-after_wrong"] = forms.IntegerField(
                label=_("Shown after this many wrong flags"), min_value=0, max_value=grader.MAX_AFTER_WRONG
            )
            self.fields[f"hint-{i}-meta"] = hidden()
        if state is not None:
            for name in ("flag", "flag_hash", "case_sensitive", "max_wrong_per_hour", "artifacts", "meta"):
                self.fields[name].initial = state.get(name)
            self.fields["hints"].initial = self.hint_count
            for i, hint in enumerate(state["hints"]):
                for key in ("text", "after_wrong", "meta"):
                    self.fields[f"hint-{i}-{key}"].initial = hint.get(key)
        self.fields["flag"].widget.attrs["aria-describedby"] = f"{self['flag'].auto_id}-help"
        self.stored_meta = meta_load(state["meta"] if state is not None else self._raw("meta"))
        self.has_stored_flag = bool(state["flag_hash"] if state is not None else self._raw("flag_hash"))

    # --- the contract --------------------------------------------------------------------------

    @classmethod
    def data_from_spec(cls, spec: dict) -> dict:
        state = cls._state_from_spec(spec)
        data = {
            f"{PREFIX}-flag": state["flag"],
            f"{PREFIX}-flag_hash": state["flag_hash"],
            f"{PREFIX}-max_wrong_per_hour": str(state["max_wrong_per_hour"]),
            f"{PREFIX}-artifacts": state["artifacts"],
            f"{PREFIX}-meta": state["meta"],
            f"{PREFIX}-hints": str(len(state["hints"])),
        }
        if state["case_sensitive"]:
            data[f"{PREFIX}-case_sensitive"] = "on"
        for i, hint in enumerate(state["hints"]):
            data[f"{PREFIX}-hint-{i}-text"] = hint["text"]
            data[f"{PREFIX}-hint-{i}-after_wrong"] = "" if hint["after_wrong"] is None else str(hint["after_wrong"])
            data[f"{PREFIX}-hint-{i}-meta"] = hint["meta"]
        return data

    def edit_action(self) -> bool:
        parsed = parse_action(self.data.get(ACTION)) if self.is_bound else None
        if parsed is None or parsed[1] != "hint":
            return False
        op, _what, indexes = parsed
        state = self._state_from_data()
        if op != "add" or len(state["hints"]) < grader.MAX_HINTS:
            after = [int(h["after_wrong"]) for h in state["hints"] if str(h["after_wrong"] or "").isdigit()]
            new = {"text": "", "after_wrong": (max(after) if after else 0) + 3, "meta": meta_dump()}
            apply_op(state["hints"], op, indexes[0] if indexes else None, lambda: new)
        # Shown again, unbound: the new rows, nothing saved, no error yet.
        return show_unbound(self, state)

    def clean(self):
        data = super().clean()
        typed = (data.get("flag") or "").strip()
        if not typed and not data.get("flag_hash") and "flag" not in self.errors:
            self.add_error("flag", _("Type the flag learners must find."))
        kept_case = self.stored_meta.get("hash_case_sensitive")
        for i in range(self.hint_count):
            if not _text(data.get(f"hint-{i}-text")).strip() and f"hint-{i}-text" not in self.errors:
                self.add_error(f"hint-{i}-text", _("Write the hint, or delete it."))
        changed_case = isinstance(kept_case, bool) and data.get("case_sensitive", kept_case) != kept_case
        if not typed and changed_case:
            self.add_error("case_sensitive", _("Type the flag again to change whether case matters."))
        if self.errors:
            return data
        try:
            grader.validate_spec(self.to_spec())
        except SpecError as exc:
            self.add_spec_error(exc)
        return data

    def to_spec(self) -> dict:
        data = self.cleaned_data
        # The optional keys the spec spelled out stay written (a starter spells out the settings);
        # others are written when they differ from what their absence means.
        present = set(self.stored_meta["present"])
        spec = {}
        if data.get("flag_hash"):
            spec["flag_hash"] = data["flag_hash"]
        if (data.get("flag") or "").strip():
            spec["flag"] = data["flag"]
        if "case_sensitive" in present or data["case_sensitive"] is not True:
            spec["case_sensitive"] = data["case_sensitive"]
        if "max_wrong_per_hour" in present or data["max_wrong_per_hour"] != grader.DEFAULT_MAX_WRONG_PER_HOUR:
            spec["max_wrong_per_hour"] = data["max_wrong_per_hour"]
        if "artifacts" in present or data["artifacts"]:
            spec["artifacts"] = list(data["artifacts"])
        hints = []
        for i in range(self.hint_count):
            meta = meta_load(data.get(f"hint-{i}-meta"))
            hint = {"text": _text(data.get(f"hint-{i}-text")), "after_wrong": data.get(f"hint-{i}-after_wrong")}
            hints.append({**hint, **{k: v for k, v in meta["extra"].items() if k not in HINT_KNOWN}})
        if "hints" in present or hints:
            spec["hints"] = hints
        spec.update({k: v for k, v in self.stored_meta["extra"].items() if k not in KNOWN})
        return spec

    def add_spec_error(self, exc: SpecError) -> None:
        path = exc.path or ""
        field = None
        match = _HINT_PATH.match(path)
        if match:
            index, key = int(match.group(1)), match.group(2)
            field = f"hint-{index}-{key}" if key else f"hint-{index}-text"
        elif path in ("flag", "flag_hash"):
            field = "flag"
        elif path.split("[", 1)[0] in ("case_sensitive", "max_wrong_per_hour", "artifacts", "hints"):
            field = path.split("[", 1)[0]
        if field not in self.fields:
            field = None
        self.add_error(field, exc.message)

    # --- for the template ----------------------------------------------------------------------

    def hint_rows(self) -> list[dict]:
        return [
            {"index": i, "text": self[f"hint-{i}-text"], "after_wrong": self[f"hint-{i}-after_wrong"],
             "meta": self[f"hint-{i}-meta"], "first": i == 0, "last": i == self.hint_count - 1}
            for i in range(self.hint_count)
        ]  # fmt: skip

"""What the flag and essay builders share (see the Builder contract in assessment.kinds.base):
rows of fields posted as `<prefix>-<row>-<field>`, a hidden count per list of rows, row
operations asked by a `builder_action` button, and a hidden `meta` per row and per spec.

`meta` is what makes `Builder(data=Builder.data_from_spec(s)).to_spec() == s` exact for any valid
spec: it records which optional keys the spec spelled out (so `min_words: 0` stays written, and
an absent one stays absent) and carries keys the builder has no field for, untouched."""

import copy
import json
import re

from django import forms
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

PREFIX = "builder"
ACTION = "builder_action"
_ACTION_RE = re.compile(r"^(add|delete|up|down)_([a-z]+)(?:-(\d+))?(?:-(\d+))?$")


def meta_dump(*, present=(), extra=None, **more) -> str:
    data = {"present": sorted(present), "extra": extra or {}, **more}
    return json.dumps(data, sort_keys=True, ensure_ascii=False)


def meta_load(text) -> dict:
    """The meta a row posted back; anything malformed is no meta at all (a hidden field only its
    own author could have altered)."""
    try:
        data = json.loads(text or "{}")
    except (TypeError, ValueError):
        return {"present": [], "extra": {}}
    if not isinstance(data, dict):
        return {"present": [], "extra": {}}
    present = data.get("present")
    extra = data.get("extra")
    data["present"] = [k for k in present if isinstance(k, str)] if isinstance(present, list) else []
    data["extra"] = extra if isinstance(extra, dict) else {}
    return data


def split_known(item: dict, known: tuple[str, ...]) -> tuple[dict, dict]:
    """(the known keys, the others) of a spec mapping."""
    return {k: v for k, v in item.items() if k in known}, {k: v for k, v in item.items() if k not in known}


def parse_action(value) -> tuple[str, str, list[int]] | None:
    """("add" | "delete" | "up" | "down", what, [row indexes]) from a builder_action value such as
    "add_level-2" or "delete_hint-0", or None."""
    match = _ACTION_RE.match(value or "")
    if not match:
        return None
    op, what, *indexes = match.groups()
    return op, what, [int(i) for i in indexes if i is not None]


def apply_op(rows: list, op: str, index: int | None, new) -> bool:
    """Add `new()` at the end, or delete / move up / move down the row at `index`. Returns whether
    something changed."""
    if op == "add":
        rows.append(new())
        return True
    if index is None or not 0 <= index < len(rows):
        return False
    if op == "delete":
        del rows[index]
        return True
    other = index - 1 if op == "up" else index + 1
    if not 0 <= other < len(rows):
        return False
    rows[index], rows[other] = rows[other], rows[index]
    return True


def count(data, name: str, limit: int) -> int:
    """A hidden row count, bounded: a tampered one cannot make the form build a million fields."""
    try:
        return max(0, min(int(data.get(f"{PREFIX}-{name}", 0)), limit))
    except (TypeError, ValueError):
        return 0


def number(value):
    """A Decimal from a form as the spec writes it: an int when whole, a float otherwise."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def hidden(initial=None) -> forms.CharField:
    return forms.CharField(required=False, widget=forms.HiddenInput, initial=initial)


def unique_id(taken: set, stem: str) -> str:
    n = 1
    while f"{stem}-{n}" in taken:
        n += 1
    return f"{stem}-{n}"


class TemplateRenderMixin:
    """`{{ builder }}` renders the builder's template through the project's template engine (the
    default form renderer only looks in Django's own and the apps' folders)."""

    def render(self, template_name=None, context=None, renderer=None):
        if template_name is not None:  # a label, an error list...: Django's own templates
            return super().render(template_name, context, renderer)
        # The template's own output: autoescaped by the template engine like any page.
        return mark_safe(render_to_string(self.template_name, context or self.get_context()))  # noqa: S308

    def __str__(self):
        return self.render()

    def __html__(self):
        return self.render()


def show_unbound(form: forms.Form, state) -> bool:
    """After a row operation: the form shows `state`'s rows again, unbound (nothing saved, no
    error yet), through its own `_setup(state)`. Returns True, what edit_action() answers."""
    form.is_bound = False
    form.data, form.files = {}, {}
    form._errors = None
    form._bound_fields_cache = {}
    form.fields = copy.deepcopy(form.base_fields)
    form._setup(state)
    return True

"""The quiz builder: the instructor's form for a quiz spec, with no YAML (see the Builder contract
in assessment/kinds/base.py).

The form works on *rows*: one dict of raw field values per question (and per bank draw). Rows come
from a spec (unbound) or from the posted fields (bound); `edit_action` moves rows around and
re-renders them unsaved; `to_spec` turns cleaned rows back into a spec.

Round trip: each question carries its spec as it was (hidden field `orig`). A group of fields the
instructor did not change gives back the original keys verbatim (a missing `type` stays missing, a
prompt keeps its final newline, a `points: 2.0` stays a float), and keys the builder has no field
for are carried along; so a spec opened and saved unchanged is the same spec, down to the bytes of
its archive file."""

import json
import math
import re

from django import forms
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assessment.kinds.base import BuilderContext, SpecError, check_points, content_attrs

from . import grader

PREFIX = "quiz"
MAX_QUESTIONS = 200
MAX_CHOICES = 52
MAX_DRAWS = 50
BLANK_CHOICES = 2  # blank choice rows shown under the filled ones (at least MIN_CHOICE_ROWS in all)
MIN_CHOICE_ROWS = 4
BLANK_DRAWS = 1

TYPE_CHOICES = [
    ("single", gettext_lazy("Single choice")),
    ("multiple", gettext_lazy("Multiple choice")),
    ("numeric", gettext_lazy("Numeric")),
    ("text", gettext_lazy("Short text")),
]
CHOICE_TYPES = {"single", "multiple"}

# Canonical key order, as the archive files write them.
SPEC_KEYS = ("questions", "draws", "shuffle_questions", "shuffle_choices")
QUESTION_KEYS = (
    "id",
    "type",
    "prompt",
    "points",
    "partial_credit",
    "choices",
    "answer",
    "value",
    "tolerance",
    "accepted",
    "feedback",
    "explanation",
)
DRAW_KEYS = ("tag", "count", "points")

# A group of row fields and the spec keys it stands for; `types`: the question types it applies to.
GROUPS = {
    "type": (("type",), ("type",), None),
    "prompt": (("prompt",), ("prompt",), None),
    "points": (("points",), ("points",), None),
    "partial_credit": (("partial_credit",), ("partial_credit",), {"multiple"}),
    "choices": (("choices",), ("choices", "answer"), CHOICE_TYPES),
    "value": (("value",), ("value",), {"numeric"}),
    "tolerance": (("tolerance",), ("tolerance",), {"numeric"}),
    "accepted": (("accepted",), ("accepted",), {"text"}),
    "feedback": (("feedback_correct", "feedback_incorrect"), ("feedback",), None),
    "explanation": (("explanation",), ("explanation",), None),
}
# A question row's own fields (its choices are rows of their own: id, text, correct).
ROW_FIELDS = (
    "id",
    "orig",
    "type",
    "prompt",
    "points",
    "partial_credit",
    "value",
    "tolerance",
    "accepted",
    "feedback_correct",
    "feedback_incorrect",
    "explanation",
)
KNOWN_QUESTION_KEYS = set(QUESTION_KEYS)
KNOWN_SPEC_KEYS = set(SPEC_KEYS)

_INT = re.compile(r"[+-]?\d+")


# --- values: spec <-> raw rows ------------------------------------------------------------------


def _number_text(value) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "" if value is None else str(value)
    return str(value) if isinstance(value, int) else repr(value)


def parse_number(text: str):
    """An int for "3", a float for "2.5" / "2,5" / "2.0" / "1e-05" (so a number's type survives
    the form), None for a blank; ValueError when it is no finite number."""
    text = text.strip().replace(" ", "")
    if not text:
        return None
    if _INT.fullmatch(text):
        return int(text)
    number = float(text.replace(",", "."))
    if not math.isfinite(number):
        raise ValueError(text)
    return number


def _text(value) -> str:
    return str(value).replace("\r\n", "\n").replace("\r", "\n").strip() if value is not None else ""


def _choice_letters(n: int) -> str:
    letters = "abcdefghijklmnopqrstuvwxyz"
    out = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        out = letters[r] + out
    return out


def _next_id(used: set, make) -> str:
    n = 0
    while make(n) in used:
        n += 1
    return make(n)


def question_row(q: dict) -> dict:
    """The raw field values that stand for one spec question."""
    answer = q.get("answer") if isinstance(q.get("answer"), list) else []
    feedback = q.get("feedback") if isinstance(q.get("feedback"), dict) else {}
    accepted = q.get("accepted") if isinstance(q.get("accepted"), list) else []
    choices = q.get("choices") if isinstance(q.get("choices"), list) else []
    return {
        "id": str(q.get("id", "")),
        "orig": json.dumps(q, ensure_ascii=False),
        "type": q.get("type", "single"),
        "prompt": str(q.get("prompt", "")),
        "points": _number_text(q.get("points")),
        "partial_credit": bool(q.get("partial_credit")),
        "choices": [
            {"id": str(c.get("id", "")), "text": str(c.get("text", "")), "correct": c.get("id") in answer}
            for c in choices
            if isinstance(c, dict)
        ],
        "value": _number_text(q.get("value")),
        "tolerance": _number_text(q.get("tolerance")),
        "accepted": "\n".join(str(a) for a in accepted),
        "feedback_correct": str(feedback.get("correct", "")),
        "feedback_incorrect": str(feedback.get("incorrect", "")),
        "explanation": str(q.get("explanation", "")),
    }


def draw_row(d: dict) -> dict:
    return {
        "tag": str(d.get("tag", "")),
        "count": _number_text(d.get("count")),
        "points": _number_text(d.get("points")),
    }


def spec_rows(spec: dict) -> dict:
    questions = spec.get("questions") if isinstance(spec.get("questions"), list) else []
    draws = spec.get("draws") if isinstance(spec.get("draws"), list) else []
    return {
        # the spec's own keys but its questions (each question keeps its own); None marks a spec
        # with no `questions` key at all (only draws)
        "orig": json.dumps(
            {k: v for k, v in spec.items() if k != "questions"} | ({} if "questions" in spec else {"questions": None}),
            ensure_ascii=False,
        ),
        "shuffle_questions": spec.get("shuffle_questions") is True,
        "shuffle_choices": spec.get("shuffle_choices") is True,
        "questions": [question_row(q) for q in questions if isinstance(q, dict)],
        "draws": [draw_row(d) for d in draws if isinstance(d, dict)],
    }


def new_question(kind: str, used_ids: set) -> dict:
    row = question_row({"id": _next_id(used_ids, lambda n: f"q{n + 1}"), "type": kind, "points": 1})
    row["orig"] = "{}"
    return row


def rows_to_values(rows: dict) -> dict:
    """Field name (unprefixed) -> value (str, or bool for a checkbox), for rows."""
    out = {
        "orig": rows["orig"],
        "shuffle_questions": rows["shuffle_questions"],
        "shuffle_choices": rows["shuffle_choices"],
    }
    for i, q in enumerate(rows["questions"]):
        for key in ROW_FIELDS:
            out[f"q{i}-{key}"] = q[key]
        for j, c in enumerate(q["choices"]):
            out[f"q{i}-c{j}-id"] = c["id"]
            out[f"q{i}-c{j}-text"] = c["text"]
            out[f"q{i}-c{j}-correct"] = c["correct"]
    for k, d in enumerate(rows["draws"]):
        for key in DRAW_KEYS:
            out[f"d{k}-{key}"] = d[key]
    return out


def _indices(data, pattern: str, limit: int) -> list[int]:
    regex = re.compile(pattern)
    found = {int(m.group(1)) for key in data.keys() if (m := regex.fullmatch(key))}
    return sorted(found)[:limit]


def rows_from_data(data) -> dict:
    """Rows from posted fields; blank choice and draw rows are dropped."""

    def get(name: str) -> str:
        value = data.get(f"{PREFIX}-{name}", "")
        return value if isinstance(value, str) else ""

    def checked(name: str) -> bool:
        return get(name).lower() in {"on", "true", "1", "yes"}

    questions = []
    for i in _indices(data, rf"{PREFIX}-q(\d+)-id", MAX_QUESTIONS):
        choices = []
        for j in _indices(data, rf"{PREFIX}-q{i}-c(\d+)-(?:text|id)", MAX_CHOICES):
            text = get(f"q{i}-c{j}-text")
            if not _text(text):
                continue
            choices.append({"id": _text(get(f"q{i}-c{j}-id")), "text": text, "correct": checked(f"q{i}-c{j}-correct")})
        q = {key: get(f"q{i}-{key}") for key in ROW_FIELDS}
        q["id"] = _text(q["id"])
        q["partial_credit"] = checked(f"q{i}-partial_credit")
        q["choices"] = choices
        questions.append(q)
    draws = []
    for k in _indices(data, rf"{PREFIX}-d(\d+)-(?:tag|count|points)", MAX_DRAWS):
        d = {key: get(f"d{k}-{key}") for key in DRAW_KEYS}
        if any(_text(v) for v in d.values()):
            draws.append(d)
    return {
        "orig": get("orig") or "{}",
        "shuffle_questions": checked("shuffle_questions"),
        "shuffle_choices": checked("shuffle_choices"),
        "questions": questions,
        "draws": draws,
    }


def _refuse_constant(name: str):
    raise ValueError(name)  # NaN and Infinity: no spec may hold them


def _load_orig(text: str) -> dict:
    """A hidden original, as posted back: anything but a JSON object (a tampered field) is {}."""
    try:
        value = json.loads(text or "{}", parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


# --- cleaning: raw row -> normalized values ----------------------------------------------------


def _clean_number(text: str):
    """(number or None, error or None)"""
    try:
        return parse_number(text), None
    except ValueError:
        return None, _("Enter a number.")


def clean_question(row: dict) -> tuple[dict, dict]:
    """(normalized values, {row field: error message}) of one question row."""
    errors = {}
    kind = row["type"] if isinstance(row["type"], str) and row["type"] in grader.TYPES else None
    if kind is None:
        errors["type"] = _("Choose a question type.")
    points, err = _clean_number(row["points"])
    if err:
        errors["points"] = err
    elif points is not None:
        try:
            check_points(points, "points")
        except SpecError as exc:
            errors["points"] = exc.message
    value, err = _clean_number(row["value"])
    if err and kind == "numeric":
        errors["value"] = err
    tolerance, err = _clean_number(row["tolerance"])
    if err and kind == "numeric":
        errors["tolerance"] = err
    values = {
        "type": kind,
        "prompt": _text(row["prompt"]),
        "points": points,
        "partial_credit": bool(row["partial_credit"]),
        "choices": [
            {"id": _text(c["id"]), "text": _text(c["text"]), "correct": bool(c["correct"])}
            for c in row["choices"]
            if _text(c["text"])
        ],
        "value": value,
        "tolerance": tolerance,
        "accepted": [a.strip() for a in _text(row["accepted"]).split("\n") if a.strip()],
        "feedback_correct": _text(row["feedback_correct"]),
        "feedback_incorrect": _text(row["feedback_incorrect"]),
        "explanation": _text(row["explanation"]),
    }
    if not values["prompt"]:
        errors["prompt"] = _("Write the question.")
    if kind in CHOICE_TYPES:
        right = sum(c["correct"] for c in values["choices"])
        if len(values["choices"]) < 2:
            errors["choices"] = _("Give at least two choices.")
        elif right == 0:
            errors["choices"] = (
                _("Tick the correct choice.") if kind == "single" else _("Tick at least one correct choice.")
            )
        elif kind == "single" and right > 1:
            errors["choices"] = _("A single-choice question has exactly one correct choice.")
    elif kind == "numeric":
        if value is None and "value" not in errors:
            errors["value"] = _("Give the expected number.")
        if tolerance is not None and tolerance < 0:
            errors["tolerance"] = _("The tolerance must be 0 or more.")
    elif kind == "text" and not values["accepted"]:
        errors["accepted"] = _("Give at least one accepted answer.")
    return values, errors


def clean_draw(row: dict) -> tuple[dict, dict]:
    errors = {}
    tag = _text(row["tag"])
    if not tag:
        errors["tag"] = _("Choose a tag.")
    count, err = _clean_number(row["count"])
    if err or count is None or not isinstance(count, int) or count < 1:
        errors["count"] = _("Give a whole number of 1 or more.")
    points, err = _clean_number(row["points"])
    if err:
        errors["points"] = err
    elif points is not None:
        try:
            check_points(points, "points")
        except SpecError as exc:
            errors["points"] = exc.message
    return {"tag": tag, "count": count, "points": points}, errors


def _group_values(values: dict, group: str) -> tuple:
    return tuple(json.dumps(values[key], sort_keys=True) for key in GROUPS[group][0])


def _build_question(qid: str, values: dict) -> dict:
    """The spec keys the fields give for a question (no original to keep)."""
    kind = values["type"]
    out = {"id": qid, "type": kind, "prompt": values["prompt"]}
    if values["points"] is not None:
        out["points"] = values["points"]
    if kind == "multiple" and values["partial_credit"]:
        out["partial_credit"] = True
    if kind in CHOICE_TYPES:
        used = {c["id"] for c in values["choices"] if c["id"]}
        choices = []
        for c in values["choices"]:
            cid = c["id"]
            if not cid or cid in {x["id"] for x in choices}:
                cid = _next_id(used, _choice_letters)
                used.add(cid)
            choices.append({"id": cid, "text": c["text"], "correct": c["correct"]})
        out["choices"] = [{"id": c["id"], "text": c["text"]} for c in choices]
        out["answer"] = [c["id"] for c in choices if c["correct"]]
    if kind == "numeric":
        out["value"] = values["value"]
        if values["tolerance"] is not None:
            out["tolerance"] = values["tolerance"]
    if kind == "text":
        out["accepted"] = values["accepted"]
    feedback = {k: values[f"feedback_{k}"] for k in ("correct", "incorrect") if values[f"feedback_{k}"]}
    if feedback:
        out["feedback"] = feedback
    if values["explanation"]:
        out["explanation"] = values["explanation"]
    return out


def question_spec(qid: str, values: dict, orig: dict) -> dict:
    """A question's spec: each group of fields left as `orig` had it keeps orig's keys verbatim;
    keys the builder has no field for are carried."""
    built = _build_question(qid, values)
    if not orig:
        return built
    before, refused = clean_question(question_row(orig))
    type_kept = before["type"] == values["type"]
    out = {"id": qid}
    for group, (fields, keys, types) in GROUPS.items():
        applies = types is None or values["type"] in types
        trusted = not any(name in refused for name in fields)  # a tampered original is not kept
        if trusted and _group_values(before, group) == _group_values(values, group) and (applies or type_kept):
            source = orig
        else:
            source = built
        for key in keys:
            if key in source:
                out[key] = source[key]
    if "choices" in out and out.get("choices") is built.get("choices"):
        kept = orig.get("choices") if isinstance(orig.get("choices"), list) else []
        extras = {c.get("id"): c for c in kept if isinstance(c, dict) and isinstance(c.get("id"), str)}
        out["choices"] = [{**extras.get(c["id"], {}), **c} for c in out["choices"]]
    ordered = {k: out[k] for k in QUESTION_KEYS if k in out}
    ordered.update({k: v for k, v in orig.items() if k not in KNOWN_QUESTION_KEYS})
    return ordered


# --- the form ------------------------------------------------------------------------------------


def _prefixed(values: dict) -> dict:
    """Field values as POST data: prefixed names, a ticked box "on", an unticked one absent."""
    data = {}
    for name, value in values.items():
        if value is True:
            data[f"{PREFIX}-{name}"] = "on"
        elif value is not False:
            data[f"{PREFIX}-{name}"] = value
    return data


class _NoInput(forms.Widget):
    """A field that only carries errors for a group of inputs (a question's choices)."""

    def render(self, name, value, attrs=None, renderer=None):
        return ""

    def value_from_datadict(self, data, files, name):
        return None


class QuestionView:
    """One question's bound fields, for the template."""

    def __init__(self, form, index: int, row: dict, choice_rows: int, last: int):
        self.index = index
        self.number = index + 1
        self.first = index == 0
        self.last = index == last
        self.row = row
        p = f"q{index}-"
        self.id = form[p + "id"]
        self.orig = form[p + "orig"]
        self.type = form[p + "type"]
        self.prompt = form[p + "prompt"]
        self.points = form[p + "points"]
        self.partial_credit = form[p + "partial_credit"]
        self.choices_errors = form[p + "choices"]
        self.choices = [
            (form[f"{p}c{j}-id"], form[f"{p}c{j}-text"], form[f"{p}c{j}-correct"]) for j in range(choice_rows)
        ]
        self.value = form[p + "value"]
        self.tolerance = form[p + "tolerance"]
        self.accepted = form[p + "accepted"]
        self.feedback_correct = form[p + "feedback_correct"]
        self.feedback_incorrect = form[p + "feedback_incorrect"]
        self.explanation = form[p + "explanation"]


class Builder(forms.Form):
    """The quiz builder (see the Builder contract in assessment/kinds/base.py)."""

    template_name = "assessment/builders/quiz.html"
    prefix = PREFIX

    def __init__(self, data=None, files=None, *, spec=None, context=None, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(data, files, **kwargs)
        self.context = context or BuilderContext()
        if self.is_bound:
            self.rows = rows_from_data(self.data)
            # the posted rows renumbered (blank choice rows dropped), so fields and data agree
            own = f"{PREFIX}-"
            self.data = {k: self.data.get(k) for k in self.data.keys() if not k.startswith(own)}
            self.data.update(_prefixed(rows_to_values(self.rows)))
        elif spec and (spec.get("questions") or spec.get("draws")):
            self.rows = spec_rows(spec)
        else:  # a new quiz (or an empty spec): one single-choice question to fill in
            self.rows = spec_rows({"questions": []})
            self.rows["questions"].append(new_question("single", set()))
        self._build_fields()

    # -- the contract --

    @classmethod
    def data_from_spec(cls, spec: dict) -> dict:
        return _prefixed(rows_to_values(spec_rows(spec)))

    def edit_action(self) -> bool:
        action = self.data.get("builder_action") if self.is_bound else None
        if not isinstance(action, str) or not action:
            return False
        verb, _sep, arg = action.partition(":")
        questions = self.rows["questions"]
        draws = self.rows["draws"]
        index = int(arg) if arg.isdigit() else -1
        if verb == "add" and arg in grader.TYPES and len(questions) < MAX_QUESTIONS:
            questions.append(new_question(arg, {q["id"] for q in questions}))
        elif verb == "dup" and 0 <= index < len(questions) and len(questions) < MAX_QUESTIONS:
            copy = json.loads(json.dumps(questions[index]))
            copy["id"] = _next_id({q["id"] for q in questions}, lambda n: f"q{n + 1}")
            questions.insert(index + 1, copy)
        elif verb == "del" and 0 <= index < len(questions):
            del questions[index]
        elif verb == "up" and 0 < index < len(questions):
            questions[index - 1], questions[index] = questions[index], questions[index - 1]
        elif verb == "down" and 0 <= index < len(questions) - 1:
            questions[index + 1], questions[index] = questions[index], questions[index + 1]
        elif verb == "deldraw" and 0 <= index < len(draws):
            del draws[index]
        # anything else ("more:<i>", "adddraw", an unknown action) only re-renders: blank choice
        # and draw rows come with every render
        self.is_bound = False
        self.data = {}
        self._errors = None
        self._build_fields()
        return True

    def to_spec(self) -> dict:
        return self.spec

    def add_spec_error(self, exc: SpecError) -> None:
        self.add_error(self.field_for_path(exc.path), exc.message)

    def render(self, template_name=None, context=None, renderer=None):
        # the builder's template is a project template (the default form renderer reads only the
        # apps' and django.forms' templates); labels and the rest go the usual way
        if template_name in (None, self.template_name):
            return render_to_string(self.template_name, context or self.get_context())
        return super().render(template_name, context, renderer)

    __str__ = render

    # -- fields --

    def field_for_path(self, path: str) -> str | None:
        """The builder field a spec path names (questions[2].answer -> that question's choices)."""
        path = (path or "").removeprefix("spec.").removeprefix("spec")
        m = re.match(r"questions\[(\d+)\](?:\.(\w+))?", path)
        if m:
            i = int(m.group(1))
            key = m.group(2) or "prompt"
            name = {
                "id": "prompt",
                "choices": "choices",
                "answer": "choices",
                "feedback": "feedback_correct",
            }.get(key, key)
            return (
                f"q{i}-{name}"
                if f"q{i}-{name}" in self.fields
                else (f"q{i}-prompt" if f"q{i}-prompt" in self.fields else "questions")
            )
        m = re.match(r"draws\[(\d+)\](?:\.(\w+))?", path)
        if m:
            name = f"d{m.group(1)}-{m.group(2) or 'tag'}"
            return name if name in self.fields else "draws"
        head = re.split(r"[.\[]", path, maxsplit=1)[0]
        return head if head in {"questions", "draws", "shuffle_questions", "shuffle_choices"} else None

    def _tag_choices(self, current: list[str]):
        choices = [("", _("Choose a tag"))]
        seen = set()
        for entry in self.context.tags:
            code, label, size = (list(entry) + ["", "", 0])[:3]
            seen.add(code)
            choices.append(
                (code, _("%(label)s (%(code)s): %(n)s in the bank") % {"label": label, "code": code, "n": size})
            )
        for code in current:
            if code and code not in seen:
                seen.add(code)
                choices.append((code, code))
        return choices

    def _build_fields(self):
        self.fields = {}
        rows = self.rows
        f = self.fields
        f["orig"] = forms.CharField(required=False, widget=forms.HiddenInput, strip=False)
        f["questions"] = forms.Field(required=False, widget=_NoInput, label=_("Questions"))
        f["shuffle_questions"] = forms.BooleanField(required=False, label=_("Shuffle the questions for each attempt"))
        f["shuffle_choices"] = forms.BooleanField(required=False, label=_("Shuffle the choices of each question"))
        for i, q in enumerate(rows["questions"]):
            n = i + 1
            p = f"q{i}-"
            f[p + "id"] = forms.CharField(required=False, widget=forms.HiddenInput)
            f[p + "orig"] = forms.CharField(required=False, widget=forms.HiddenInput, strip=False)
            f[p + "type"] = forms.ChoiceField(choices=TYPE_CHOICES, label=_("Type of question %(n)s") % {"n": n})
            f[p + "prompt"] = forms.CharField(
                required=False,
                strip=False,
                label=_("Statement of question %(n)s") % {"n": n},
                widget=forms.Textarea(attrs=content_attrs(self.context, rows=2)),
            )
            f[p + "points"] = forms.CharField(
                required=False,
                label=_("Points"),
                help_text=_("1 if blank"),
                widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 6}),
            )
            f[p + "partial_credit"] = forms.BooleanField(
                required=False,
                label=_(
                    "Partial credit (multiple choice): each right choice earns its share, each wrong one takes it back"
                ),
            )
            f[p + "choices"] = forms.Field(required=False, widget=_NoInput, label=_("Choices"))
            choice_rows = len(q["choices"]) + max(BLANK_CHOICES, MIN_CHOICE_ROWS - len(q["choices"]))
            choice_rows = min(choice_rows, MAX_CHOICES)
            for j in range(choice_rows):
                f[f"{p}c{j}-id"] = forms.CharField(required=False, widget=forms.HiddenInput)
                f[f"{p}c{j}-text"] = forms.CharField(
                    required=False,
                    strip=False,
                    label=_("Choice %(m)s of question %(n)s") % {"m": j + 1, "n": n},
                    widget=forms.TextInput(attrs=content_attrs(self.context)),
                )
                f[f"{p}c{j}-correct"] = forms.BooleanField(
                    required=False, label=_("Choice %(m)s is correct") % {"m": j + 1}
                )
            f[p + "value"] = forms.CharField(
                required=False, label=_("Expected number"), widget=forms.TextInput(attrs={"inputmode": "decimal"})
            )
            f[p + "tolerance"] = forms.CharField(
                required=False,
                label=_("Tolerance (±)"),
                help_text=_("0 if blank: only the exact number is right"),
                widget=forms.TextInput(attrs={"inputmode": "decimal"}),
            )
            f[p + "accepted"] = forms.CharField(
                required=False,
                strip=False,
                label=_("Accepted answers, one per line"),
                help_text=_("Case, accents and extra spaces are ignored."),
                widget=forms.Textarea(attrs=content_attrs(self.context, rows=3)),
            )
            for key, label in (
                ("feedback_correct", _("Feedback if right")),
                ("feedback_incorrect", _("Feedback if wrong")),
            ):
                f[p + key] = forms.CharField(
                    required=False, strip=False, label=label, widget=forms.TextInput(attrs=content_attrs(self.context))
                )
            f[p + "explanation"] = forms.CharField(
                required=False,
                strip=False,
                label=_("Explanation shown after grading"),
                widget=forms.Textarea(attrs=content_attrs(self.context, rows=2)),
            )
        f["draws"] = forms.Field(required=False, widget=_NoInput, label=_("Questions drawn from the bank"))
        draw_rows = len(rows["draws"]) + BLANK_DRAWS
        current_tags = [d["tag"] for d in rows["draws"]]
        for k in range(min(draw_rows, MAX_DRAWS)):
            f[f"d{k}-count"] = forms.CharField(
                required=False,
                label=_("Draw %(n)s: number of questions") % {"n": k + 1},
                widget=forms.TextInput(attrs={"inputmode": "numeric", "size": 4}),
            )
            f[f"d{k}-tag"] = forms.ChoiceField(
                required=False,
                choices=self._tag_choices(current_tags),
                label=_("Draw %(n)s: from the tag") % {"n": k + 1},
            )
            f[f"d{k}-points"] = forms.CharField(
                required=False,
                label=_("Draw %(n)s: points each") % {"n": k + 1},
                help_text=_("1 if blank"),
                widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 6}),
            )
        self.initial = {} if self.is_bound else rows_to_values(rows)
        last = len(rows["questions"]) - 1
        self.question_views = [
            QuestionView(
                self, i, q, sum(1 for name in f if name.startswith(f"q{i}-c") and name.endswith("-text")), last
            )
            for i, q in enumerate(rows["questions"])
        ]
        self.draw_views = [
            (f"d{k}", self[f"d{k}-count"], self[f"d{k}-tag"], self[f"d{k}-points"])
            for k in range(min(draw_rows, MAX_DRAWS))
        ]

    # -- validation --

    def clean(self):
        rows = self.rows
        questions = []
        for i, row in enumerate(rows["questions"]):
            values, errors = clean_question(row)
            for name, message in errors.items():
                if f"q{i}-{name}" not in self._errors:
                    self.add_error(f"q{i}-{name}", message)
            questions.append((row, values, errors))
        draws = []
        for k, row in enumerate(rows["draws"]):
            values, errors = clean_draw(row)
            for name, message in errors.items():
                self.add_error(f"d{k}-{name}", message)
            draws.append(values)
        if not questions and not draws:
            self.add_error("questions", _("Add a question, or draw questions from the bank."))
        if self.errors:
            return self.cleaned_data
        spec_questions = []
        used = {row["id"] for row, _v, _e in questions if row["id"]}
        seen = set()
        for row, values, _errors in questions:
            qid = row["id"]
            if not qid or qid in seen:
                qid = _next_id(used | seen, lambda n: f"q{n + 1}")
            seen.add(qid)
            spec_questions.append(question_spec(qid, values, _load_orig(row["orig"])))
        self.spec = self._spec(spec_questions, draws)
        try:
            grader.validate_spec(self.spec)
        except SpecError as exc:
            self.add_spec_error(exc)
        return self.cleaned_data

    def _spec(self, questions: list, draws: list) -> dict:
        orig = _load_orig(self.rows["orig"])
        out = {} if not questions and "questions" in orig and orig["questions"] is None else {"questions": questions}
        built_draws = [
            {"tag": d["tag"], "count": d["count"], "points": 1 if d["points"] is None else d["points"]} for d in draws
        ]
        kept = orig.get("draws")
        before = [
            clean_draw(draw_row(d)) if isinstance(d, dict) else ({}, {"tag": ""})
            for d in (kept if isinstance(kept, list) else [])
        ]
        if isinstance(kept, list) and not any(e for _v, e in before) and [v for v, _e in before] == draws:
            out["draws"] = kept  # unchanged rows: the draws as they were
        elif built_draws:
            out["draws"] = built_draws
        for key in ("shuffle_questions", "shuffle_choices"):
            if isinstance(orig.get(key), bool) and orig[key] == self.rows[key]:
                out[key] = orig[key]  # an explicit false stays
            elif self.rows[key]:
                out[key] = True
        ordered = {k: out[k] for k in SPEC_KEYS if k in out}
        ordered.update({k: v for k, v in orig.items() if k not in KNOWN_SPEC_KEYS})
        return ordered

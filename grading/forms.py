from django import forms
from django.utils.translation import gettext_lazy as _


class QuizForm(forms.Form):
    """One field per question of a quiz version's spec; choices come from the spec."""

    def __init__(self, *args, spec: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.types = {}
        for q in spec.get("questions", []):
            name = f"q_{q['id']}"
            kind = q.get("type", "single")
            self.types[name] = kind
            choices = [(c["id"], c["text"]) for c in q.get("choices", [])]
            if kind == "multiple":
                field = forms.MultipleChoiceField(
                    label=q["prompt"], choices=choices, widget=forms.CheckboxSelectMultiple
                )
            elif kind == "single":
                field = forms.ChoiceField(label=q["prompt"], choices=choices, widget=forms.RadioSelect)
            elif kind == "numeric":
                field = forms.CharField(
                    label=q["prompt"], max_length=50, widget=forms.TextInput(attrs={"inputmode": "decimal"})
                )
            else:
                field = forms.CharField(label=q["prompt"], max_length=500)
            field.error_messages["required"] = (
                _("Choose an answer to this question.") if choices else _("Answer this question.")
            )
            self.fields[name] = field

    def answer(self) -> dict:
        out = {}
        for name, value in self.cleaned_data.items():
            key = name.removeprefix("q_")
            if self.types[name] in {"single", "multiple"}:
                out[key] = value if isinstance(value, list) else [value]
            else:
                out[key] = value
        return out


class FlagForm(forms.Form):
    flag = forms.CharField(label=_("Flag"), max_length=500, widget=forms.TextInput(attrs={"autocomplete": "off"}))

    def __init__(self, *args, spec: dict, **kwargs):
        super().__init__(*args, **kwargs)

    def answer(self) -> dict:
        return {"flag": self.cleaned_data["flag"]}


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Your code (Python)"),
        strip=False,
        max_length=64 * 1024,
        widget=forms.Textarea(attrs={"rows": 18, "cols": 90, "spellcheck": "false", "class": "code", "dir": "ltr"}),
    )

    def __init__(self, *args, spec: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].initial = spec.get("starter_code", "")

    def answer(self) -> dict:
        return {"code": self.cleaned_data["code"]}


class EssayForm(forms.Form):
    text = forms.CharField(label=_("Your essay"), widget=forms.Textarea(attrs={"rows": 18, "cols": 90}))

    def __init__(self, *args, spec: dict, **kwargs):
        super().__init__(*args, **kwargs)

    def answer(self) -> dict:
        return {"text": self.cleaned_data["text"]}


FORMS = {"quiz": QuizForm, "flag": FlagForm, "code": CodeForm, "essay": EssayForm}


class ReviewForm(forms.Form):
    """One choice of level per rubric criterion, and written feedback."""

    feedback = forms.CharField(
        label=_("Feedback to the learner"), required=False, widget=forms.Textarea(attrs={"rows": 6})
    )

    def __init__(self, *args, spec: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.criteria = []
        for c in spec["rubric"]["criteria"]:
            choices = [(lv["id"], f"{lv['title']} ({lv['points']})") for lv in c["levels"]]
            self.fields[f"c_{c['id']}"] = forms.ChoiceField(
                label=c["title"], help_text=c.get("description", ""), choices=choices, widget=forms.RadioSelect
            )
            self.fields[f"c_{c['id']}"].error_messages["required"] = _("Choose a level for this criterion.")
        self.order_fields([*[f"c_{c['id']}" for c in spec["rubric"]["criteria"]], "feedback"])

    def levels(self) -> dict:
        return {k.removeprefix("c_"): v for k, v in self.cleaned_data.items() if k.startswith("c_")}

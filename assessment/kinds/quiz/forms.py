"""A quiz's learner form: one field per question of the version's spec."""

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

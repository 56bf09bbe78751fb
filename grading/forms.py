from django import forms
from django.utils.translation import gettext_lazy as _


class QuizForm(forms.Form):
    """One field per question of a quiz version's spec; choices come from the spec."""

    def __init__(self, *args, spec: dict, **kwargs):
        super().__init__(*args, **kwargs)
        for q in spec.get("questions", []):
            choices = [(c["id"], c["text"]) for c in q.get("choices", [])]
            name = f"q_{q['id']}"
            if q.get("type") == "multiple":
                self.fields[name] = forms.MultipleChoiceField(
                    label=q["prompt"], choices=choices, widget=forms.CheckboxSelectMultiple
                )
            else:
                self.fields[name] = forms.ChoiceField(label=q["prompt"], choices=choices, widget=forms.RadioSelect)
            self.fields[name].error_messages["required"] = _("Choose an answer to this question.")

    def answer(self) -> dict:
        out = {}
        for name, value in self.cleaned_data.items():
            out[name.removeprefix("q_")] = value if isinstance(value, list) else [value]
        return out

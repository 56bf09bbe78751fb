"""A code assignment's learner form: the code, starting from the spec's starter code."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .answer import MAX_CODE_CHARS
from .widgets import CodeEditor


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Your code (Python)"),
        strip=False,
        max_length=MAX_CODE_CHARS,
        widget=CodeEditor(attrs={"rows": 18, "cols": 90}),
    )

    def __init__(self, *args, spec: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].initial = spec.get("starter_code", "")

    def answer(self) -> dict:
        return {"code": self.cleaned_data["code"]}

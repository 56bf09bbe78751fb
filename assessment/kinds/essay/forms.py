"""An essay's learner form."""

from django import forms
from django.utils.translation import gettext_lazy as _


class EssayForm(forms.Form):
    text = forms.CharField(label=_("Your essay"), widget=forms.Textarea(attrs={"rows": 18, "cols": 90}))

    def __init__(self, *args, spec: dict, **kwargs):
        super().__init__(*args, **kwargs)

    def answer(self) -> dict:
        return {"text": self.cleaned_data["text"]}

"""A flag's learner form."""

from django import forms
from django.utils.translation import gettext_lazy as _


class FlagForm(forms.Form):
    flag = forms.CharField(label=_("Flag"), max_length=500, widget=forms.TextInput(attrs={"autocomplete": "off"}))

    def __init__(self, *args, spec: dict, **kwargs):
        super().__init__(*args, **kwargs)

    def answer(self) -> dict:
        return {"flag": self.cleaned_data["flag"]}

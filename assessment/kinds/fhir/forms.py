"""A FHIR exercise's learner form: the resource as JSON text, starting from the spec's starter.
The text is kept as typed (not parsed here), so the size and encoding limits run on it."""

from django import forms
from django.utils.translation import gettext_lazy as _


class FhirForm(forms.Form):
    resource = forms.CharField(
        label=_("Your resource (FHIR JSON)"),
        strip=False,
        widget=forms.Textarea(
            attrs={"rows": 22, "cols": 90, "class": "code", "dir": "ltr", "spellcheck": "false", "autocomplete": "off"}
        ),  # fmt: skip
    )

    def __init__(self, *args, spec: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["resource"].initial = spec.get("starter", "")

    def answer(self) -> dict:
        return {"resource": self.cleaned_data["resource"]}

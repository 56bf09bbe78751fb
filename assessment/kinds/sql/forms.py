"""A SQL assignment's learner form: the query, starting from the spec's starter query. A plain
monospace textarea (the vendored CodeMirror bundle has no SQL mode), always left to right."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .limits import MAX_QUERY_CHARS

QUERY_ATTRS = {"rows": 10, "cols": 90, "class": "code sql-query", "dir": "ltr", "spellcheck": "false",
               "autocapitalize": "off", "autocomplete": "off"}  # fmt: skip


class SqlForm(forms.Form):
    query = forms.CharField(
        label=_("Your query (SQLite)"),
        strip=False,
        max_length=MAX_QUERY_CHARS,
        widget=forms.Textarea(attrs=QUERY_ATTRS),
    )

    def __init__(self, *args, spec: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["query"].initial = spec.get("starter_query", "")

    def answer(self) -> dict:
        return {"query": self.cleaned_data["query"]}

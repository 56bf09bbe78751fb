"""A deid assignment's learner form: the released table as CSV text, or Python code that makes
it, as the spec's answer mode allows (both, with a choice, for "either")."""

from django import forms
from django.utils.translation import gettext_lazy as _

from assessment.kinds.code.widgets import CodeEditor

from . import grader, table


def starter_code(spec: dict) -> str:
    drop = ", ".join(repr(c) for c in spec.get("direct_identifiers", []))
    return (
        f"def {spec.get('entrypoint', 'release')}(df):\n"
        "    # df: the source table (a pandas DataFrame). Return the released table.\n"
        f"    out = df.drop(columns=[{drop}])\n"
        "    return out\n"
    )


class DeidForm(forms.Form):
    mode = forms.ChoiceField(
        label=_("I submit"),
        choices=[("csv", _("the released table (CSV)")), ("code", _("Python code that makes it"))],
        widget=forms.RadioSelect,
        initial="csv",
    )
    csv = forms.CharField(
        label=_("Released table (CSV)"),
        required=False,
        strip=False,
        max_length=table.MAX_CHARS,
        help_text=_("Paste the table: its first line names the columns."),
        widget=forms.Textarea(attrs={"rows": 14, "cols": 90, "dir": "ltr", "spellcheck": "false", "class": "code"}),
    )
    code = forms.CharField(
        label=_("Your code (Python)"),
        required=False,
        strip=False,
        max_length=grader.MAX_CODE_CHARS,
        widget=CodeEditor(attrs={"rows": 16, "cols": 90}),
    )

    def __init__(self, *args, spec: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.answer_mode = spec.get("answer_mode", "either")
        if self.answer_mode != "either":
            del self.fields["mode"]
        if self.answer_mode == "csv":
            del self.fields["code"]
        elif self.answer_mode == "code":
            del self.fields["csv"]
            self.fields["code"].required = True
        if "code" in self.fields:
            self.fields["code"].initial = starter_code(spec)

    def chosen(self) -> str:
        if self.answer_mode != "either":
            return self.answer_mode
        return self.cleaned_data.get("mode") or "csv"

    def clean(self):
        data = super().clean()
        if self.chosen() == "csv" and "csv" in self.fields and not (data.get("csv") or "").strip():
            self.add_error("csv", _("Paste your released table (CSV) before submitting."))
        return data

    def answer(self) -> dict:
        mode = self.chosen()
        return {"code": self.cleaned_data["code"]} if mode == "code" else {"csv": self.cleaned_data["csv"]}

from django import forms
from django.utils.translation import gettext_lazy as _


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

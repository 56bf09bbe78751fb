from django import forms
from django.core.validators import MaxValueValidator
from django.utils.translation import gettext_lazy as _

from courses.models import Enrollment

from .gradebook import STATUS_CHOICES, Filters


class GradebookFilterForm(forms.Form):
    organization = forms.TypedChoiceField(label=_("University"), required=False, coerce=int, empty_value=None)
    source = forms.ChoiceField(
        label=_("Cohort (enrollment source)"), required=False, choices=[("", _("All"))] + Enrollment.Source.choices
    )
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("All"))] + STATUS_CHOICES)
    at_risk = forms.BooleanField(label=_("At risk only"), required=False)
    roster_class = forms.TypedChoiceField(label=_("Class (university roster)"), required=False, coerce=int,
                                          empty_value=None)  # fmt: skip

    def __init__(self, *args, organizations=(), roster_classes=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.roster_classes = list(roster_classes)
        self.fields["organization"].choices = [("", _("All"))] + [(o.pk, o.name) for o in organizations]
        if roster_classes:
            self.fields["roster_class"].choices = [("", _("All"))] + [
                (c.pk, f"{c.title} ({c.sourced_id})") for c in roster_classes
            ]
        else:  # no class of a university maps to this course: no filter to offer
            del self.fields["roster_class"]

    def filters(self) -> Filters:
        if not self.is_valid():
            return Filters()
        d = self.cleaned_data
        return Filters(
            organization_id=d["organization"], source=d["source"] or None, status=d["status"] or None,
            at_risk=d["at_risk"], roster_class_id=d.get("roster_class"),
        )  # fmt: skip


class OverrideForm(forms.Form):
    score = forms.DecimalField(label=_("New score"), min_value=0, max_digits=7, decimal_places=2)
    reason = forms.CharField(label=_("Reason (kept in the grade history)"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, max_score=None, **kwargs):
        super().__init__(*args, **kwargs)
        if max_score is not None:
            self.fields["score"].validators.append(MaxValueValidator(max_score))
            self.fields["score"].widget.attrs["max"] = max_score

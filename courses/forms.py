"""Authoring forms. They parse and check shapes; the services apply the rules (permissions,
uniqueness, spec validation by the grader of the assignment's kind)."""

import json

import yaml
from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from kernel.uploads import UploadValidator

from . import archive
from .models import MAX_ATTEMPTS_ALLOWED, MAX_LATE_CUTOFF_DAYS, Assignment, Competency


class CourseForm(forms.Form):
    code = forms.SlugField(label=_("Code"), max_length=64, help_text=_("Unique on the platform; cannot change."))
    title = forms.CharField(label=_("Title"), max_length=200)
    summary = forms.CharField(label=_("Summary"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    language = forms.ChoiceField(label=_("Content language"), choices=settings.LANGUAGES)

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["code"]


class ModuleForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)


class LessonForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    body_markdown = forms.CharField(
        label=_("Text (Markdown)"), widget=forms.Textarea(attrs={"rows": 20}), required=False
    )


class AssignmentForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    slug = forms.SlugField(
        label=_("Slug"),
        max_length=64,
        required=False,
        help_text=_("Names the assignment in exported archives; made from the title if empty."),
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=Assignment.Kind.choices)
    points = forms.DecimalField(label=_("Points"), min_value=0, max_digits=7, decimal_places=2, initial=10)
    pass_threshold = forms.DecimalField(label=_("Pass threshold (0 to 1)"), min_value=0, max_value=1,
                                        max_digits=4, decimal_places=3, initial=0.5)  # fmt: skip
    is_required = forms.BooleanField(label=_("Required for completion"), required=False, initial=True)
    due_at = forms.DateTimeField(label=_("Due (YYYY-MM-DD HH:MM)"), required=False)
    attempts_allowed = forms.IntegerField(label=_("Attempts allowed (empty: unlimited)"), min_value=1,
                                          max_value=MAX_ATTEMPTS_ALLOWED, required=False)  # fmt: skip
    late_penalty_per_day = forms.DecimalField(label=_("Late penalty per day (%)"), min_value=0, max_value=100,
                                              max_digits=5, decimal_places=2, initial=0)  # fmt: skip
    late_cutoff_days = forms.IntegerField(label=_("Late cutoff (days)"), min_value=0, max_value=MAX_LATE_CUTOFF_DAYS,
                                          required=False)  # fmt: skip
    competencies = forms.ModelMultipleChoiceField(
        label=_("Competencies assessed"), queryset=Competency.objects.all(), required=False,
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip
    prompt_markdown = forms.CharField(label=_("Prompt (Markdown)"), widget=forms.Textarea(attrs={"rows": 8}),
                                      required=False)  # fmt: skip
    spec_text = forms.CharField(
        label=_("Spec (YAML or JSON)"),
        widget=forms.Textarea(attrs={"rows": 24, "class": "code", "spellcheck": "false"}),
        help_text=_("The questions, flag, tests or rubric, in the format of the assignment's kind."),
    )

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["kind"].disabled = True

    def clean_spec_text(self):
        text = self.cleaned_data["spec_text"]
        try:
            spec = archive.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            problem = getattr(exc, "problem", None) or str(exc)
            if mark is not None:
                raise forms.ValidationError(
                    _("Line %(line)d: %(problem)s"), params={"line": mark.line + 1, "problem": problem}
                ) from None
            raise forms.ValidationError(problem) from None
        if not isinstance(spec, dict):
            raise forms.ValidationError(_("The spec must be a mapping (key: value lines, or a JSON object)."))
        # Dates and other YAML-only types are not JSON: refuse them here rather than fail later.
        try:
            json.dumps(spec)
        except TypeError as exc:
            message = _("The spec holds a value JSON cannot store: %(e)s")
            raise forms.ValidationError(message, params={"e": exc}) from None
        return spec

    def settings(self) -> dict:
        keys = ("title", "points", "pass_threshold", "is_required", "due_at", "attempts_allowed",
                "late_penalty_per_day", "late_cutoff_days")  # fmt: skip
        return {k: self.cleaned_data[k] for k in keys}


def spec_to_text(spec: dict) -> str:
    """A spec as the YAML an instructor edits."""
    return archive._dump(spec).decode("utf-8")


class ImportForm(forms.Form):
    archive = forms.FileField(label=_("Course archive (.zip)"))
    update = forms.BooleanField(label=_("Replace the course if its code exists"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A zip by its content, at most COURSE_ARCHIVE_MAX_BYTES (read now: tests may change it).
        validator = UploadValidator(kinds={"zip"}, max_bytes=settings.COURSE_ARCHIVE_MAX_BYTES)
        self.fields["archive"].validators = [validator]
        self.file_name = ""

    def clean_archive(self):
        upload = self.cleaned_data["archive"]
        self.file_name = upload.name or ""
        upload.seek(0)
        return upload.read()


class ImportConfirmForm(forms.Form):
    """The second step of an import. Replacing an existing course asks for an explicit, never
    pre-ticked, acknowledgement; a new course needs only the button."""

    replace = forms.BooleanField(
        required=True, error_messages={"required": _("Tick this box to replace the course, or leave this page.")}
    )

    def __init__(self, *args, summary: dict, **kwargs):
        super().__init__(*args, **kwargs)
        if summary.get("exists"):
            self.fields["replace"].label = _(
                "I understand that this replaces the course %(code)s: its content becomes the archive's, "
                "and what the archive leaves out is removed."
            ) % {"code": summary["code"]}
        else:
            del self.fields["replace"]

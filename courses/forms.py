"""Authoring forms. They parse and check shapes; the services apply the rules (permissions,
uniqueness, spec validation by the grader of the assignment's kind)."""

import json
from decimal import Decimal

import yaml
from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kernel.uploads import UploadValidator

from . import archive
from .models import (
    MAX_ATTEMPTS_ALLOWED,
    MAX_LATE_CUTOFF_DAYS,
    MAX_WORKLOAD_HOURS,
    Assignment,
    Competency,
    Level,
    PathCourse,
    PublicationStatus,
    Track,
)

NO_TRACK = [("", _("No track"))]


class CourseForm(forms.Form):
    code = forms.SlugField(
        label=pgettext_lazy("identifier", "Code"), max_length=64, help_text=_("Unique on the platform; cannot change.")
    )
    title = forms.CharField(label=_("Title"), max_length=200)
    summary = forms.CharField(label=_("Summary"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    language = forms.ChoiceField(label=_("Content language"), choices=settings.LANGUAGES)
    # Not required: a client that sends no level keeps the course's (a new course: beginner).
    level = forms.ChoiceField(label=_("Level"), choices=Level.choices, required=False, initial=Level.BEGINNER)
    workload_hours = forms.IntegerField(
        label=_("Estimated workload (hours)"), min_value=1, max_value=MAX_WORKLOAD_HOURS, required=False,
        help_text=_("Whole hours; leave empty if unknown."),
    )  # fmt: skip
    track = forms.ChoiceField(
        label=_("Track"), choices=NO_TRACK + Track.choices, required=False,
        help_text=_("Where the catalogue lists the course; a course on a path is also found under the path's track."),
    )  # fmt: skip
    cover = forms.FileField(label=_("Cover image (PNG or JPEG)"), required=False)
    remove_cover = forms.BooleanField(label=_("Remove the cover"), required=False)

    def __init__(self, *args, editing: bool = False, has_cover: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["code"]
        if not has_cover:
            del self.fields["remove_cover"]
        # PNG or JPEG by its content, at most COURSE_COVER_MAX_BYTES (read now: tests may change it).
        limit = settings.COURSE_COVER_MAX_BYTES
        self.fields["cover"].validators = [UploadValidator(kinds={"png", "jpeg"}, max_bytes=limit)]
        self.fields["cover"].help_text = _("At most %(n)d KiB; shown in the catalogue.") % {"n": limit // 1024}

    def clean_cover(self):
        upload = self.cleaned_data.get("cover")
        if not upload:
            return None
        upload.seek(0)
        return upload.read()


class InstructorAddForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address of the co-instructor"), max_length=254)


class PathForm(forms.Form):
    code = forms.SlugField(
        label=pgettext_lazy("identifier", "Code"), max_length=64, help_text=_("Unique on the platform; cannot change.")
    )
    title = forms.CharField(label=_("Title"), max_length=200)
    track = forms.ChoiceField(label=_("Track"), choices=Track.choices)
    summary = forms.CharField(label=_("Summary"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    competencies = forms.ModelMultipleChoiceField(
        label=_("Competencies"), queryset=Competency.objects.all(), required=False,
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip
    status = forms.ChoiceField(
        label=_("Status"), choices=PublicationStatus.choices, initial=PublicationStatus.DRAFT,
        help_text=_("Published paths are listed in the catalogue; publishing needs a course on the path."),
    )  # fmt: skip

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["code"]


class PathCourseAddForm(forms.Form):
    course = forms.ModelChoiceField(label=_("Course"), queryset=None)
    gate = forms.ChoiceField(label=_("Prerequisite"), choices=PathCourse.Gate.choices, initial=PathCourse.Gate.REQUIRED)

    def __init__(self, *args, courses, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["course"].queryset = courses


class CatalogueFilterForm(forms.Form):
    """The catalogue's search box and filters (GET). A value outside the choices is ignored."""

    q = forms.CharField(label=_("Search"), max_length=200, required=False)
    track = forms.ChoiceField(label=_("Track"), choices=[("", _("All tracks"))] + Track.choices, required=False)
    language = forms.ChoiceField(
        label=_("Language"), choices=[("", _("All languages"))] + list(settings.LANGUAGES), required=False
    )
    level = forms.ChoiceField(label=_("Level"), choices=[("", _("All levels"))] + Level.choices, required=False)

    def filters(self) -> dict:
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {name: data.get(name) or "" for name in self.fields}


class ModuleForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)


class LessonForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    body_markdown = forms.CharField(
        label=_("Text (Markdown)"), widget=forms.Textarea(attrs={"rows": 20}), required=False
    )


class AssignmentSettingsForm(forms.Form):
    """What every kind shares: title, statement, points, pass mark, attempts, due date, late
    policy, competencies. The kind's own part is its builder (assessment.kinds.<kind>.builder),
    or the spec source (SpecSourceForm)."""

    kind = forms.ChoiceField(choices=Assignment.Kind.choices, widget=forms.HiddenInput)
    title = forms.CharField(label=_("Title"), max_length=200)
    prompt_markdown = forms.CharField(
        label=_("Statement (Markdown)"), widget=forms.Textarea(attrs={"rows": 8}), required=False,
        help_text=_("What the learner reads above the answer: the task, the context, the data."),
    )  # fmt: skip
    points = forms.DecimalField(label=_("Points"), min_value=0, max_digits=7, decimal_places=2, initial=10)
    pass_percent = forms.DecimalField(
        label=_("Pass mark (%)"), min_value=0, max_value=100, max_digits=4, decimal_places=1, initial=50,
        help_text=_("The share of the points a learner needs to pass."),
    )  # fmt: skip
    is_required = forms.BooleanField(label=_("Required to complete the course"), required=False, initial=True)
    competencies = forms.ModelMultipleChoiceField(
        label=_("Competencies assessed"), queryset=Competency.objects.all(), required=False,
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip
    attempts_allowed = forms.IntegerField(label=_("Attempts allowed"), min_value=1, max_value=MAX_ATTEMPTS_ALLOWED,
                                          required=False, help_text=_("Empty: unlimited."))  # fmt: skip
    due_at = forms.DateTimeField(
        label=_("Due date"), required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )  # fmt: skip
    late_penalty_per_day = forms.DecimalField(label=_("Late penalty per day (%)"), min_value=0, max_value=100,
                                              max_digits=5, decimal_places=2, initial=0)  # fmt: skip
    late_cutoff_days = forms.IntegerField(label=_("Late submissions refused after (days)"), min_value=0,
                                          max_value=MAX_LATE_CUTOFF_DAYS, required=False,
                                          help_text=_("Empty: accepted whenever they come."))  # fmt: skip
    slug = forms.SlugField(
        label=_("Slug"),
        max_length=64,
        required=False,
        help_text=_("Names the assignment in exported archives; made from the title if empty."),
    )

    GROUPS = (
        (_("The assignment"), ("title", "prompt_markdown")),
        (_("Grading"), ("points", "pass_percent", "is_required", "competencies")),
        (_("Attempts and deadline"), ("attempts_allowed", "due_at", "late_penalty_per_day", "late_cutoff_days")),
        (_("Advanced"), ("slug",)),
    )

    def __init__(self, *args, editing: bool = False, language: str = "", **kwargs):
        """`language`: the course's, the language of the title and the statement (course content),
        whose direction their own text decides, whatever the interface's."""
        initial = dict(kwargs.pop("initial", None) or {})
        if "pass_threshold" in initial:  # the model keeps a share (0..1); people think in percent
            threshold = initial.pop("pass_threshold")
            percent = (Decimal(str(threshold)) * 100).quantize(Decimal("0.1"))
            # 50.0 shows as 50, 12.5 as 12.5, and 100 never as 1E+2 (Decimal.normalize would).
            initial["pass_percent"] = percent.to_integral_value() if percent == percent.to_integral_value() else percent
        super().__init__(*args, initial=initial, **kwargs)
        if editing:
            self.fields["kind"].disabled = True
        for name in ("title", "prompt_markdown"):
            self.fields[name].widget.attrs.update({"lang": language, "dir": "auto"} if language else {"dir": "auto"})

    def groups(self):
        """The fields in titled groups, for the page's fieldsets."""
        return [(title, [self[name] for name in names]) for title, names in self.GROUPS]

    def settings(self) -> dict:
        keys = ("title", "points", "is_required", "due_at", "attempts_allowed", "late_penalty_per_day",
                "late_cutoff_days")  # fmt: skip
        out = {k: self.cleaned_data[k] for k in keys}
        out["pass_threshold"] = (self.cleaned_data["pass_percent"] / 100).quantize(Decimal("0.001"))
        return out


# PyYAML's most common complaints, as an instructor can act on them (the parser's own words stay
# in parentheses, for whoever knows YAML).
_YAML_PROBLEMS = (
    ("expected <block end>", _("the indentation is off: a line or a “-” item is not aligned with the ones above")),
    ("mapping values are not allowed", _("a “:” is out of place: put text that contains “: ” in quotes")),
    ("cannot start any token", _("a tab or a special character starts a value: indent with spaces, quote the text")),
    ("could not find expected ':'", _("a “key: value” line is missing its “:”")),
    ("found undefined alias", _("a “*name” refers to nothing: quote text that starts with “*”")),
    ("while scanning a quoted scalar", _("a quote is opened and never closed")),
    ("expected ',' or ']'", _("a list in brackets […] is not closed")),
    ("expected ',' or '}'", _("a mapping in braces {…} is not closed")),
)


def yaml_error_message(exc: yaml.YAMLError) -> forms.ValidationError:
    """A YAML syntax error as a form error in the page's language: the line and column, what is
    likely wrong, and the parser's own words."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    hint = next((text for key, text in _YAML_PROBLEMS if key in problem), None)
    if hint:
        detail = f"{hint} ({problem})"
    elif mark is not None:
        detail = _("the text is not valid YAML (%(problem)s)") % {"problem": problem}
    else:  # our own refusals (too large, too deep, a NUL): already in the page's language
        return forms.ValidationError(problem)
    if mark is not None:
        return forms.ValidationError(
            _("Line %(line)d, column %(column)d: %(problem)s"),
            params={"line": mark.line + 1, "column": mark.column + 1, "problem": detail},
        )
    return forms.ValidationError(detail)


class SpecSourceForm(forms.Form):
    """The advanced "edit source" tab: the kind's spec as YAML (or JSON), the archive's format."""

    spec_text = forms.CharField(
        label=_("Spec (YAML or JSON)"),
        widget=forms.Textarea(attrs={"rows": 24, "class": "code", "spellcheck": "false", "dir": "ltr"}),
        help_text=_("The questions, flag, tests or rubric, in the format of the assignment's kind."),
    )

    def clean_spec_text(self):
        text = self.cleaned_data["spec_text"]
        try:
            spec = archive.safe_load(text)
        except yaml.YAMLError as exc:
            raise yaml_error_message(exc) from None
        if not isinstance(spec, dict):
            raise forms.ValidationError(_("The spec must be a mapping (key: value lines, or a JSON object)."))
        # Dates and other YAML-only types are not JSON: refuse them here rather than fail later.
        try:
            json.dumps(spec)
        except TypeError as exc:
            message = _("The spec holds a value JSON cannot store: %(e)s")
            raise forms.ValidationError(message, params={"e": exc}) from None
        return spec


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

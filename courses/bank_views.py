"""Instructor pages for a course's question banks: the tags with their question counts, and one
tag's questions, edited with the quiz builder when the quiz kind has one (it edits
{"questions": [...]} as it edits a quiz), otherwise as YAML with field-level errors."""

import json

import yaml
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST

from assessment import kinds
from kernel.errors import ApplicationError
from kernel.forms import ConfirmForm, confirm_page

from . import archive, banks, services
from .authoring_views import _editable_course
from .forms import spec_to_text
from .models import Competency

STARTER = {
    "questions": [
        {
            "id": "q1",
            "type": "single",
            "prompt": "",
            "points": 1,
            "choices": [{"id": "a", "text": ""}, {"id": "b", "text": ""}],
            "answer": ["a"],
        }
    ]
}


class BankTagForm(forms.Form):
    tag = forms.ModelChoiceField(
        label=gettext_lazy("Competency"),
        queryset=Competency.objects.order_by("code"),
        to_field_name="code",
        empty_label=None,
    )


class BankForm(forms.Form):
    questions_text = forms.CharField(
        label=gettext_lazy("Questions (YAML or JSON)"),
        widget=forms.Textarea(attrs={"rows": 24, "class": "code", "spellcheck": "false", "dir": "ltr"}),
        help_text=gettext_lazy("A mapping with one key, questions: a list in the format of a quiz's questions."),
    )

    def clean_questions_text(self):
        text = self.cleaned_data["questions_text"]
        try:
            data = archive.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            problem = getattr(exc, "problem", None) or str(exc)
            if mark is not None:
                raise forms.ValidationError(
                    _("Line %(line)d: %(problem)s"), params={"line": mark.line + 1, "problem": problem}
                ) from None
            raise forms.ValidationError(problem) from None
        if not isinstance(data, dict) or set(data) != {"questions"}:
            raise forms.ValidationError(_("Write a mapping with one key, questions, that lists the questions."))
        try:
            json.dumps(data)
        except TypeError as exc:
            message = _("The questions hold a value JSON cannot store: %(e)s")
            raise forms.ValidationError(message, params={"e": exc}) from None
        return data["questions"]


def _competency(tag: str) -> Competency:
    competency = Competency.objects.filter(code=tag).first()
    if competency is None:
        raise Http404
    return competency


@login_required
@require_http_methods(["GET"])
def bank_list(request, code: str):
    """The course's banks by tag with their question counts; `?tag=` opens (or starts) one."""
    course = _editable_course(request, code)
    form = BankTagForm(request.GET if "tag" in request.GET else None)
    if form.is_bound and form.is_valid():
        return redirect("courses:author-bank-edit", code=course.code, tag=form.cleaned_data["tag"].code)
    context = {"course": course, "banks": banks.bank_list(course=course), "tag_form": form}
    return render(request, "courses/author/banks/list.html", context, status=400 if form.errors else 200)


def _builder_class():
    return kinds.get("quiz").builder


@login_required
@require_http_methods(["GET", "POST"])
def bank_edit(request, code: str, tag: str):
    """One tag's questions. Saving replaces them; quiz versions already published keep theirs."""
    course = _editable_course(request, code)
    competency = _competency(tag)
    bank = banks.bank_get(course=course, tag=tag)
    spec = {"questions": bank.questions} if bank else None
    post = request.POST if request.method == "POST" else None
    # The source (YAML) stays open to whoever asks for it, as on the assignment page.
    wants_source = (post is not None and "questions_text" in post) or request.GET.get("mode") == "source"
    builder_class = None if wants_source else _builder_class()
    if builder_class is not None:
        context = kinds.BuilderContext(tags=banks.bank_tags(course=course), language=course.language)
        form = builder_class(post, spec=spec, context=context)
    else:
        form = BankForm(post, initial={"questions_text": spec_to_text(spec or STARTER)})
    refused = False
    editing_rows = post is not None and builder_class is not None and form.edit_action()
    if post is not None and not editing_rows:
        refused = not form.is_valid()
        if not refused:
            if builder_class is not None:
                questions = form.to_spec().get("questions")
            else:
                questions = form.cleaned_data["questions_text"]
            try:
                quizzes = services.question_bank_update(
                    user=request.user, course=course, competency=competency, questions=questions
                )
            except ApplicationError as exc:
                _add_error(form, exc, builder=builder_class is not None)
                refused = True
            else:
                messages.success(request, _("The question bank %(tag)s is saved.") % {"tag": competency.code})
                if quizzes:
                    titles = ", ".join(f"“{q.title}”" for q in quizzes)
                    messages.info(
                        request,
                        ngettext(
                            "The next attempt at the quiz %(titles)s draws from these questions.",
                            "The next attempts at the quizzes %(titles)s draw from these questions.",
                            len(quizzes),
                        )
                        % {"titles": titles},
                    )
                return redirect("courses:author-banks", code=course.code)
    context = {"course": course, "competency": competency, "bank": bank, "form": form,
               "is_builder": builder_class is not None}  # fmt: skip
    return render(request, "courses/author/banks/edit.html", context, status=400 if refused else 200)


def _add_error(form, exc: ApplicationError, *, builder: bool) -> None:
    """A refusal of the bank's questions on the field it names (questions[2].answer...)."""
    path = exc.field or ""
    if builder:
        form.add_spec_error(kinds.SpecError(path, exc.message))
    else:
        form.add_error("questions_text", f"{path}: {exc.message}" if path else exc.message)


@login_required
@require_POST
def bank_delete(request, code: str, tag: str):
    course = _editable_course(request, code)
    competency = _competency(tag)
    label = _("I understand: the questions of this bank are deleted for good.")
    form = ConfirmForm(request.POST, label=label)
    if not form.is_valid():  # one click never deletes: ask again, on a page of its own
        return confirm_page(
            request, form, heading=_("Delete the question bank %(tag)s?") % {"tag": competency.code},
            explanation=_("Quizzes already published keep the questions they drew from it."),
            button=_("Delete this bank"),
            cancel_url=reverse("courses:author-bank-edit", kwargs={"code": course.code, "tag": competency.code}),
        )  # fmt: skip
    if banks.question_bank_delete(user=request.user, course=course, competency=competency):
        messages.success(request, _("The question bank %(tag)s is deleted.") % {"tag": competency.code})
    return redirect("courses:author-banks", code=course.code)

"""Course files: the instructor's Files page (upload, list, delete) and the download a learner
follows from an assignment that attaches the file. Who may see a file is courses.selectors'
rule (course_file_for_download); the services check edits again."""

import re

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from kernel.errors import ApplicationError
from kernel.forms import ConfirmForm, confirm_page
from kernel.uploads import UploadValidator

from . import selectors, services
from .authoring_views import _editable_course
from .models import CourseFile

# What a browser is told a file is. Every file is sent as an attachment (never shown inline), so
# an uploaded HTML or SVG page can never run in the platform's origin.
_CONTENT_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "zip": "application/zip",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "pcap": "application/vnd.tcpdump.pcap",
    "pcapng": "application/octet-stream",
}


class CourseFileForm(forms.Form):
    file = forms.FileField(label=_("File"))
    name = forms.CharField(
        label=_("Name (optional)"),
        max_length=100,
        required=False,
        help_text=_("Letters, digits, dots, hyphens and underscores; the uploaded file's name if empty."),
    )
    replace = forms.BooleanField(label=_("Replace the file of the same name"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        validator = UploadValidator(kinds=services.COURSE_FILE_KINDS, max_bytes=services.course_file_max_bytes())
        self.fields["file"].validators = [validator]

    def clean(self):
        data = super().clean()
        upload = data.get("file")
        if upload is not None and not data.get("name"):
            base = (upload.name or "").replace("\\", "/").rsplit("/", 1)[-1]
            data["name"] = re.sub(r"[^A-Za-z0-9._-]+", "-", base).strip("-.")[:100]
        return data


@login_required
@require_http_methods(["GET", "POST"])
def course_files(request, code: str):
    """The course's files with their sizes and the assignments that attach them; upload one."""
    course = _editable_course(request, code)
    form = CourseFileForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        upload.seek(0)
        try:
            row = services.course_file_add(
                user=request.user,
                course=course,
                name=form.cleaned_data["name"],
                content=upload.read(),
                replace=form.cleaned_data["replace"],
            )
        except ApplicationError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("%(name)s is attached to the course.") % {"name": row.name})
            return redirect("courses:author-files", code=course.code)
    used = services.file_references(course=course)
    files = selectors.course_file_list(course=course)
    for row in files:
        row.used_by = sorted(used.get(row.name, []))
    context = {"course": course, "files": files, "form": form, "max_bytes": services.course_file_max_bytes()}
    return render(request, "courses/author/files.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def course_file_delete(request, code: str, pk: int):
    course = _editable_course(request, code)
    row = get_object_or_404(CourseFile.objects.defer("content"), pk=pk, course=course)
    label = _("I understand: %(name)s is deleted for good.") % {"name": row.name}
    form = ConfirmForm(request.POST, label=label)
    if not form.is_valid():  # one click never deletes: ask again, on a page of its own
        return confirm_page(
            request, form, heading=_("Delete %(name)s?") % {"name": row.name},
            explanation=_("The file is deleted from the course for good."), button=_("Delete the file"),
            cancel_url=reverse("courses:author-files", kwargs={"code": course.code}),
        )  # fmt: skip
    try:
        services.course_file_delete(user=request.user, course_file=row)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("%(name)s was deleted.") % {"name": row.name})
    return redirect("courses:author-files", code=course.code)


@login_required
def course_file_download(request, code: str, name: str):
    """A course file, for its editors, and for learners with access to the course when an
    assignment attaches it; 404 for anyone else."""
    course = selectors.course_get_by_code(code=code)
    if course is None:
        raise Http404
    row = selectors.course_file_for_download(user=request.user, course=course, name=name)
    if row is None:
        raise Http404
    content_type = _CONTENT_TYPES.get(row.content_kind, "text/plain; charset=utf-8")
    response = HttpResponse(bytes(row.content), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{row.name}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response

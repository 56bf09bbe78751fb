"""Learning path authoring: list, create and edit paths, and put courses on them in order, each
with its gate (required or recommended). Server-rendered, no JavaScript needed. Who may edit a
path is courses.permissions.can_edit_path; the services check again."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kernel.errors import ApplicationError

from . import permissions, selectors, services
from .authoring_views import _form_error
from .forms import PathCourseAddForm, PathForm
from .models import PathCourse


def _editable_path(request, code: str):
    path = selectors.path_get_by_code(code=code)
    if path is None:
        raise Http404
    if not permissions.can_edit_path(user=request.user, path=path):
        raise DjangoPermissionDenied
    return path


def _path_step(path, pk: int) -> PathCourse:
    return get_object_or_404(PathCourse.objects.select_related("path", "course"), pk=pk, path=path)


@login_required
def path_list(request):
    if not permissions.can_author(user=request.user):
        raise DjangoPermissionDenied
    return render(
        request, "courses/author/paths/list.html", {"paths": selectors.authoring_path_list(user=request.user)}
    )


@login_required
@require_http_methods(["GET", "POST"])
def path_new(request):
    if not permissions.can_author(user=request.user):
        raise DjangoPermissionDenied
    form = PathForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = {**form.cleaned_data, "competencies": list(form.cleaned_data["competencies"])}
        try:
            path = services.path_create(user=request.user, **data)
        except ApplicationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("The path is created: add its courses."))
            return redirect("courses:author-path-edit", code=path.code)
    context = {"form": form, "heading": _("New learning path")}
    return render(request, "courses/author/paths/form.html", context, status=400 if form.errors else 200)


def _path_page(request, path, *, form=None, add_form=None, status=200):
    if form is None:
        initial = {
            "title": path.title,
            "track": path.track,
            "summary": path.summary,
            "status": path.status,
            "competencies": list(path.competencies.all()),
        }
        form = PathForm(initial=initial, editing=True)
    addable = selectors.path_addable_courses(user=request.user, path=path)
    context = {
        "path": path,
        "form": form,
        "steps": selectors.path_steps(path=path),
        "add_form": add_form or PathCourseAddForm(courses=addable),
        "gates": PathCourse.Gate.choices,
        "heading": _("Edit learning path"),
    }
    return render(request, "courses/author/paths/form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def path_edit(request, code: str):
    path = _editable_path(request, code)
    if request.method != "POST":
        return _path_page(request, path)
    form = PathForm(request.POST, editing=True)
    if form.is_valid():
        data = {**form.cleaned_data, "competencies": list(form.cleaned_data["competencies"])}
        try:
            services.path_update(user=request.user, path=path, **data)
        except ApplicationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("The path is saved."))
            return redirect("courses:author-path-edit", code=path.code)
    path.refresh_from_db()
    return _path_page(request, path, form=form, status=400)


@login_required
@require_POST
def path_course_add(request, code: str):
    path = _editable_path(request, code)
    form = PathCourseAddForm(request.POST, courses=selectors.path_addable_courses(user=request.user, path=path))
    if form.is_valid():
        try:
            services.path_course_add(
                user=request.user, path=path, course=form.cleaned_data["course"], gate=form.cleaned_data["gate"]
            )
        except ApplicationError as exc:
            _form_error(form, exc)
        else:
            return redirect("courses:author-path-edit", code=path.code)
    return _path_page(request, path, add_form=form, status=400)


@login_required
@require_POST
def path_course_remove(request, code: str, pk: int):
    path = _editable_path(request, code)
    services.path_course_remove(user=request.user, path_course=_path_step(path, pk))
    return redirect("courses:author-path-edit", code=path.code)


@login_required
@require_POST
def path_course_move(request, code: str, pk: int):
    path = _editable_path(request, code)
    try:
        services.path_course_move(
            user=request.user, path_course=_path_step(path, pk), direction=request.POST.get("direction", "")
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("courses:author-path-edit", code=path.code)


@login_required
@require_POST
def path_course_gate(request, code: str, pk: int):
    path = _editable_path(request, code)
    try:
        services.path_course_gate_set(
            user=request.user, path_course=_path_step(path, pk), gate=request.POST.get("gate", "")
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("courses:author-path-edit", code=path.code)

"""Instructor pages: build a course in the browser (no JavaScript needed), preview it as a
learner sees it, publish or archive it, export and import it. Every view asks
courses.permissions; the services check again."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from assessment import kinds
from kernel.errors import ApplicationError

from . import archive, imports, permissions, selectors, services
from .forms import AssignmentForm, CourseForm, ImportForm, InstructorAddForm, LessonForm, ModuleForm, spec_to_text
from .models import Assignment, CourseCover, CourseImportJob, Lesson, Module


def _editable_course(request, code: str):
    course = selectors.course_get_by_code(code=code)
    if course is None:
        raise Http404
    if not permissions.is_course_editor(user=request.user, course=course):
        raise DjangoPermissionDenied
    return course


def _form_error(form, exc: ApplicationError, *, field_map: dict | None = None) -> None:
    """Put a service's error on the form field it names (spec.questions[0].answer -> spec_text)."""
    field = (exc.field or "").split(".", 1)[0]
    field = (field_map or {}).get(field, field)
    if field in form.fields and not form.fields[field].disabled:
        detail = exc.field.split(".", 1)[1] if exc.field and "." in exc.field else ""
        form.add_error(field, f"{detail}: {exc.message}" if detail else exc.message)
    else:
        form.add_error(None, exc.message)


@login_required
def author_home(request):
    if not permissions.can_author(user=request.user):
        raise DjangoPermissionDenied
    context = {
        "courses": selectors.authoring_course_list(user=request.user),
        "paths": selectors.authoring_path_list(user=request.user),
        "import_form": ImportForm(),
    }
    return render(request, "courses/author/home.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def course_new(request):
    if not permissions.can_author(user=request.user):
        raise DjangoPermissionDenied
    form = CourseForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "remove_cover"}
        try:
            course = services.course_create(user=request.user, **data)
        except ApplicationError as exc:
            _form_error(form, exc)
        else:
            return redirect("courses:author-outline", code=course.code)
    return render(request, "courses/author/course_form.html", {"form": form, "heading": _("New course")},
                  status=400 if form.errors else 200)  # fmt: skip


def _course_edit_page(request, course, *, form=None, instructor_form=None, status=200):
    """The course settings page: its form, and its instructors with the form to add one."""
    cover = CourseCover.objects.filter(course=course).only("digest", "content_type", "course_id").first()
    if form is None:
        initial = {k: getattr(course, k) for k in ("title", "summary", "language", "level", "workload_hours", "track")}
        form = CourseForm(initial=initial, editing=True, has_cover=cover is not None)
    context = {
        "form": form,
        "course": course,
        "cover": cover,
        "heading": _("Edit course"),
        "instructors": selectors.course_instructors(course=course),
        "instructor_form": instructor_form or InstructorAddForm(),
    }
    return render(request, "courses/author/course_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def course_edit(request, code: str):
    course = _editable_course(request, code)
    if request.method != "POST":
        return _course_edit_page(request, course)
    has_cover = CourseCover.objects.filter(course=course).exists()
    form = CourseForm(request.POST, request.FILES, editing=True, has_cover=has_cover)
    if form.is_valid():
        try:
            services.course_update(user=request.user, course=course, **form.cleaned_data)
        except ApplicationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("The course settings are saved."))
            return redirect("courses:author-outline", code=course.code)
    return _course_edit_page(request, course, form=form, status=400)


@login_required
@require_POST
def instructor_add(request, code: str):
    course = _editable_course(request, code)
    form = InstructorAddForm(request.POST)
    if form.is_valid():
        try:
            added = services.course_instructor_add(user=request.user, course=course, email=form.cleaned_data["email"])
        except ApplicationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("%(name)s now teaches this course.") % {"name": added.get_full_name()})
            return redirect("courses:author-course-edit", code=course.code)
    return _course_edit_page(request, course, instructor_form=form, status=400)


@login_required
@require_POST
def instructor_remove(request, code: str, pk: int):
    course = _editable_course(request, code)
    try:
        services.course_instructor_remove(user=request.user, course=course, instructor_id=pk)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("courses:author-course-edit", code=course.code)
    if not permissions.is_course_editor(user=request.user, course=course):  # removed oneself
        messages.success(request, _("You no longer teach %(title)s.") % {"title": course.title})
        return redirect("courses:author-home")
    messages.success(request, _("The instructor was removed."))
    return redirect("courses:author-course-edit", code=course.code)


@login_required
def course_outline(request, code: str):
    course = _editable_course(request, code)
    context = {
        "course": course,
        "modules": selectors.authoring_outline(course=course),
        "module_form": ModuleForm(),
        "import_form": ImportForm(initial={"update": True}),
    }
    return render(request, "courses/author/outline.html", context)


@login_required
@require_POST
def course_status(request, code: str):
    course = _editable_course(request, code)
    try:
        services.course_status_set(user=request.user, course=course, status=request.POST.get("status", ""))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The course is now %(status)s.") % {"status": course.get_status_display()})
    return redirect("courses:author-outline", code=course.code)


@login_required
def course_export(request, code: str):
    course = _editable_course(request, code)
    response = HttpResponse(archive.course_export(course=course), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{course.code}.zip"'
    return response


@login_required
@require_POST
def course_import(request):
    if not permissions.can_author(user=request.user):
        raise DjangoPermissionDenied
    form = ImportForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            result = imports.course_import_start(
                user=request.user,
                data=form.cleaned_data["archive"],
                file_name=form.file_name,
                update=form.cleaned_data["update"],
            )
        except ApplicationError as exc:
            form.add_error("archive", exc.message)
        else:
            if isinstance(result, CourseImportJob):  # big: a worker imports it
                return redirect("courses:author-import-job", pk=result.pk)
            messages.success(request, _("Imported %(code)s.") % {"code": result.course.code})
            for kept in result.kept:
                messages.warning(request, kept_message(kept))
            return redirect("courses:author-outline", code=result.course.code)
    context = {
        "courses": selectors.authoring_course_list(user=request.user),
        "paths": selectors.authoring_path_list(user=request.user),
        "import_form": form,
    }
    return render(request, "courses/author/home.html", context, status=400)


def kept_message(kept: dict) -> str:
    """Why an import left an existing competency's name as it was."""
    if kept.get("shared", True):
        message = _(
            "The competency %(code)s is used by other courses: it keeps its name “%(name)s” "
            "(the archive called it “%(archive_name)s”)."
        )
    else:
        message = _(
            "The competency %(code)s already exists: it keeps its name “%(name)s” "
            "(import with update to rename it “%(archive_name)s”)."
        )
    return message % kept


@login_required
def course_import_job(request, pk: int):
    """A background import's progress (the htmx fragment polls itself), then its result. Only
    its requester sees it, in a session that may author: anyone else gets 404."""
    if not permissions.can_author(user=request.user):
        raise Http404
    job = CourseImportJob.objects.select_related("course").filter(pk=pk, requested_by=request.user).first()
    if job is None:
        raise Http404
    template = (
        "courses/author/_import_progress.html"
        if request.headers.get("HX-Request")
        else "courses/author/import_job.html"
    )
    context = {"job": job, "kept": [kept_message(k) for k in job.kept]}
    return render(request, template, context)


@login_required
@require_POST
def module_new(request, code: str):
    course = _editable_course(request, code)
    form = ModuleForm(request.POST)
    if form.is_valid():
        services.module_create(user=request.user, course=course, title=form.cleaned_data["title"])
    else:
        messages.error(request, _("A module needs a title."))
    return redirect("courses:author-outline", code=course.code)


@login_required
@require_http_methods(["GET", "POST"])
def module_edit(request, code: str, pk: int):
    course = _editable_course(request, code)
    module = get_object_or_404(Module, pk=pk, course=course)
    form = ModuleForm(request.POST or None, initial={"title": module.title})
    if request.method == "POST" and form.is_valid():
        services.module_update(user=request.user, module=module, title=form.cleaned_data["title"])
        return redirect("courses:author-outline", code=course.code)
    context = {"form": form, "course": course, "heading": _("Edit module")}
    return render(request, "courses/author/form.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def module_move(request, code: str, pk: int):
    course = _editable_course(request, code)
    module = get_object_or_404(Module, pk=pk, course=course)
    try:
        services.module_move(user=request.user, module=module, direction=request.POST.get("direction", ""))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("courses:author-outline", code=course.code)


@login_required
@require_http_methods(["GET", "POST"])
def lesson_new(request, code: str, module_pk: int):
    course = _editable_course(request, code)
    module = get_object_or_404(Module, pk=module_pk, course=course)
    form = LessonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.lesson_create(user=request.user, module=module, **form.cleaned_data)
        return redirect("courses:author-outline", code=course.code)
    context = {"form": form, "course": course, "heading": _("New lesson in %(m)s") % {"m": module.title}}
    return render(request, "courses/author/form.html", context, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def lesson_edit(request, code: str, pk: int):
    course = _editable_course(request, code)
    lesson = get_object_or_404(Lesson.objects.select_related("module__course"), pk=pk, module__course=course)
    form = LessonForm(request.POST or None, initial={"title": lesson.title, "body_markdown": lesson.body_markdown})
    if request.method == "POST" and form.is_valid():
        services.lesson_update(user=request.user, lesson=lesson, **form.cleaned_data)
        return redirect("courses:author-outline", code=course.code)
    context = {"form": form, "course": course, "heading": _("Edit lesson"), "preview_lesson": lesson}
    return render(request, "courses/author/form.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def lesson_move(request, code: str, pk: int):
    course = _editable_course(request, code)
    lesson = get_object_or_404(Lesson.objects.select_related("module__course"), pk=pk, module__course=course)
    try:
        services.lesson_move(user=request.user, lesson=lesson, direction=request.POST.get("direction", ""))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("courses:author-outline", code=course.code)


@login_required
def lesson_preview(request, code: str, pk: int):
    course = _editable_course(request, code)
    lesson = get_object_or_404(Lesson.objects.select_related("module"), pk=pk, module__course=course)
    return render(request, "courses/lesson_detail.html", {"course": course, "lesson": lesson, "preview": True})


def _assignment_form_submit(request, form, *, course, module=None, assignment=None):
    """Call the create or update service; map its errors onto the form. Returns the assignment
    or None."""
    data = form.cleaned_data
    fields = {
        "spec": data["spec_text"],
        "prompt_markdown": data["prompt_markdown"],
        "slug": data["slug"],
        "competencies": list(data["competencies"]),
        "settings": form.settings(),
    }
    try:
        if assignment is None:
            return services.assignment_create(user=request.user, module=module, kind=data["kind"], **fields)
        return services.assignment_update(user=request.user, assignment=assignment, **fields)
    except ApplicationError as exc:
        _form_error(form, exc, field_map={"spec": "spec_text"})
        return None


@login_required
@require_http_methods(["GET", "POST"])
def assignment_new(request, code: str, module_pk: int):
    course = _editable_course(request, code)
    module = get_object_or_404(Module, pk=module_pk, course=course)
    form = AssignmentForm(request.POST or None, initial={"kind": request.GET.get("kind", "quiz")})
    if request.method == "POST" and form.is_valid():
        if _assignment_form_submit(request, form, course=course, module=module) is not None:
            return redirect("courses:author-outline", code=course.code)
    context = {"form": form, "course": course, "heading": _("New assignment in %(m)s") % {"m": module.title}}
    return render(request, "courses/author/form.html", context, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def assignment_edit(request, code: str, pk: int):
    course = _editable_course(request, code)
    assignment = get_object_or_404(Assignment.objects.select_related("current_version", "course"), pk=pk, course=course)
    version = assignment.current_version
    initial = {
        **{k: getattr(assignment, k) for k in services.ASSIGNMENT_SETTINGS},
        "slug": assignment.slug,
        "kind": assignment.kind,
        "competencies": list(assignment.competencies.all()),
        "prompt_markdown": version.prompt_markdown if version else "",
        "spec_text": spec_to_text(services.editable_spec(kind=assignment.kind, spec=version.spec)) if version else "",
    }
    form = AssignmentForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        if _assignment_form_submit(request, form, course=course, assignment=assignment) is not None:
            return redirect("courses:author-outline", code=course.code)
    context = {"form": form, "course": course, "heading": _("Edit assignment"), "preview_assignment": assignment}
    return render(request, "courses/author/form.html", context, status=400 if form.errors else 200)


@login_required
def assignment_preview(request, code: str, pk: int):
    course = _editable_course(request, code)
    assignment = get_object_or_404(Assignment.objects.select_related("current_version"), pk=pk, course=course)
    if assignment.current_version is None:
        raise Http404
    version = assignment.current_version
    # A quiz's questions, as its learner sees them (the other kinds' forms show nothing to preview).
    is_quiz = assignment.kind == Assignment.Kind.QUIZ
    form = kinds.get(assignment.kind).learner_form(spec=version.spec) if is_quiz else None
    context = {"course": course, "assignment": assignment, "version": version, "form": form, "attempts": [],
               "preview": True}  # fmt: skip
    return render(request, "courses/author/assignment_preview.html", context)

"""Instructor pages: build a course in the browser (no JavaScript needed), preview it as a
learner sees it, publish or archive it, export and import it. Every view asks
courses.permissions; the services check again."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.forms.utils import ErrorDict
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from assessment import kinds
from assessment.kinds.flag import grader as flag_grader
from kernel.errors import ApplicationError, PermissionDenied

from . import archive, imports, permissions, preview, selectors, services
from .forms import (
    AssignmentSettingsForm,
    CourseForm,
    ImportConfirmForm,
    ImportForm,
    InstructorAddForm,
    LessonForm,
    ModuleForm,
    SpecSourceForm,
    spec_to_text,
)
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
@require_http_methods(["GET", "POST"])
def course_import(request):
    """The import's first step: upload an archive, which is checked and kept (nothing is imported
    yet), then see on its job page what it would change. ?update=1 ticks "replace"."""
    if not permissions.can_author(user=request.user):
        raise DjangoPermissionDenied
    if request.method == "GET":
        form = ImportForm(initial={"update": request.GET.get("update") == "1"})
        return render(request, "courses/author/import.html", {"import_form": form})
    form = ImportForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            job = imports.course_import_check(
                user=request.user,
                data=form.cleaned_data["archive"],
                file_name=form.file_name,
                update=form.cleaned_data["update"],
            )
        except ApplicationError as exc:
            form.add_error("archive", exc.message)
        else:
            return redirect("courses:author-import-job", pk=job.pk)
    return render(request, "courses/author/import.html", {"import_form": form}, status=400)


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


def _own_import_job(request, pk: int) -> CourseImportJob:
    if not permissions.can_author(user=request.user):
        raise Http404
    job = CourseImportJob.objects.select_related("course").filter(pk=pk, requested_by=request.user).first()
    if job is None:
        raise Http404
    return job


def _import_job_page(request, job: CourseImportJob, *, confirm_form=None, status=200):
    template = (
        "courses/author/_import_progress.html"
        if request.headers.get("HX-Request")
        else "courses/author/import_job.html"
    )
    if confirm_form is None and job.is_awaiting:
        confirm_form = ImportConfirmForm(summary=job.summary)
    summary_kept = job.summary.get("competencies", {}).get("kept", [])
    context = {
        "job": job,
        "kept": [kept_message(k) for k in job.kept],
        "confirm_form": confirm_form,
        "summary_kept": [kept_message(k) for k in summary_kept],
    }
    return render(request, template, context, status=status)


@login_required
def course_import_job(request, pk: int):
    """An upload's page: its check (the htmx fragment polls itself while a worker reads a big
    one), what it would change with the confirmation form, then the import's progress and its
    result. Only its requester sees it, in a session that may author: anyone else gets 404."""
    return _import_job_page(request, _own_import_job(request, pk))


@login_required
@require_POST
def course_import_confirm(request, pk: int):
    """The import's second step: the confirmation runs it (a small archive at once, a big one in
    the background). Replacing a course needs its box ticked; confirming twice imports once."""
    job = _own_import_job(request, pk)
    form = ImportConfirmForm(request.POST, summary=job.summary)
    if not form.is_valid():
        return _import_job_page(request, job, confirm_form=form, status=400)
    try:
        job = imports.course_import_confirm(user=request.user, job_id=job.pk)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("courses:author-import-job", pk=job.pk)
    if job.status == CourseImportJob.Status.DONE and job.course is not None:
        messages.success(request, _("Imported %(code)s.") % {"code": job.course.code})
        for kept in job.kept:
            messages.warning(request, kept_message(kept))
        return redirect("courses:author-outline", code=job.course.code)
    return redirect("courses:author-import-job", pk=job.pk)


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
    around = selectors.lesson_steps(course=course, lesson=lesson)
    context = {
        "course": course,
        "lesson": lesson,
        "preview": True,
        "steps": around.steps,
        "previous": around.previous,
        "next": around.next,
    }
    return render(request, "courses/lesson_detail.html", context)


class _AssignmentPage:
    """The new/edit assignment page: the common settings, and the kind's part in one of two
    modes, its builder (forms, the default when the kind has one) or its source (the spec as
    YAML, the archive's format). Both read and write the same spec; switching mode carries the
    unsaved work over. A builder's row operations (add, delete, move...) re-render the page and
    save nothing; only "Save" calls the service, which lands a new version or changes nothing."""

    def __init__(self, request, *, course, kind: str, assignment=None):
        self.request = request
        self.course = course
        self.assignment = assignment
        self.kind = kinds.find(kind)
        if self.kind is None and request.method != "POST":
            raise Http404
        # An unknown kind posted is the settings form's error ("kind"), shown on the source tab.
        self.kind_name = kind
        self.builder_class = self.kind.builder if self.kind else None
        self.context = selectors.builder_context(course=course)
        version = assignment.current_version if assignment else None
        self.spec = services.editable_spec(kind=kind, spec=version.spec) if version else None
        self.prompt = version.prompt_markdown if version else ""
        self.builder = None
        self.source = None

    def _initial_settings(self) -> dict:
        a = self.assignment
        if a is None:
            return {"kind": self.kind_name}
        return {
            **{k: getattr(a, k) for k in services.ASSIGNMENT_SETTINGS},
            "slug": a.slug,
            "kind": a.kind,
            "competencies": list(a.competencies.all()),
            "prompt_markdown": self.prompt,
        }

    def _builder_from_spec(self, spec: dict | None, *, bound: bool):
        if bound:  # a spec brought over from the source tab: shown as posted rows
            return self.builder_class(data=self.builder_class.data_from_spec(spec), context=self.context)
        return self.builder_class(spec=spec, context=self.context)

    def _source_from_spec(self, spec: dict | None):
        return SpecSourceForm(initial={"spec_text": spec_to_text(spec) if spec else ""})

    def handle(self):
        """(response or None, status). None: render the page."""
        request = self.request
        post = request.POST if request.method == "POST" else None
        self.settings = AssignmentSettingsForm(post, initial=self._initial_settings(),
                                               editing=self.assignment is not None,
                                               language=self.course.language)  # fmt: skip
        wanted = request.GET.get("mode")
        if post is None:
            if self.builder_class is not None and wanted != "source":
                self.builder = self._builder_from_spec(self.spec, bound=False)
            else:
                self.source = self._source_from_spec(self.spec)
            return None
        switch = post.get("switch")
        if "spec_text" in post or self.builder_class is None:
            self.source = SpecSourceForm(post)
            if switch == "builder" and self.builder_class is not None:
                return self._to_builder()
            spec = self.source.cleaned_data["spec_text"] if self.source.is_valid() else None
        else:
            self.builder = self.builder_class(post, request.FILES, context=self.context)
            if self.builder.edit_action():
                # A row added or moved is not a save: the settings keep what was typed, unjudged
                # (an empty title is no error yet).
                self.settings._errors = ErrorDict()
                return None
            if not self.builder.is_valid():
                self.settings.is_valid()  # show every error at once
                return None
            spec = self.builder.to_spec()
            if switch == "source":
                self.builder, self.source = None, self._source_from_spec(spec)
                return None
        if spec is None or not self.settings.is_valid():
            return None
        return self._save(spec)

    def _to_builder(self):
        if not self.source.is_valid():
            return None
        spec = self.source.cleaned_data["spec_text"]
        try:
            kinds.validate_spec(self.kind_name, spec)
            builder = self._builder_from_spec(spec, bound=True)
        except kinds.SpecError as exc:
            self.source.add_error("spec_text", f"{exc.path}: {exc.message}" if exc.path else exc.message)
            return None
        self.builder, self.source = builder, None
        return None

    def _save(self, spec: dict):
        data = self.settings.cleaned_data
        fields = {
            "spec": spec,
            "prompt_markdown": data["prompt_markdown"],
            "slug": data["slug"],
            "competencies": list(data["competencies"]),
            "settings": self.settings.settings(),
        }
        user = self.request.user
        try:
            if self.assignment is None:
                services.assignment_create(user=user, module=self.module, kind=self.kind_name, **fields)
            else:
                services.assignment_update(user=user, assignment=self.assignment, **fields)
        except ApplicationError as exc:
            self._service_error(exc)
            return None
        messages.success(self.request, _("Saved."))
        return redirect("courses:author-outline", code=self.course.code)

    def _service_error(self, exc: ApplicationError) -> None:
        """A refusal on the field it names: spec.<path> on the builder's field for that path (or
        the source), anything else on the settings."""
        field = exc.field or ""
        if field == "spec" or field.startswith("spec."):
            path = field.removeprefix("spec").removeprefix(".")
            if self.builder is not None:
                self.builder.add_spec_error(kinds.SpecError(path, exc.message))
            else:
                self.source.add_error("spec_text", f"{path}: {exc.message}" if path else exc.message)
            return
        if field == "pass_threshold":
            field = "pass_percent"
        _form_error(self.settings, ApplicationError(exc.message, field=field))

    def render(self, *, heading: str):
        has_errors = bool(self.settings.is_bound and self.settings.errors) or any(
            form is not None and form.is_bound and form.errors for form in (self.builder, self.source)
        )
        context = {
            "course": self.course,
            "heading": heading,
            "kind": self.kind,
            "settings_form": self.settings,
            "builder": self.builder,
            "source": self.source,
            "has_builder": self.builder_class is not None,
            "preview_assignment": self.assignment,
        }
        return render(self.request, "courses/author/assignment_form.html", context, status=400 if has_errors else 200)


def _heading(kind: str, *, module=None, assignment=None) -> str:
    """One sentence per kind, so that each language can agree its words (un quiz, une flag...)."""
    if assignment is None:
        texts = {
            "quiz": _("New quiz in %(name)s"),
            "code": _("New code exercise in %(name)s"),
            "flag": _("New flag challenge in %(name)s"),
            "essay": _("New essay in %(name)s"),
            "sql": _("New SQL exercise in %(name)s"),
            "deid": _("New de-identification exercise in %(name)s"),
            "fhir": _("New FHIR resource exercise in %(name)s"),
        }
        return texts.get(kind, _("New assignment in %(name)s")) % {"name": module.title}
    texts = {
        "quiz": _("Edit the quiz %(name)s"),
        "code": _("Edit the code exercise %(name)s"),
        "flag": _("Edit the flag challenge %(name)s"),
        "essay": _("Edit the essay %(name)s"),
        "sql": _("Edit the SQL exercise %(name)s"),
        "deid": _("Edit the de-identification exercise %(name)s"),
        "fhir": _("Edit the FHIR resource exercise %(name)s"),
    }
    return texts.get(kind, _("Edit the assignment %(name)s")) % {"name": assignment.title}


@login_required
@require_http_methods(["GET", "POST"])
def assignment_new(request, code: str, module_pk: int):
    course = _editable_course(request, code)
    module = get_object_or_404(Module, pk=module_pk, course=course)
    kind = request.POST.get("kind") or request.GET.get("kind") or "quiz"
    page = _AssignmentPage(request, course=course, kind=kind)
    page.module = module
    response = page.handle()
    if response is not None:
        return response
    return page.render(heading=_heading(kind, module=module))


@login_required
@require_http_methods(["GET", "POST"])
def assignment_edit(request, code: str, pk: int):
    course = _editable_course(request, code)
    assignment = get_object_or_404(Assignment.objects.select_related("current_version", "course"), pk=pk, course=course)
    page = _AssignmentPage(request, course=course, kind=assignment.kind, assignment=assignment)
    response = page.handle()
    if response is not None:
        return response
    return page.render(heading=_heading(assignment.kind, assignment=assignment))


@login_required
@require_http_methods(["GET", "POST"])
def assignment_preview(request, code: str, pk: int):
    """The assignment as its learner gets it (the same body template and learner form), with
    "try it": a POST grades the instructor's answer with the kind's grader and shows the feedback
    a learner would read. Nothing is stored. The draw's seed travels in the form's address, so a
    kind that draws questions per attempt grades the questions it showed."""
    course = _editable_course(request, code)
    assignment = get_object_or_404(Assignment.objects.select_related("current_version", "course"), pk=pk, course=course)
    version = assignment.current_version
    if version is None:
        raise Http404
    seed = preview.preview_seed(request.GET.get("seed"))
    kind = kinds.find(assignment.kind)
    spec = preview.preview_spec(kind=assignment.kind, spec=version.spec, seed=seed) if kind else version.spec
    form = kind.learner_form(request.POST if request.method == "POST" else None, spec=spec) if kind else None
    result = None
    if request.method == "POST" and form is not None and form.is_valid():
        try:
            result = preview.assignment_try(user=request.user, assignment=assignment, spec=spec, answer=form.answer())
        except PermissionDenied as exc:
            raise DjangoPermissionDenied from exc
        except ApplicationError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    context = {
        "course": course,
        "assignment": assignment,
        "version": version,
        "public": kinds.public_spec(assignment.kind, spec) if kind else {},
        "form": form,
        "attempts": [],
        "preview": True,
        "result": result,
        "form_action": f"{request.path}?{urlencode({'seed': seed})}",
        "draws": getattr(kind, "attempt_spec", None) is not None,
        # A flag's files and hints as a learner who has made no wrong attempt sees them.
        "flag_extras": flag_grader.extras(spec, wrong=0) if assignment.kind == Assignment.Kind.FLAG else None,
    }
    status = 400 if form is not None and form.errors else 200
    return render(request, "courses/author/assignment_preview.html", context, status=status)

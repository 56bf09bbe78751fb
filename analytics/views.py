"""Teaching pages: gradebook, overrides, exports, analytics. Each view asks analytics.permissions
for the acting user's scope on the course, then calls one selector or service."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import AuditEntry, Organization
from accounts.services import audit_reads
from courses.models import Assignment, Course, Enrollment, LearningPath
from grading.models import GradeRecord
from kernel.errors import ApplicationError
from roster import gradebook as roster_gradebook

from . import charts, exports, gradebook, selectors, services
from .forms import GradebookFilterForm, OverrideForm
from .models import ExportJob, GradeOverride
from .permissions import can_see_path, course_scope, course_visible


def _course_and_scope(request, code: str):
    course = get_object_or_404(Course, code=code)
    if not course_visible(user=request.user, course=course):
        raise Http404
    scope = course_scope(user=request.user, course=course)
    if scope is None:
        raise PermissionDenied
    return course, scope


def _roster_classes(course, scope) -> list:
    """The universities' roster classes mapped to this course that this scope may see."""
    return roster_gradebook.classes_for_course(
        course_id=course.pk, organization_ids=None if scope.all_learners else scope.organization_ids
    )


def _filter_form(request, scope, course):
    orgs = Organization.objects.order_by("name")
    if not scope.all_learners:
        orgs = orgs.filter(pk__in=scope.organization_ids)
    return GradebookFilterForm(
        request.GET or None, organizations=list(orgs), roster_classes=_roster_classes(course, scope)
    )


def _query(form) -> str:
    if not form.is_bound or not form.is_valid():
        return ""
    return urlencode({k: v for k, v in form.data.items() if k in form.fields and v})


@login_required
def index(request):
    return render(
        request,
        "analytics/index.html",
        {"courses": selectors.visible_courses(user=request.user), "paths": selectors.visible_paths(user=request.user)},
    )


@login_required
def gradebook_view(request, code: str):
    course, scope = _course_and_scope(request, code)
    form = _filter_form(request, scope, course)
    filters = form.filters()
    book = gradebook.gradebook_page(course=course, scope=scope, filters=filters, page_number=request.GET.get("page"))
    shown = [r.enrollment.user_id for r in book.rows]
    audit_reads(actor=request.user, action=AuditEntry.Action.GRADES_VIEW, subjects=shown, obj=course)
    from django.conf import settings

    roster_class = None
    if "roster_class" in form.fields and filters.roster_class_id:
        roster_class = next(c for c in form.roster_classes if c.pk == filters.roster_class_id)
    return render(
        request,
        "analytics/gradebook.html",
        {
            "roster_class": roster_class,
            "course": course,
            "scope": scope,
            "form": form,
            "book": book,
            "query": _query(form),
            "sync_export": book.page.paginator.count <= settings.ANALYTICS_EXPORT_SYNC_MAX_ROWS,
            "rules": gradebook.at_risk_rules(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def override_view(request, code: str, user_id: int, assignment_id: int):
    course, scope = _course_and_scope(request, code)
    if not scope.can_override:
        raise PermissionDenied
    assignment = get_object_or_404(Assignment, pk=assignment_id, course=course)
    enrollment = get_object_or_404(Enrollment.objects.select_related("user"), course=course, user_id=user_id)
    learner = enrollment.user
    audit_reads(actor=request.user, action=AuditEntry.Action.GRADES_VIEW, subjects=[learner], obj=assignment)
    form = OverrideForm(request.POST or None, max_score=assignment.points)
    if request.method == "POST" and form.is_valid():
        try:
            services.grade_override(
                actor=request.user,
                course=course,
                learner=learner,
                assignment=assignment,
                score=form.cleaned_data["score"],
                reason=form.cleaned_data["reason"],
            )
        except ApplicationError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("Grade changed. The learner's university will be told."))
            return redirect("analytics:override", code=course.code, user_id=learner.pk, assignment_id=assignment.pk)
    history = (
        GradeRecord.objects.filter(submission__user=learner, submission__assignment=assignment)
        .select_related("graded_by", "submission")
        .order_by("-created_at", "-id")
    )
    overrides = GradeOverride.objects.filter(user=learner, assignment=assignment).select_related("actor")
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "analytics/override.html",
        {
            "course": course,
            "assignment": assignment,
            "learner": learner,
            "form": form,
            "history": history,
            "overrides": overrides,
        },
        status=status,
    )


@login_required
def export_download(request, code: str, fmt: str):
    """Stream the filtered gradebook as CSV or XLSX, built as it is sent."""
    if fmt not in exports.CONTENT_TYPES:
        raise Http404
    course, scope = _course_and_scope(request, code)
    filters = _filter_form(request, scope, course).filters()
    rows = gradebook.export_rows(
        course=course, scope=scope, filters=filters,
        on_learners=lambda ids: audit_reads(actor=request.user, action=AuditEntry.Action.GRADES_EXPORT, subjects=ids,
                                            obj=course),
    )  # fmt: skip
    chunks = exports.csv_chunks(rows) if fmt == "csv" else exports.xlsx_chunks(rows)
    response = StreamingHttpResponse(chunks, content_type=exports.CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="gradebook-{course.code}.{fmt}"'
    return response


@login_required
def oneroster_export(request, code: str, class_id: int):
    """Stream a roster class's gradebook as a OneRoster 1.2 Gradebook CSV zip (bulk, all dates)."""
    course, scope = _course_and_scope(request, code)
    roster_class = next((c for c in _roster_classes(course, scope) if c.pk == class_id), None)
    if roster_class is None:
        raise Http404
    roster_class = roster_gradebook.class_get(
        organization_id=roster_class.organization_id, sourced_id=roster_class.sourced_id
    )
    export = roster_gradebook.gradebook_export(roster_class=roster_class)
    members = list(roster_gradebook.class_member_user_ids(roster_class_id=roster_class.pk))
    audit_reads(
        actor=request.user, action=AuditEntry.Action.GRADES_EXPORT,
        subjects=[m["roster_user__user_id"] for m in members], obj=course,
    )  # fmt: skip
    response = StreamingHttpResponse(roster_gradebook.zip_chunks(export), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    return response


@login_required
@require_POST
def export_start(request, code: str):
    course, scope = _course_and_scope(request, code)
    filters = _filter_form(request, scope, course).filters()
    try:
        job = services.export_job_create(
            user=request.user, course=course, fmt=request.POST.get("format"), filters=filters
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("analytics:gradebook", code=course.code)
    return redirect("analytics:export_status", code=course.code, pk=job.pk)


def _own_job(request, code, pk) -> ExportJob:
    course, _scope = _course_and_scope(request, code)
    job = ExportJob.objects.filter(pk=pk, course=course, requested_by=request.user).first()
    if job is None:
        raise Http404
    return job


@login_required
def export_status(request, code: str, pk: int):
    job = _own_job(request, code, pk)
    template = "analytics/_export_progress.html" if request.headers.get("HX-Request") else "analytics/export.html"
    return render(request, template, {"job": job, "course": job.course})


@login_required
def export_file(request, code: str, pk: int):
    job = _own_job(request, code, pk)
    if job.status != ExportJob.Status.DONE:
        raise Http404
    path = services.export_path(job)
    if not path.exists():
        raise Http404
    return FileResponse(
        open(path, "rb"),  # noqa: SIM115 - FileResponse closes it
        as_attachment=True,
        filename=f"gradebook-{job.course.code}.{job.format}",
        content_type=exports.CONTENT_TYPES[job.format],
    )


@login_required
def course_analytics(request, code: str):
    course, scope = _course_and_scope(request, code)
    assignments = gradebook.course_assignments(course=course)
    stats = selectors.assignment_stats(course=course, scope=scope, assignments=assignments)
    funnel = selectors.course_funnel(course=course, scope=scope)
    competencies = selectors.competency_progress(course=course, scope=scope)
    at_risk, at_risk_total = selectors.at_risk_list(course=course, scope=scope, assignments=assignments)
    shown = [r.enrollment.user_id for r in at_risk]
    audit_reads(actor=request.user, action=AuditEntry.Action.PROGRESS_VIEW, subjects=shown, obj=course)
    labels = [w for w, _e, _c in funnel.weeks]
    context = {
        "course": course,
        "scope": scope,
        "stats": stats,
        "funnel": funnel,
        "funnel_chart": charts.line_chart(
            _("Learners enrolled and completed, cumulative, per week"),
            labels,
            [(_("Enrolled"), [e for _w, e, _c in funnel.weeks]), (_("Completed"), [c for _w, _e, c in funnel.weeks])],
        ),
        "stage_chart": charts.bar_chart(
            _("Funnel"),
            [(_("Enrolled"), funnel.enrolled), (_("Started"), funnel.started), (_("Completed"), funnel.completed)],
        ),
        "competencies": competencies,
        "competency_chart": charts.bar_chart(_("Progress per competency (%)"), [(n, p) for n, p, _k in competencies]),
        "mean_chart": charts.bar_chart(
            _("Mean score per assignment (%)"), [(str(i + 1), s.mean or 0) for i, s in enumerate(stats)]
        ),
        "at_risk": at_risk,
        "at_risk_total": at_risk_total,
        "rules": gradebook.at_risk_rules(),
    }
    return render(request, "analytics/course.html", context)


@login_required
def assignment_analytics(request, code: str, pk: int):
    course, scope = _course_and_scope(request, code)
    assignment = get_object_or_404(Assignment.objects.select_related("current_version"), pk=pk, course=course)
    (stats,) = selectors.assignment_stats(course=course, scope=scope, assignments=[assignment])
    questions = selectors.item_analysis(assignment=assignment, scope=scope)
    return render(
        request,
        "analytics/assignment.html",
        {
            "course": course,
            "assignment": assignment,
            "stats": stats,
            "histogram": charts.bar_chart(_("Learners per score band (%)"), stats.histogram_bins),
            "questions": questions,
            "flagged": [q for q in questions if q.is_flagged],
            "drawn": any(q.tag for q in questions),
        },
    )


@login_required
def path_analytics(request, code: str):
    path = get_object_or_404(LearningPath, code=code)
    scope = can_see_path(user=request.user, path=path)
    if scope is None:
        raise PermissionDenied
    data = selectors.path_analytics(path=path, scope=scope)
    labels = [w for w, _e, _c in data["weeks"]]
    return render(
        request,
        "analytics/path.html",
        {
            "path": path,
            "scope": scope,
            **data,
            "steps_chart": charts.bar_chart(
                _("Learners who completed each course"), [(s.course.code, s.completed) for s in data["steps"]]
            ),
            "weeks_chart": charts.line_chart(
                _("Course enrollments and completions in the path, cumulative"),
                labels,
                [
                    (_("Enrolled"), [e for _w, e, _c in data["weeks"]]),
                    (_("Completed"), [c for _w, _e, c in data["weeks"]]),
                ],
            ),
        },
    )

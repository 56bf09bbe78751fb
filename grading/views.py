from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.decorators import require_verified_2fa
from assessment import kinds
from courses import selectors as course_selectors
from courses.models import Assignment
from kernel.errors import ApplicationError

from . import attempts, selectors, services
from .forms import ReviewForm

# htmx: 204 swaps nothing; 286 swaps the content and stops the polling.
NOTHING_NEW, FINAL = 204, 286


def _form_error(form, exc: ApplicationError) -> None:
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)


@login_required
def assignment_detail(request, code: str, pk: int):
    """The assignment page (courses:assignment): its prompt, the answer form for its kind, and this
    learner's attempts. A learner without access to the course is sent to the course's page."""
    course = course_selectors.course_get_by_code(code=code)
    if course is None:
        raise Http404
    assignment = get_object_or_404(Assignment.objects.select_related("current_version"), pk=pk, course=course)
    if not course_selectors.can_access_course(user=request.user, course=course):
        messages.error(request, _("Enroll in this course, and complete its required prerequisites, to open it."))
        return redirect("courses:detail", code=course.code)
    version = assignment.current_version
    if version is None:
        raise Http404
    kind = kinds.find(assignment.kind)
    learner_attempts = selectors.submission_list_for_learner(user=request.user, assignment=assignment)
    # The questions of the learner's next attempt: the same on every reload until it is sent.
    next_attempt = learner_attempts[0].attempt + 1 if learner_attempts else 1
    spec = attempts.attempt_spec(kind=assignment.kind, version=version, user_id=request.user.pk, attempt=next_attempt)
    form = kind.learner_form(request.POST or None, spec=spec) if kind else None
    public_run = None
    if request.method == "POST" and form is not None and form.is_valid():
        if request.POST.get("run_public") and assignment.kind == Assignment.Kind.CODE:
            try:  # the public tests only: no attempt spent, nothing saved; the code stays in the form
                public_run = services.public_tests_run(user=request.user, assignment=assignment, answer=form.answer())
            except ApplicationError as exc:
                _form_error(form, exc)
        else:
            try:
                submission = services.submission_create(user=request.user, assignment=assignment, answer=form.answer())
            except ApplicationError as exc:
                _form_error(form, exc)
            else:
                return redirect("grading:submission", pk=submission.pk)
    context = {
        "course": course,
        "assignment": assignment,
        "version": version,
        "public": kinds.public_spec(assignment.kind, spec),
        "form": form,
        "is_course_staff": course_selectors.is_course_staff(user=request.user, course=course),
        "attempts": learner_attempts,
        "public_run": public_run,
        "can_run_public": assignment.kind == Assignment.Kind.CODE,
        "grading_waits": selectors.code_grading_waits(kind=assignment.kind),
        # Files and unlocked hints: templates/assessment/_flag_extras.html.
        "flag_extras": selectors.flag_extras(spec=version.spec, attempts=learner_attempts)
        if assignment.kind == Assignment.Kind.FLAG
        else None,
    }
    return render(
        request, "grading/assignment_detail.html", context, status=400 if form is not None and form.errors else 200
    )


@login_required
def submission_detail(request, pk: int):
    submission = selectors.submission_get_for_reader(user=request.user, pk=pk)
    if submission is None:
        raise Http404
    is_staff = course_selectors.is_course_staff(user=request.user, course=submission.assignment.course)
    if request.headers.get("HX-Request"):
        return _status_fragment(request, submission)
    return render(request, "grading/submission_detail.html", _status_context(submission, is_course_staff=is_staff))


def _feedback_questions(submission, result=None) -> list:
    """A graded quiz's feedback per question, each with the prompt of the question this attempt
    answered (its drawn and shuffled questions, in the order the learner saw them), the learner's
    answer in words and, when the assignment's policy reveals it (`result.reveal`), the right one."""
    items = (submission.feedback or {}).get("questions") if submission.status == submission.Status.GRADED else None
    if not items:
        return []
    spec = attempts.submission_spec(submission)
    prompts = {q.get("id"): q.get("prompt", "") for q in spec.get("questions", [])}
    reviewed = kinds.answer_review(submission.assignment.kind, spec, submission.answer,
                                   reveal=bool(result and result.reveal))  # fmt: skip
    return [
        {**item, "prompt": prompts.get(item.get("id"), ""), **reviewed.get(item.get("id"), {})}
        for item in items
        if isinstance(item, dict)
    ]


def _status_context(submission, **more) -> dict:
    result = selectors.attempt_result(submission=submission)
    return {"submission": submission, "attempt_result": result,
            "feedback_questions": _feedback_questions(submission, result),
            "grading_waits": selectors.code_grading_waits(kind=submission.assignment.kind, submission=submission),
            **more}  # fmt: skip


@login_required
def submission_status_fragment(request, pk: int):
    submission = selectors.submission_get_for_reader(user=request.user, pk=pk)
    if submission is None:
        raise Http404
    return _status_fragment(request, submission)


def _status_fragment(request, submission):
    """The poll's answer: nothing while the submission is being graded (the live region stays as it
    is, so nothing is announced), then its final content once, which the live region announces."""
    if not submission.is_final:
        return HttpResponse(status=NOTHING_NEW)
    return render(request, "grading/_submission_status.html", _status_context(submission), status=FINAL)


@login_required
@require_verified_2fa
@require_POST
def submission_retry(request, pk: int):
    submission = selectors.submission_get(user=request.user, pk=pk)
    if submission is None:
        raise Http404
    try:
        services.submission_retry(user=request.user, submission=submission)
        messages.success(request, _("The submission is queued for grading again."))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("grading:submission", pk=pk)


@login_required
@require_POST
def regrade_start(request):
    """Regrade one submission (`submission`) or every submission of an assignment's current
    version (`assignment`). Redirects to the job's progress page."""
    submission = None
    if request.POST.get("submission"):
        submission = selectors.submission_get(user=request.user, pk=_int(request.POST["submission"]))
        if submission is None:
            raise Http404
        assignment = submission.assignment
    else:
        assignment = get_object_or_404(
            Assignment.objects.select_related("course"), pk=_int(request.POST.get("assignment"))
        )
    try:
        job = services.regrade_start(user=request.user, assignment=assignment, submission=submission)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        if submission is not None:
            return redirect("grading:submission", pk=submission.pk)
        return redirect("courses:assignment", code=assignment.course.code, pk=assignment.pk)
    return redirect("grading:regrade", pk=job.pk)


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404 from None


@login_required
def regrade_detail(request, pk: int):
    job = selectors.regrade_job_get(user=request.user, pk=pk)
    if job is None:
        raise Http404
    if request.headers.get("HX-Request"):
        # The progress, and the live status only when it differs from the one the page shows.
        context = {"job": job, "state_changed": request.GET.get("seen") != job.status}
        status = FINAL if job.status == job.Status.DONE else 200
        return render(request, "grading/_regrade_progress.html", context, status=status)
    return render(request, "grading/regrade_detail.html", {"job": job})


@login_required
def review_queue(request):
    return render(
        request, "grading/review_queue.html", {"submissions": selectors.review_queue_for_reader(user=request.user)}
    )


@login_required
def review_detail(request, pk: int):
    submission = selectors.review_get_for_reader(user=request.user, pk=pk)
    if submission is None:
        raise Http404
    form = ReviewForm(request.POST or None, spec=submission.version.spec)
    if request.method == "POST" and form.is_valid():
        try:
            services.submission_review(
                reviewer=request.user,
                submission=submission,
                levels=form.levels(),
                feedback=form.cleaned_data["feedback"],
            )
        except ApplicationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Review saved."))
            return redirect("grading:review-queue")
    return render(
        request,
        "grading/review_detail.html",
        {"submission": submission, "form": form},
        status=400 if form.errors else 200,
    )

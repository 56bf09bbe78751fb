from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render

from config.errors import ApplicationError

from . import selectors, services
from .forms import QuizForm


def assignment_submit_view(request, *, course, assignment):
    """The assignment page: its prompt, the answer form, and this learner's attempts."""
    version = assignment.current_version
    if version is None:
        raise Http404
    form = QuizForm(request.POST or None, spec=version.spec) if assignment.kind == "quiz" else None
    if request.method == "POST" and form is not None and form.is_valid():
        try:
            submission = services.submission_create(user=request.user, assignment=assignment, answer=form.answer())
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("grading:submission", pk=submission.pk)
    context = {
        "course": course,
        "assignment": assignment,
        "version": version,
        "form": form,
        "attempts": selectors.submission_list_for_learner(user=request.user, assignment=assignment),
    }
    return render(
        request, "grading/assignment_detail.html", context, status=400 if form is not None and form.errors else 200
    )


@login_required
def submission_detail(request, pk: int):
    submission = selectors.submission_get(user=request.user, pk=pk)
    if submission is None:
        raise Http404
    if submission.user_id != request.user.pk and not request.headers.get("HX-Request"):
        # Staff and instructors reading a learner's work are audited (accounts, issue 6).
        from accounts.models import AuditEntry
        from accounts.services import audit_record

        audit_record(
            actor=request.user, action=AuditEntry.Action.SUBMISSION_VIEW, subject_user=submission.user, obj=submission
        )
    template = (
        "grading/_submission_status.html" if request.headers.get("HX-Request") else "grading/submission_detail.html"
    )
    return render(request, template, {"submission": submission})


@login_required
def submission_status_fragment(request, pk: int):
    submission = selectors.submission_get(user=request.user, pk=pk)
    if submission is None:
        raise Http404
    return render(request, "grading/_submission_status.html", {"submission": submission})

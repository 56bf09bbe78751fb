"""Gradebook and analytics: reading where learners stand, and the two writes instructors make
here: grade overrides (audited, kept in the grade history, sent to universities) and exports
built in the background."""

from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import AuditEntry
from accounts.services import audit_reads
from courses.models import Assignment, Course, Enrollment
from grading.models import GradeRecord, Submission
from grading.services import grade_record
from kernel.errors import ApplicationError, PermissionDenied
from kernel.events import event_record
from kernel.tasks import enqueue_on_commit, resend_stale

from . import exports, gradebook
from .models import ExportJob, GradeOverride
from .permissions import course_scope


class OverrideRefused(ApplicationError):
    pass


class ExportRefused(ApplicationError):
    pass


def grade_override(*, actor, course: Course, learner, assignment: Assignment, score, reason: str) -> GradeOverride:
    """Set a learner's grade on an assignment by hand, with a reason. Stores a GradeOverride
    (the audit record); when the learner has a submission (the latest attempt), records the
    grade on it through grading's one grade writer (GradeRecord(source=override), the
    submission.graded event with source "override", the learner's notification, completion and
    its certificate); without one, writes the submission.graded outbox event alone."""
    scope = course_scope(user=actor, course=course)
    if scope is None or not scope.can_override:
        raise PermissionDenied(_("Only the course's instructors may change grades."))
    if assignment.course_id != course.pk:
        raise OverrideRefused(_("This assignment is not part of this course."), field="assignment")
    if not Enrollment.objects.filter(course=course, user=learner).exists():
        raise OverrideRefused(_("This learner is not enrolled in this course."), field="learner")
    try:
        score = Decimal(str(score)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise OverrideRefused(_("Enter a number."), field="score") from None
    if not score.is_finite() or score < 0 or score > assignment.points:
        raise OverrideRefused(
            _("The score must be between 0 and %(max)s.") % {"max": assignment.points.normalize()}, field="score"
        )
    reason = (reason or "").strip()
    if not reason:
        raise OverrideRefused(_("Say why you are changing this grade."), field="reason")

    with transaction.atomic():
        sub = (
            Submission.objects.select_for_update(of=("self",))
            .select_related("assignment__course", "user")
            .filter(user=learner, assignment=assignment)
            .order_by("-attempt")
            .first()
        )
        override = GradeOverride.objects.create(
            user=learner,
            assignment=assignment,
            submission=sub,
            score=score,
            max_score=assignment.points,
            reason=reason,
            actor=actor,
        )
        extra = {"source": "override", "override_id": override.pk}
        if sub is not None:
            # A grade like any other: history, event, the learner told, completion, certificate.
            grade_record(
                sub, source=GradeRecord.Source.OVERRIDE, score=score, graded_by=actor, reason=reason, outbox_extra=extra
            )
        else:
            # Nothing was submitted: the university still hears of the grade (no completion: the
            # course is completed by submissions).
            event_record(
                event_type="submission.graded",
                user=learner,
                payload={
                    "submission_id": None,
                    "assignment_id": assignment.pk,
                    "course_code": course.code,
                    "score": str(score),
                    "max_score": str(assignment.points),
                    "graded_at": timezone.now().isoformat(),
                    **extra,
                },
            )
    return override


def export_job_create(*, user, course: Course, fmt: str, filters: gradebook.Filters) -> ExportJob:
    """Queue a gradebook export for a worker (analytics.export_build) after commit."""
    from . import tasks  # analytics.tasks imports these services

    if course_scope(user=user, course=course) is None:
        raise PermissionDenied(_("You may not export this gradebook."))
    if fmt not in ExportJob.Format.values:
        raise ExportRefused(_("Choose CSV or XLSX."), field="format")
    with transaction.atomic():
        job = ExportJob.objects.create(course=course, requested_by=user, format=fmt, filters=filters.as_dict())
        enqueue_on_commit(tasks.export_build, job.pk)
    return job


def export_jobs_resend() -> int:
    """Send again the exports still pending KERNEL_RESEND_AFTER_SECONDS after they were asked
    for (their message was lost: the broker was down). A job runs once however often it is sent
    (export_job_run). Registered with kernel's re-send sweep in AnalyticsConfig.ready()."""
    from . import tasks  # analytics.tasks imports these services

    return resend_stale(
        ExportJob.objects.filter(status=ExportJob.Status.PENDING), asked_at="created_at", task=tasks.export_build
    )


def export_path(job: ExportJob) -> Path:
    return Path(settings.ANALYTICS_EXPORT_DIR) / f"gradebook-{job.pk}.{job.format}"


def export_job_run(*, job_id: int) -> ExportJob | None:
    """Build an export file, recording progress as it goes. Runs once: a job already taken by
    another worker (redelivery) is left alone."""
    taken = ExportJob.objects.filter(pk=job_id, status=ExportJob.Status.PENDING).update(status=ExportJob.Status.RUNNING)
    if not taken:
        return None
    job = ExportJob.objects.select_related("course", "requested_by").get(pk=job_id)
    scope = course_scope(user=job.requested_by, course=job.course)
    if scope is None:
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportJob.Status.FAILED, error="requester lost access", finished_at=timezone.now()
        )
        return job
    filters = gradebook.Filters.from_dict(job.filters)
    total = gradebook.enrollments(course=job.course, scope=scope, filters=filters).count()
    ExportJob.objects.filter(pk=job.pk).update(rows_total=total)

    def progress(n: int) -> None:
        ExportJob.objects.filter(pk=job.pk).update(rows_done=n)

    path = export_path(job)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(path.suffix + ".part")
    try:
        rows = gradebook.export_rows(
            course=job.course, scope=scope, filters=filters,
            on_learners=lambda ids: audit_reads(actor=job.requested_by, action=AuditEntry.Action.GRADES_EXPORT,
                                                subjects=ids, obj=job.course),
        )  # fmt: skip
        if job.format == ExportJob.Format.CSV:
            with open(partial, "w", newline="", encoding="utf-8") as f:
                done = exports.write_csv(rows, f, progress)
        else:
            done = exports.write_xlsx(rows, str(partial), progress)
        partial.replace(path)
    except Exception as exc:
        partial.unlink(missing_ok=True)
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportJob.Status.FAILED, error=f"{exc.__class__.__name__}: {exc}", finished_at=timezone.now()
        )
        raise
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportJob.Status.DONE, rows_done=done, file_name=path.name, finished_at=timezone.now()
    )
    job.refresh_from_db()
    return job

"""Importing a course archive from the authoring page, in two steps. The upload is read and
checked, and what the import would change is shown (archive.archive_changes); the archive waits
server-side in a CourseImportJob (AWAITING, its requester's only, for CONFIRM_WITHIN) until its
requester confirms; only then is it imported, once. A small archive is checked and imported during
the requests; a big one (inflating past COURSE_IMPORT_SYNC_MAX_BYTES) is checked, then imported, by
a worker (task courses.course_import, queue events) while the page polls its progress, so a web
request never parses a big archive. Every size limit is checked before that decision, by inflating
the archive without parsing it (archive.archive_scan)."""

import math
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kernel.errors import ApplicationError, NotFound, PermissionDenied
from kernel.tasks import enqueue_on_commit

from . import archive, permissions
from .models import CourseImportJob


class ImportRefused(ApplicationError):
    pass


def _refuse_unless_author(user) -> None:
    if not permissions.can_author(user=user):
        raise PermissionDenied(_("Only instructors and staff may import courses."))


def course_import_check(*, user, data: bytes, file_name: str = "", update: bool = False) -> CourseImportJob:
    """Check an uploaded archive and keep it for its confirmation. A small one is read now: the
    job is AWAITING with its summary of changes, or nothing is written and the ArchiveError (or
    PermissionDenied) is raised. A big one becomes a CHECKING job a worker reads after commit.
    The user's earlier uploads still awaiting confirmation are dropped (this one replaces them),
    and anyone's expired ones lose their archive.
    Raises ArchiveError for an archive over a limit, and ImportRefused while this user already has
    an import being checked, waiting or running."""
    _refuse_unless_author(user)
    scan = archive.archive_scan(data)
    small = scan.inflated_bytes <= settings.COURSE_IMPORT_SYNC_MAX_BYTES
    summary = {}
    if small:
        summary = archive.archive_changes(parsed=archive.archive_read(data), user=user, update=update)
        summary["inflated_bytes"] = scan.inflated_bytes
    from . import tasks  # courses.tasks imports this module

    with transaction.atomic():
        # One at a time per person: the lock makes two simultaneous uploads queue one job.
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        if not small:
            active = CourseImportJob.objects.filter(
                requested_by=user,
                status__in=CourseImportJob.ACTIVE,
                created_at__gte=timezone.now() - CourseImportJob.STALE_AFTER,
            )
            if active.exists():
                message = _("You already have an import in progress; wait until it ends.")
                raise ImportRefused(message, field="archive")
        CourseImportJob.objects.filter(requested_by=user, status=CourseImportJob.Status.AWAITING).delete()
        # Uploads nobody confirmed in time hold their archive no longer (no sweeper needed).
        CourseImportJob.objects.filter(
            status=CourseImportJob.Status.AWAITING, created_at__lt=timezone.now() - CourseImportJob.CONFIRM_WITHIN
        ).exclude(archive=b"").update(archive=b"")
        job = CourseImportJob.objects.create(
            requested_by=user,
            file_name=file_name[:255],
            update=update,
            archive=data,
            status=CourseImportJob.Status.AWAITING if small else CourseImportJob.Status.CHECKING,
            summary=summary,
        )
        if not small:
            enqueue_on_commit(tasks.course_import, job.pk)
    return job


def course_import_confirm(*, user, job_id: int) -> CourseImportJob:
    """Confirm an upload awaiting confirmation: import it now if it is small (the job is DONE or
    FAILED when this returns), else queue it for a worker after commit (PENDING). Confirming
    twice imports once: the second is refused with ImportRefused, as is an expired upload. A job
    that is not the user's is not found (NotFound)."""
    _refuse_unless_author(user)
    job = CourseImportJob.objects.filter(pk=job_id, requested_by=user).only("pk", "summary").first()
    if job is None:
        raise NotFound(_("No such import."))
    from . import tasks  # courses.tasks imports this module

    with transaction.atomic():
        # The conditional update is the guard: of two confirmations, one changes the row.
        confirmed = CourseImportJob.objects.filter(
            pk=job.pk,
            status=CourseImportJob.Status.AWAITING,
            created_at__gte=timezone.now() - CourseImportJob.CONFIRM_WITHIN,
        ).update(status=CourseImportJob.Status.PENDING)
        if not confirmed:
            raise ImportRefused(_("This import was already confirmed, or it expired: upload the archive again."))
        small = job.summary.get("inflated_bytes", math.inf) <= settings.COURSE_IMPORT_SYNC_MAX_BYTES
        if not small:
            enqueue_on_commit(tasks.course_import, job.pk)
    if small:
        course_import_job_run(job_id=job.pk)
    job.refresh_from_db()
    return job


def _stale_before():
    """A job still running after its task's hard time limit lost its worker: run it again (its
    writes were one transaction, so nothing of it landed)."""
    from .tasks import course_import

    return timezone.now() - timedelta(seconds=course_import.time_limit)


def course_import_job_check(*, job_id: int) -> CourseImportJob | None:
    """Read and check a big upload (recording progress), then leave it AWAITING its requester's
    confirmation with what it would change, or FAILED with the errors (and the archive dropped).
    Runs once, like the import."""
    claimable = Q(started_at__isnull=True) | Q(started_at__lt=_stale_before())
    taken = (
        CourseImportJob.objects.filter(claimable, pk=job_id, status=CourseImportJob.Status.CHECKING)
        .update(started_at=timezone.now(), steps_done=0, steps_total=0)
    )  # fmt: skip
    if not taken:
        return None
    job = CourseImportJob.objects.select_related("requested_by").get(pk=job_id)

    def progress(done: int, total: int) -> None:
        CourseImportJob.objects.filter(pk=job.pk).update(steps_done=done, steps_total=total)

    with translation.override(job.requested_by.get_language()):
        try:
            data = bytes(job.archive)
            parsed = archive.archive_read(data, progress=progress)
            summary = archive.archive_changes(parsed=parsed, user=job.requested_by, update=job.update)
            summary["inflated_bytes"] = archive.archive_scan(data).inflated_bytes
        except ApplicationError as exc:
            CourseImportJob.objects.filter(pk=job.pk).update(
                status=CourseImportJob.Status.FAILED, errors=[exc.message], archive=b"", finished_at=timezone.now()
            )
        except Exception:
            CourseImportJob.objects.filter(pk=job.pk).update(
                status=CourseImportJob.Status.FAILED,
                errors=[_("The check failed unexpectedly; nothing was changed. Ask an administrator.")],
                archive=b"",
                finished_at=timezone.now(),
            )
            raise
        else:
            # The import, once confirmed, counts its own steps.
            CourseImportJob.objects.filter(pk=job.pk).update(
                status=CourseImportJob.Status.AWAITING, summary=summary, started_at=None, steps_done=0, steps_total=0
            )
    job.refresh_from_db()
    return job


def course_import_job_run(*, job_id: int) -> CourseImportJob | None:
    """Run a queued job: check a CHECKING one (course_import_job_check), else import it,
    recording progress as it reads the archive, then the course or the errors. Runs once: a job
    another worker holds (a redelivered message) is left alone."""
    if CourseImportJob.objects.filter(pk=job_id, status=CourseImportJob.Status.CHECKING).exists():
        return course_import_job_check(job_id=job_id)
    claimable = Q(status=CourseImportJob.Status.PENDING) | Q(
        status=CourseImportJob.Status.RUNNING, started_at__lt=_stale_before()
    )
    taken = CourseImportJob.objects.filter(claimable, pk=job_id).update(
        status=CourseImportJob.Status.RUNNING, started_at=timezone.now(), steps_done=0, steps_total=0
    )
    if not taken:
        return None
    job = CourseImportJob.objects.select_related("requested_by").get(pk=job_id)

    def progress(done: int, total: int) -> None:
        CourseImportJob.objects.filter(pk=job.pk).update(steps_done=done, steps_total=total)

    def finish(**fields) -> None:
        CourseImportJob.objects.filter(pk=job.pk).update(archive=b"", finished_at=timezone.now(), **fields)

    # Messages are written in the language of the person who will read them.
    with translation.override(job.requested_by.get_language()):
        try:
            outcome = archive.archive_import(
                data=bytes(job.archive), user=job.requested_by, update=job.update, progress=progress
            )
        except ApplicationError as exc:
            finish(status=CourseImportJob.Status.FAILED, errors=[exc.message])
        except Exception:
            finish(
                status=CourseImportJob.Status.FAILED,
                errors=[_("The import failed unexpectedly; nothing was changed. Ask an administrator.")],
            )
            raise
        else:
            finish(status=CourseImportJob.Status.DONE, course=outcome.course, kept=outcome.kept)
    job.refresh_from_db()
    return job

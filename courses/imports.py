"""Importing a course archive from the authoring page. A small archive is imported during the
request; a big one (inflating past COURSE_IMPORT_SYNC_MAX_BYTES) becomes a CourseImportJob that a
worker runs (task courses.course_import, queue events) while the page polls its progress, so a
web request never parses a big archive. Every size limit is checked before that decision, by
inflating the archive without parsing it (archive.archive_scan)."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kernel.errors import ApplicationError, PermissionDenied
from kernel.tasks import enqueue_on_commit

from . import archive, permissions
from .models import CourseImportJob


class ImportRefused(ApplicationError):
    pass


def course_import_start(
    *, user, data: bytes, file_name: str = "", update: bool = False
) -> archive.ImportOutcome | CourseImportJob:
    """Import an archive now if it is small (returns the ImportOutcome), else queue a job for a
    worker after commit (returns the job). Raises ArchiveError for an archive over a limit, and
    ImportRefused while this user already has an import waiting or running."""
    if not permissions.can_author(user=user):
        raise PermissionDenied(_("Only instructors and staff may import courses."))
    summary = archive.archive_scan(data)
    if summary.inflated_bytes <= settings.COURSE_IMPORT_SYNC_MAX_BYTES:
        return archive.archive_import(data=data, user=user, update=update)
    from . import tasks  # courses.tasks imports this module

    with transaction.atomic():
        # One at a time per person: the lock makes two simultaneous uploads queue one job.
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        active = CourseImportJob.objects.filter(
            requested_by=user,
            status__in=[CourseImportJob.Status.PENDING, CourseImportJob.Status.RUNNING],
            created_at__gte=timezone.now() - CourseImportJob.STALE_AFTER,
        )
        if active.exists():
            raise ImportRefused(_("You already have an import in progress; wait until it ends."), field="archive")
        job = CourseImportJob.objects.create(requested_by=user, file_name=file_name[:255], update=update, archive=data)
        enqueue_on_commit(tasks.course_import, job.pk)
    return job


def _stale_before():
    """A job still running after its task's hard time limit lost its worker: run it again (its
    writes were one transaction, so nothing of it landed)."""
    from .tasks import course_import

    return timezone.now() - timedelta(seconds=course_import.time_limit)


def course_import_job_run(*, job_id: int) -> CourseImportJob | None:
    """Run a queued import, recording progress as it reads the archive, then the course or the
    errors. Runs once: a job another worker holds (a redelivered message) is left alone."""
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

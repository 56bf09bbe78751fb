"""OneRoster imports as background jobs (the API's path for big packages, or when asked): the
upload is stored in a OneRosterImportJob row and a worker runs it (task
integrations.oneroster_import, queue events), recording its progress, its result and its errors;
the university polls GET /api/v1/oneroster/imports/<id>.

A job runs once: the worker claims it under a row lock (QUEUED -> RUNNING) and a redelivered
message finds it RUNNING, or finished, and leaves it alone. A job RUNNING for longer than the
task's time limit lost its worker and may be claimed again (the import is one transaction: a
lost worker changed nothing)."""

import io
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kernel.errors import ApplicationError, NotFound

from ..models import ApiClient, OneRosterImportJob
from . import oneroster

# The task's hard time limit (tasks.py); a job RUNNING longer than this lost its worker.
TIME_LIMIT = 1500
DETAILS_PAGE = 100


def oneroster_job_create(
    *, client: ApiClient, data: bytes, file_name: str = "", dry_run: bool = False, force: bool = False
) -> OneRosterImportJob:
    """Store an upload as a QUEUED job (the caller enqueues it after the commit)."""
    if len(data) > settings.ONEROSTER_MAX_UPLOAD_BYTES:
        oneroster.read_package(io.BytesIO(), size=len(data))  # refuses it (PackageTooLarge), as inline
    return OneRosterImportJob.objects.create(
        organization=client.organization,
        client=client,
        file_name=file_name[:255],
        package=data,
        dry_run=dry_run,
        force=force,
        progress={"step": "queued"},
    )


def _claim(job_id: int) -> OneRosterImportJob | None:
    stale = timezone.now() - timedelta(seconds=TIME_LIMIT)
    with transaction.atomic():
        job = OneRosterImportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None:
            return None
        stuck = job.status == OneRosterImportJob.Status.RUNNING and job.started_at and job.started_at < stale
        if job.status != OneRosterImportJob.Status.QUEUED and not stuck:
            return None
        job.status, job.started_at = OneRosterImportJob.Status.RUNNING, timezone.now()
        job.progress = {"step": "reading"}
        job.save(update_fields=["status", "started_at", "progress"])
    return job


def oneroster_job_run(*, job_id: int) -> OneRosterImportJob | None:
    """Run a queued job once (see the module docstring). Returns it, or None when another run
    holds or finished it."""
    job = _claim(job_id)
    if job is None:
        return None

    def progress(step: str, **counts) -> None:
        # Steps past "storing" run inside the import's transaction: the row shows them at its end.
        OneRosterImportJob.objects.filter(pk=job.pk).update(progress={"step": step, **counts})

    def finish(status: str, **fields) -> None:
        OneRosterImportJob.objects.filter(pk=job.pk).update(
            status=status, package=b"", finished_at=timezone.now(), **fields
        )

    data = bytes(job.package)
    try:
        result = oneroster.oneroster_import(
            organization=job.organization,
            fileobj=io.BytesIO(data),
            size=len(data),
            client=job.client,
            dry_run=job.dry_run,
            force=job.force,
            endpoint="oneroster/imports",
            progress=progress,
        )
    except ApplicationError as exc:
        details = exc.extra.get("details") or [
            {"field": exc.field, "code": exc.extra.get("code", "invalid"), "message": exc.message}
        ]
        finish(
            OneRosterImportJob.Status.REFUSED,
            result={"code": exc.extra.get("code", "invalid"), "message": exc.message},
            errors=details,
            errors_total=exc.extra.get("errors_total", len(details)),
            progress={"step": "refused"},
        )
    except Exception:
        finish(
            OneRosterImportJob.Status.FAILED,
            result={"code": "failed", "message": _("The import failed unexpectedly; nothing was changed.")},
            progress={"step": "failed"},
        )
        raise
    else:
        finish(OneRosterImportJob.Status.SUCCEEDED, result=result, progress={"step": "done", **_done(result)})
    job.refresh_from_db()
    return job


def _done(result: dict) -> dict:
    roster = result.get("oneroster", {}).get("roster", {})
    return {"records": {name: sum(c.values()) for name, c in roster.items()}}


def oneroster_job_get(*, client: ApiClient, job_id: int) -> OneRosterImportJob:
    """A job of the client's university (another university's is not found)."""
    job = OneRosterImportJob.objects.filter(pk=job_id, organization_id=client.organization_id).first()
    if job is None:
        raise NotFound(_("No import has this id."), extra={"code": "not_found"})
    return job

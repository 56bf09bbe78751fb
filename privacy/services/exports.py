"""A learner's export: a zip of JSON and CSV files of everything the platform holds about them,
each app giving its own sections (privacy.hooks), built by a worker, downloadable for a while."""

import io
import json
import uuid
import zipfile
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.services import send_email
from kernel.csvsafe import safe_dict_writer
from kernel.sites import absolute_url
from kernel.tasks import enqueue_on_commit, resend_stale

from ..hooks import export_collect
from ..models import DataExport


def export_request(*, user) -> DataExport:
    """Ask for a data export. While one is being prepared, asking again returns it instead of
    starting another (a partial unique constraint backs this under concurrency)."""
    from ..tasks import export_build_task  # same app: privacy.tasks imports these services

    try:
        with transaction.atomic():
            export = DataExport.objects.create(user=user)
            enqueue_on_commit(export_build_task, export.pk)
    except IntegrityError:
        export = DataExport.objects.get(user=user, status=DataExport.Status.PENDING)
    return export


def exports_resend() -> int:
    """Send again the data exports still pending KERNEL_RESEND_AFTER_SECONDS after they were asked
    for (their message was lost: the broker was down). An export is built once however often it
    is sent (export_build). Registered with kernel's re-send sweep in PrivacyConfig.ready()."""
    from ..tasks import export_build_task  # same app: privacy.tasks imports these services

    return resend_stale(
        DataExport.objects.filter(status=DataExport.Status.PENDING), asked_at="requested_at", task=export_build_task
    )


def export_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _rows_to_csv(rows: list[dict]) -> str:
    """Rows as CSV; a text cell that starts like a formula is quoted (kernel.csvsafe)."""
    out = io.StringIO()
    if rows:
        writer = safe_dict_writer(out, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {k: json.dumps(v, cls=DjangoJSONEncoder) if isinstance(v, dict | list) else v for k, v in row.items()}
            )
    return out.getvalue()


def export_sections(*, user) -> dict[str, list[dict]]:
    """Everything the platform holds about the user, as named lists of rows (each app's part)."""
    return export_collect(user=user)


def export_build(*, export_id: int) -> DataExport | None:
    """Build the zip of an export still pending (JSON and CSV per section) and mark it ready.
    A redelivered task finds it no longer pending and does nothing."""
    with transaction.atomic():
        export = DataExport.objects.select_for_update().select_related("user").filter(pk=export_id).first()
        if export is None or export.status != DataExport.Status.PENDING:
            return export
        sections = export_sections(user=export.user)
        path = export_dir() / f"{uuid.uuid4().hex}.zip"
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("README.txt", _("Everything Kafaat holds about you, as JSON and CSV.") + "\n")
            for name, rows in sections.items():
                zf.writestr(f"{name}.json", json.dumps(rows, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2))
                zf.writestr(f"{name}.csv", _rows_to_csv(rows))
        now = timezone.now()
        export.status = DataExport.Status.READY
        export.file_path = path.name
        export.ready_at = now
        export.expires_at = now + timedelta(hours=settings.KAFAAT_EXPORT_TTL_HOURS)
        export.save(update_fields=["status", "file_path", "ready_at", "expires_at"])
    send_email(user=export.user, template="export_ready", folder="privacy/email",
               context={"url": absolute_url(reverse("accounts:privacy"))})  # fmt: skip
    return export


def export_file(*, export: DataExport) -> Path | None:
    if export.status != DataExport.Status.READY or export.expires_at <= timezone.now() or not export.file_path:
        return None
    path = export_dir() / Path(export.file_path).name
    return path if path.exists() else None


@transaction.atomic
def exports_expire() -> int:
    """Delete export files past their time and mark them expired."""
    due = list(
        DataExport.objects.select_for_update(skip_locked=True).filter(
            status=DataExport.Status.READY, expires_at__lte=timezone.now()
        )
    )
    for export in due:
        (export_dir() / Path(export.file_path).name).unlink(missing_ok=True)
        export.status = DataExport.Status.EXPIRED
        export.file_path = ""
        export.save(update_fields=["status", "file_path"])
    return len(due)


def exports_drop(*, user) -> None:
    """Delete the user's exports, files and rows (part of an erasure)."""
    for export in DataExport.objects.filter(user=user).exclude(file_path=""):
        (export_dir() / Path(export.file_path).name).unlink(missing_ok=True)
    DataExport.objects.filter(user=user).delete()

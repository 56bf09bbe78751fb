"""Rows written before codes existed: regrade reasons stored as translated text ("Nouvelle
notation n° 7", "Regrade #7"...) become reason_code="regrade" with {"job": 7}; failure messages
stored as translated text become {"code": "grading_failed"} with the failure_code
"grader_error"; queued and running rows get a lease that is due now, so the first sweep
takes them. Texts that match no language are kept and shown as written."""

import re

from django.db import migrations
from django.utils import timezone

# The texts as the catalogs rendered them when these rows were written (the catalogs move on, so
# they are written out here rather than looked up).
LEGACY_REGRADE = ["Regrade #%(n)d", "Nouvelle notation n° %(n)d", "إعادة التقييم رقم %(n)d"]
LEGACY_FAILED = [
    "This submission could not be graded. Staff have been told.",
    "Cette soumission n'a pas pu être notée. L'équipe a été prévenue.",
    "تعذّر تقييم هذا الإرسال. تمّ إبلاغ الطاقم.",
]


def forwards(apps, schema_editor):
    GradeRecord = apps.get_model("grading", "GradeRecord")
    Submission = apps.get_model("grading", "Submission")
    patterns = [
        re.compile("^" + re.escape(text).replace(re.escape("%(n)d"), r"(\d+)") + "$") for text in LEGACY_REGRADE
    ]
    for record in GradeRecord.objects.filter(source="regrade", reason_code="").exclude(reason="").iterator():
        for pattern in patterns:
            match = pattern.match(record.reason.strip())
            if match:
                record.reason_code, record.reason_params, record.reason = "regrade", {"job": int(match[1])}, ""
                record.save(update_fields=["reason_code", "reason_params", "reason"])
                break
    failed = set(LEGACY_FAILED)
    for sub in Submission.objects.filter(status="failed", failure_code="").iterator():
        message = (sub.feedback or {}).get("message") if isinstance(sub.feedback, dict) else None
        if message in failed:
            sub.feedback, sub.failure_code = {"code": "grading_failed"}, "grader_error"
            sub.save(update_fields=["feedback", "failure_code"])
    Submission.objects.filter(status__in=["queued", "running"], lease_expires_at__isnull=True).update(
        lease_expires_at=timezone.now()
    )


class Migration(migrations.Migration):
    dependencies = [("grading", "0003_leases_regrade_items_reason_codes")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]

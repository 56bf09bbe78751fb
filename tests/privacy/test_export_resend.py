"""A data export (privacy) asked for while the broker is down is delayed, not lost: kernel's re-send sweep
sends it again once the broker is back, and a worker builds it."""

import subprocess
import sys
from datetime import timedelta

import pytest
from django.utils import timezone

from kernel.tasks import resend_pending
from privacy.models import DataExport
from tests.factories import UserFactory
from tests.processes import ROOT, base_env, free_port, wait_for
from tests.processes import test_database_url as database_url


@pytest.mark.worker
def test_an_export_asked_for_while_the_broker_is_down_is_sent_again_by_the_sweep(worker):
    learner = UserFactory()
    script = (
        "import django, sys; django.setup()\n"
        "from accounts.models import User; from privacy import services\n"
        "print(services.export_request(user=User.objects.get(pk=int(sys.argv[1]))).pk)\n"
    )
    env = base_env(
        DATABASE_URL=database_url(),
        DJANGO_SETTINGS_MODULE="config.settings.test",
        CELERY_BROKER_URL=f"redis://127.0.0.1:{free_port()}/0",  # a closed port
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, str(learner.pk)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    export = DataExport.objects.get(pk=int(proc.stdout.strip().splitlines()[-1]))
    assert export.status == DataExport.Status.PENDING
    assert resend_pending() == 0  # not overdue yet: its message may still be in the queue

    DataExport.objects.filter(pk=export.pk).update(requested_at=timezone.now() - timedelta(minutes=10))
    assert resend_pending() >= 1
    wait_for(
        lambda: DataExport.objects.filter(pk=export.pk, status="ready").exists(), timeout=90, message="export ready"
    )

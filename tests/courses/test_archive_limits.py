"""A course archive cannot take the site down: its inflated size is capped per entry and in all
while it inflates, each YAML document is bounded in size and in nodes before a parser spends
seconds on it, and a big archive is imported by a worker while its page shows the progress.
Pages are driven over HTTP (real multipart uploads), the command as the command."""

import io
import json
import struct
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.template.defaultfilters import filesizeformat
from django.urls import reverse

from courses import archive, imports
from courses.models import Assignment, Course, CourseImportJob, Lesson
from tests.badinput import _counts
from tests.factories import CourseFactory, LessonFactory, ModuleFactory, UserFactory, make_quiz
from tests.processes import wait_for
from tests.twofactor import login_with_2fa

COURSE_HEAD = "format: kafaat-course/1\ncode: big-1\ntitle: Big\nlanguage: en\nmodules:\n- title: M\n  lessons: []\n"


def _zip(files: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    return buf.getvalue()


def yaml_bomb() -> bytes:
    """The finding: a zip of tens of kilobytes holding 40 MB of YAML (ten million list items)."""
    return _zip({"course.yaml": COURSE_HEAD + "padding:\n" + "- a\n" * 10_000_000})


@pytest.fixture
def author(client, db):
    instructor = UserFactory()
    CourseFactory(code="taught-1").instructors.add(instructor)
    login_with_2fa(client, instructor)
    client.user = instructor
    return client


def _post(client, payload: bytes, name="c.zip", **fields):
    upload = SimpleUploadedFile(name, payload, content_type="application/zip")
    return client.post(reverse("courses:author-import"), {"archive": upload, **fields})


def _archive_error(response) -> str:
    assert response.status_code == 400, response.status_code
    return " ".join(response.context["import_form"].errors["archive"])


def test_forty_megabytes_of_yaml_are_refused_on_the_page_naming_the_entry_and_the_limit(author, settings):
    payload = yaml_bomb()
    assert len(payload) < 100_000
    before = _counts()
    response = _post(author, payload)
    error = _archive_error(response)
    assert "course.yaml" in error
    assert filesizeformat(settings.COURSE_ARCHIVE_MAX_ENTRY_BYTES) in error
    assert "course.yaml" in response.content.decode()
    assert _counts() == before
    assert not CourseImportJob.objects.exists()


def test_the_command_refuses_the_same_archive_naming_the_file(db, tmp_path, settings):
    target = tmp_path / "bomb.zip"
    target.write_bytes(yaml_bomb())
    with pytest.raises(CommandError) as exc:
        call_command("import_course", str(target))
    assert str(exc.value).startswith(f"{target}: course.yaml: ")
    assert filesizeformat(settings.COURSE_ARCHIVE_MAX_ENTRY_BYTES) in str(exc.value)
    assert not Course.objects.filter(code="big-1").exists()


def test_a_yaml_document_over_its_own_limit_is_refused_before_parsing(author, settings):
    settings.COURSE_ARCHIVE_MAX_YAML_BYTES = 64 * 1024
    payload = _zip({"course.yaml": COURSE_HEAD + "summary: |\n" + "  a line of summary text\n" * 4000})
    error = _archive_error(_post(author, payload))
    assert "course.yaml" in error and filesizeformat(64 * 1024) in error


def test_a_yaml_document_with_too_many_nodes_is_refused_naming_the_file_and_line(author, settings):
    settings.COURSE_ARCHIVE_MAX_YAML_NODES = 1000
    payload = _zip({"course.yaml": COURSE_HEAD + "padding: [" + "a, " * 5000 + "a]\n"})
    error = _archive_error(_post(author, payload))
    assert "course.yaml, line 8" in error and "1000" in error


def test_the_total_is_capped_while_inflating_and_names_the_entry_that_crossed_it(author, settings):
    settings.COURSE_ARCHIVE_MAX_TOTAL_BYTES = 100_000
    lessons = {f"modules/01-m/{i:02d}-l.md": "text " * 6000 for i in range(1, 6)}  # 30 KB each
    payload = _zip({"course.yaml": COURSE_HEAD, **lessons})
    error = _archive_error(_post(author, payload))
    assert "modules/01-m/04-l.md" in error and filesizeformat(100_000) in error


def _understate(data: bytes, entry: str, size: int) -> bytes:
    """Rewrite the local and central headers of `entry` to claim `size` inflated bytes."""
    out = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        info = zf.getinfo(entry)
    struct.pack_into("<I", out, info.header_offset + 22, size)
    central = out.index(b"PK\x01\x02")
    while bytes(out[central + 46 : central + 46 + len(entry)]) != entry.encode():
        central = out.index(b"PK\x01\x02", central + 4)
    struct.pack_into("<I", out, central + 24, size)
    return bytes(out)


def test_headers_that_understate_an_entry_do_not_let_it_inflate(author):
    lying = _understate(yaml_bomb(), "course.yaml", 1000)
    before = _counts()
    error = _archive_error(_post(author, lying))
    assert "course.yaml" in error
    assert _counts() == before


@pytest.mark.parametrize("headers", [{"flags": 1}, {"method": 99}], ids=["encrypted", "unknown-compression"])
def test_an_entry_zipfile_cannot_open_is_named_not_a_500(author, headers):
    from tests.integrations.test_oneroster import _entry_headers

    data = _entry_headers(_zip({"course.yaml": COURSE_HEAD}), "course.yaml", **headers)
    before = _counts()
    assert "course.yaml" in _archive_error(_post(author, data))
    assert _counts() == before


def test_an_upload_that_is_not_a_zip_is_refused_by_its_content(author):
    error = _archive_error(_post(author, b"%PDF-1.4 not an archive", name="c.zip"))
    assert "c.zip" in error


# --- Big archives: a background job --------------------------------------------------------------


def big_archive(*, code="big-2", lessons=60, quiz_kind="quiz", update_of=None) -> bytes:
    """A valid archive above COURSE_IMPORT_SYNC_MAX_BYTES (128 KiB): lessons of plain text."""
    files = {}
    outline = []
    for i in range(1, lessons + 1):
        entry = f"modules/01-m/{i:02d}-lesson-{i}.md"
        files[entry] = f"# Lesson {i}\n\n" + "A paragraph of plain text about health data. " * 60 + "\n"
        outline.append({"title": f"Lesson {i}", "file": entry})
    course = {"format": "kafaat-course/1", "code": code, "title": "Big course", "language": "en",
              "status": "draft", "modules": [{"title": "M", "lessons": outline}]}  # fmt: skip
    files["course.yaml"] = json.dumps(course)
    question = {"id": "q1", "type": "single", "prompt": "P", "choices": [{"id": "a", "text": "A"},
                {"id": "b", "text": "B"}], "answer": ["a"]}  # fmt: skip
    rubric = {"criteria": [{"id": "c", "title": "C", "levels": [{"id": "ok", "title": "OK", "points": 1}]}]}
    spec = {"questions": [question]} if quiz_kind == "quiz" else {"rubric": rubric}
    files["assignments/q.yaml"] = json.dumps({"format": "kafaat-assignment/1", "slug": "q", "title": "Q",
                                              "kind": quiz_kind, "module": 1, "points": 10, "spec": spec})  # fmt: skip
    return _zip(files)


def test_a_big_archive_is_checked_by_a_worker_then_imported_by_one_once_confirmed(
    author, django_capture_on_commit_callbacks
):
    payload = big_archive()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = _post(author, payload, name="big.zip")
    job = CourseImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("courses:author-import-job", kwargs={"pk": job.pk})
    assert len(callbacks) == 1  # the task is sent once the job row is committed
    assert job.status == "checking" and job.requested_by == author.user and job.file_name == "big.zip"
    assert not Course.objects.filter(code="big-2").exists()
    page = author.get(response["Location"]).content.decode()
    assert "big.zip" in page and 'hx-trigger="every 2s"' in page

    # One background import at a time per person: a second one is refused on the form.
    with django_capture_on_commit_callbacks(execute=False):
        again = _post(author, payload, name="big.zip")
    assert "already" in _archive_error(again)
    assert CourseImportJob.objects.count() == 1

    imports.course_import_job_run(job_id=job.pk)  # what the worker does with the message
    job.refresh_from_db()
    assert job.status == "awaiting" and job.summary["modules"]["created"] == ["M"]
    assert len(job.summary["lessons"]["created"]) == 60
    assert not Course.objects.filter(code="big-2").exists()
    fragment = author.get(response["Location"], HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in fragment and "It creates the course big-2" in fragment
    confirm_url = reverse("courses:author-import-confirm", kwargs={"pk": job.pk})
    assert confirm_url in fragment

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        confirmed = author.post(confirm_url)
    assert confirmed["Location"] == response["Location"]
    assert len(callbacks) == 1
    job.refresh_from_db()
    assert job.status == "pending" and not Course.objects.filter(code="big-2").exists()
    assert author.post(confirm_url).status_code == 302  # a second confirmation queues nothing more
    job.refresh_from_db()
    assert job.status == "pending"

    imports.course_import_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "done" and job.course == Course.objects.get(code="big-2")


def test_a_big_archive_the_worker_finds_broken_fails_naming_the_file_and_drops_it(
    author, django_capture_on_commit_callbacks
):
    files = {}
    with zipfile.ZipFile(io.BytesIO(big_archive(code="big-4"))) as zf:
        files = {name: zf.read(name) for name in zf.namelist()}
    files["assignments/q.yaml"] = files["assignments/q.yaml"].replace(b'"module": 1', b'"module": 9')
    with django_capture_on_commit_callbacks(execute=False):
        response = _post(author, _zip({k: v.decode() for k, v in files.items()}), name="big.zip")
    job = CourseImportJob.objects.get()
    assert job.status == "checking"
    imports.course_import_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "failed" and job.archive == b"" and not job.summary
    assert any(e.startswith("assignments/q.yaml, field module") for e in job.errors), job.errors
    page = author.get(response["Location"]).content.decode()
    assert "assignments/q.yaml, field module" in page
    assert reverse("courses:author-import-confirm", kwargs={"pk": job.pk}) not in page
    assert not Course.objects.filter(code="big-4").exists()


def test_the_job_page_shows_progress_then_the_result_or_the_errors(author):
    course = CourseFactory(code="done-1")
    job = CourseImportJob.objects.create(requested_by=author.user, file_name="x.zip", status="running",
                                         steps_total=10, steps_done=3)  # fmt: skip
    url = reverse("courses:author-import-job", kwargs={"pk": job.pk})
    page = author.get(url).content.decode()
    assert "3 / 10" in page and 'hx-trigger="every 2s"' in page and "<progress" in page
    fragment = author.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment and "3 / 10" in fragment

    CourseImportJob.objects.filter(pk=job.pk).update(status="done", steps_done=10, course=course)
    fragment = author.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in fragment
    assert reverse("courses:author-outline", kwargs={"code": "done-1"}) in fragment

    CourseImportJob.objects.filter(pk=job.pk).update(status="failed", course=None, errors=["course.yaml, line 3: no"])
    fragment = author.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "course.yaml, line 3: no" in fragment and "hx-trigger" not in fragment


def test_someone_elses_import_job_is_not_found(author, client):
    job = CourseImportJob.objects.create(requested_by=UserFactory(), file_name="x.zip")
    assert author.get(reverse("courses:author-import-job", kwargs={"pk": job.pk})).status_code == 404


def _checked_then_confirmed(author, job, before=None, **fields):
    """Wait for the worker to check the upload, then (after `before`) confirm it."""
    wait_for(
        lambda: CourseImportJob.objects.filter(pk=job.pk, status__in=["awaiting", "failed"]).exists(),
        timeout=120,
        message="the upload was checked",
    )
    job.refresh_from_db()
    assert job.status == "awaiting", job.errors
    if before:
        before()
    response = author.post(reverse("courses:author-import-confirm", kwargs={"pk": job.pk}), fields)
    assert response.status_code == 302


@pytest.mark.worker
def test_a_big_archive_is_imported_by_a_worker_and_its_page_shows_the_course(author, worker):
    response = _post(author, big_archive(), name="big.zip")
    assert response.status_code == 302
    job = CourseImportJob.objects.get()
    _checked_then_confirmed(author, job)
    wait_for(
        lambda: CourseImportJob.objects.filter(pk=job.pk, status__in=["done", "failed"]).exists(),
        timeout=120,
        message="the import job finished",
    )
    job.refresh_from_db()
    assert job.status == "done", job.errors
    course = Course.objects.get(code="big-2")
    assert job.course == course and author.user in course.instructors.all()
    assert Lesson.objects.filter(module__course=course).count() == 60
    assert job.steps_total > 60 and job.steps_done == job.steps_total and job.archive == b""
    fragment = author.get(response["Location"], HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in fragment
    assert reverse("courses:author-outline", kwargs={"code": "big-2"}) in fragment


@pytest.mark.worker
def test_a_big_import_that_fails_while_writing_leaves_the_course_as_it_was(author, worker):
    course = CourseFactory(code="big-3", status="draft")
    course.instructors.add(author.user)
    module = ModuleFactory(course=course, position=1)
    LessonFactory(module=module, position=1, title="Original lesson")
    quiz = make_quiz(module=module)
    quiz.slug = "q"
    quiz.save()
    response = _post(author, big_archive(code="big-3"), name="big.zip", update="on")
    assert response.status_code == 302
    job = CourseImportJob.objects.get()

    # The kind of an existing assignment cannot change. The check passed, but the course changed
    # before the confirmation: the import finds it after the lessons were written.
    def change_kind():
        Assignment.objects.filter(pk=quiz.pk).update(kind="essay")

    _checked_then_confirmed(author, job, replace="on", before=change_kind)
    wait_for(
        lambda: CourseImportJob.objects.filter(pk=job.pk, status__in=["done", "failed"]).exists(),
        timeout=120,
        message="the import job finished",
    )
    job.refresh_from_db()
    assert job.status == "failed"
    assert any("assignments/q.yaml" in e and "kind" in e for e in job.errors), job.errors
    assert list(Lesson.objects.filter(module__course=course).values_list("title", flat=True)) == ["Original lesson"]
    assert course.modules.count() == 1
    fragment = author.get(response["Location"], HTTP_HX_REQUEST="true").content.decode()
    assert "assignments/q.yaml" in fragment


def test_small_archives_are_still_checked_and_imported_in_the_request(author, django_capture_on_commit_callbacks):
    course = CourseFactory(code="small-1")
    ModuleFactory(course=course, position=1)
    data = archive.course_export(course=course)
    course.delete()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = _post(author, data)
        job = CourseImportJob.objects.get()
        assert job.status == "awaiting" and job.summary["code"] == "small-1"  # checked in the request
        response = author.post(reverse("courses:author-import-confirm", kwargs={"pk": job.pk}))
    assert response["Location"] == reverse("courses:author-outline", kwargs={"code": "small-1"})
    assert not callbacks  # no worker involved
    job.refresh_from_db()
    assert job.status == "done" and job.archive == b""


def test_the_import_task_keeps_its_name_and_runs_on_the_events_queue():
    from config.celery import app
    from courses import tasks

    assert tasks.course_import.name == "courses.course_import"
    assert app.amqp.router.route({}, "courses.course_import")["queue"].name == "events"
    assert app.amqp.router.route({}, "courses.anything_else")["queue"].name == "grading"

"""Importing a course archive is two steps on its own page: the upload is read and checked, and
the page says what the import will change (the course, its modules, lessons and assignments,
its competencies, its learners' work); nothing is written until its requester confirms, and a
replace must be acknowledged explicitly. Driven over HTTP with real multipart uploads."""

import io
import json
import re
import secrets
import zipfile
from datetime import timedelta

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from courses import archive, services
from courses.models import (
    Assignment,
    Competency,
    Course,
    CourseCover,
    CourseFile,
    CourseImportJob,
    Lesson,
    LessonProgress,
    Module,
    QuestionBank,
)
from grading.models import Submission
from tests.badinput import _counts
from tests.factories import QUIZ_SPEC, CourseFactory, LessonFactory, ModuleFactory, UserFactory, enroll, make_quiz
from tests.twofactor import login_with_2fa

from .images import JPEG_COVER, PNG_COVER


def course_archive(*, code: str, title: str = "Imported", modules=(("Basics", (("Intro", "Some *text*."),)),),
                   assignments=(), competencies=()) -> bytes:  # fmt: skip
    """An archive from plain values: modules as (title, ((lesson title, body), ...)), assignments
    as dicts of slug, title, module and optionally prompt and competencies (quizzes on QUIZ_SPEC)."""
    files, outline = {}, []
    for i, (module_title, lessons) in enumerate(modules, start=1):
        entries = []
        for j, (lesson_title, body) in enumerate(lessons, start=1):
            entry = f"modules/{i:02d}-m/{j:02d}-l.md"
            files[entry] = body.encode()
            entries.append({"title": lesson_title, "file": entry})
        outline.append({"title": module_title, "lessons": entries})
    course = {"format": "kafaat-course/1", "code": code, "title": title, "language": "en", "status": "draft",
              "competencies": [{"code": c, "name": c.title(), "description": ""} for c in competencies],
              "modules": outline}  # fmt: skip
    files["course.yaml"] = json.dumps(course).encode()
    for a in assignments:
        doc = {"format": "kafaat-assignment/1", "kind": "quiz", "points": 10, "spec": QUIZ_SPEC, **a}
        files[f"assignments/{a['slug']}.yaml"] = json.dumps(doc).encode()
    return archive.zip_files(files)


def upload(client, data: bytes, *, name="c.zip", update=False):
    payload = {"archive": SimpleUploadedFile(name, data, content_type="application/zip")}
    if update:
        payload["update"] = "on"
    return client.post(reverse("courses:author-import"), payload)


def confirm(client, job, **fields):
    return client.post(reverse("courses:author-import-confirm", kwargs={"pk": job.pk}), fields)


def upload_and_confirm(client, data: bytes, *, update=False, name="c.zip"):
    """Both steps, as a person who reads the summary and confirms (ticking "replace" if asked)."""
    response = upload(client, data, update=update, name=name)
    assert response.status_code == 302, response.content.decode()[-3000:]
    job = CourseImportJob.objects.filter(requested_by=client.user).order_by("-pk").first()
    return confirm(client, job, **({"replace": "on"} if job.summary.get("exists") else {}))


@pytest.fixture
def author(client, db):
    instructor = UserFactory()
    CourseFactory(code="taught-1").instructors.add(instructor)
    login_with_2fa(client, instructor)
    client.user = instructor
    return client


@pytest.fixture
def taught(author):
    """rep-1, taught by `author`: Basics (Intro, Details) with q-keep, answered by an enrolled
    learner who read Details and Deep; Advanced (Deep) with q-drop, unanswered."""
    course = CourseFactory(code="rep-1", title="Before")
    course.instructors.add(author.user)
    basics = ModuleFactory(course=course, title="Basics", position=1)
    advanced = ModuleFactory(course=course, title="Advanced", position=2)
    LessonFactory(module=basics, title="Intro", position=1)
    details = LessonFactory(module=basics, title="Details", position=2)
    deep = LessonFactory(module=advanced, title="Deep", position=1)
    keep = make_quiz(module=basics, title="Keep", slug="q-keep", points=10)
    make_quiz(module=advanced, title="Drop", slug="q-drop", points=10)
    learner = UserFactory()
    enroll(learner, course)
    Submission.objects.create(
        user=learner, assignment=keep, version=keep.current_version, attempt=1, answer={}, max_score=10
    )
    for lesson in (details, deep):
        LessonProgress.objects.create(user=learner, lesson=lesson)
    return course


def replacing_archive() -> bytes:
    """rep-1 without Advanced, Details and q-drop; q-keep with a new prompt; q-new and a competency added."""
    return course_archive(
        code="rep-1",
        title="After",
        assignments=[
            {"slug": "q-keep", "title": "Keep", "module": 1, "prompt": "A new prompt."},
            {"slug": "q-new", "title": "New quiz", "module": 1, "competencies": ["fresh-skill"]},
        ],
        competencies=["fresh-skill"],
    )


def _job(user) -> CourseImportJob:
    return CourseImportJob.objects.get(requested_by=user)


def _checkbox(page: str, name: str) -> bool | None:
    """Whether the page's checkbox `name` is ticked (None: there is none)."""
    match = re.search(rf'<input type="checkbox" name="{name}"[^>]*>', page)
    return None if match is None else " checked" in match.group(0)


# --- The pages -----------------------------------------------------------------------------------


def test_the_import_page_shows_the_upload_form_and_the_other_pages_only_link_to_it(author, taught):
    url = reverse("courses:author-import")
    page = author.get(url).content.decode()
    assert 'type="file"' in page and 'name="update"' in page and _checkbox(page, "update") is False
    assert _checkbox(author.get(url + "?update=1").content.decode(), "update") is True  # the outline's link
    home = author.get(reverse("courses:author-home")).content.decode()
    outline = author.get(reverse("courses:author-outline", kwargs={"code": "rep-1"})).content.decode()
    assert 'type="file"' not in home and f'href="{url}"' in home
    assert 'type="file"' not in outline and f'href="{url}?update=1"' in outline


def test_a_learner_may_not_open_the_import_page(client, db):
    learner = UserFactory()
    login_with_2fa(client, learner)
    assert client.get(reverse("courses:author-import")).status_code == 403


# --- A new course ----------------------------------------------------------------------------------


def test_uploading_a_new_course_shows_what_it_creates_and_imports_nothing_yet(author):
    Competency.objects.create(code="old-skill", name="Old skill")
    data = course_archive(
        code="new-1",
        title="Brand new",
        modules=[("First", [("One", "a"), ("Two", "b")]), ("Second", [])],
        assignments=[{"slug": "q-1", "title": "First quiz", "module": 2, "competencies": ["fresh", "old-skill"]}],
        competencies=["fresh"],
    )
    before = _counts()
    response = upload(author, data, name="new.zip")
    job = _job(author.user)
    assert response.status_code == 302
    assert response["Location"] == reverse("courses:author-import-job", kwargs={"pk": job.pk})
    assert _counts() == before and not Competency.objects.filter(code="fresh").exists()
    assert job.status == "awaiting" and bytes(job.archive) == data  # kept server-side
    assert job.summary["exists"] is False
    assert job.summary["modules"]["created"] == ["First", "Second"]
    assert job.summary["lessons"]["created"] == ["One", "Two"]
    assert job.summary["assignments"]["created"] == [{"slug": "q-1", "title": "First quiz"}]
    assert job.summary["competencies"]["created"] == [{"code": "fresh", "name": "Fresh"}]
    assert job.summary["banks"] == job.summary["files"] == {"created": [], "updated": [], "removed": [], "unchanged": 0}
    assert job.summary["cover"] == "none"
    assert "learners" not in job.summary

    page = author.get(response["Location"]).content.decode()
    assert "It creates the course new-1" in page and "Brand new" in page
    assert "First quiz (q-1)" in page and "fresh" in page
    assert 'name="replace"' not in page  # a new course needs only the button
    assert reverse("courses:author-import-confirm", kwargs={"pk": job.pk}) in page

    response = confirm(author, job)
    assert response["Location"] == reverse("courses:author-outline", kwargs={"code": "new-1"})
    course = Course.objects.get(code="new-1")
    assert course.title == "Brand new" and author.user in course.instructors.all()
    assert list(course.modules.order_by("position").values_list("title", flat=True)) == ["First", "Second"]
    job.refresh_from_db()
    assert job.status == "done" and job.course == course and bytes(job.archive) == b""
    assert "Imported new-1." in author.get(response["Location"]).content.decode()


def test_confirming_twice_imports_once(author):
    upload(author, course_archive(code="twice-1", assignments=[{"slug": "q", "title": "Q", "module": 1}]))
    job = _job(author.user)
    assert confirm(author, job).status_code == 302
    counts = _counts()
    again = confirm(author, job)
    assert again["Location"] == reverse("courses:author-import-job", kwargs={"pk": job.pk})
    assert _counts() == counts
    assert Assignment.objects.get(course__code="twice-1").versions.count() == 1
    assert "already confirmed" in author.get(again["Location"]).content.decode()


def test_someone_elses_upload_is_not_found_and_cannot_be_confirmed(author):
    upload(author, course_archive(code="mine-9"))
    job = _job(author.user)
    client = Client()
    login_with_2fa(client, UserFactory(is_staff=True))  # not even staff: the upload is its requester's
    assert client.get(reverse("courses:author-import-job", kwargs={"pk": job.pk})).status_code == 404
    assert confirm(client, job).status_code == 404
    job.refresh_from_db()
    assert job.status == "awaiting" and not Course.objects.filter(code="mine-9").exists()


def test_an_upload_not_confirmed_in_time_expires(author):
    upload(author, course_archive(code="late-1"))
    job = _job(author.user)
    CourseImportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(hours=2))
    page = author.get(reverse("courses:author-import-job", kwargs={"pk": job.pk})).content.decode()
    assert "waited too long" in page and reverse("courses:author-import-confirm", kwargs={"pk": job.pk}) not in page
    response = confirm(author, job)
    assert response.status_code == 302 and not Course.objects.filter(code="late-1").exists()


def test_a_new_upload_replaces_the_one_awaiting_confirmation_and_expired_ones_lose_their_archive(author):
    upload(author, course_archive(code="first-1"))
    upload(author, course_archive(code="second-1"))
    assert list(CourseImportJob.objects.values_list("summary__code", flat=True)) == ["second-1"]
    someone = UserFactory()
    old = CourseImportJob.objects.create(requested_by=someone, status="awaiting", archive=b"PK old")
    fresh = CourseImportJob.objects.create(requested_by=someone, status="awaiting", archive=b"PK fresh")
    CourseImportJob.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=2))
    upload(author, course_archive(code="third-1"))
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert bytes(old.archive) == b"" and bytes(fresh.archive) == b"PK fresh"


# --- Replacing a course ------------------------------------------------------------------------------


def test_replacing_shows_what_is_updated_removed_and_kept_of_the_learners_work(author, taught):
    response = upload(author, replacing_archive(), update=True)
    assert response.status_code == 302
    summary = _job(author.user).summary
    assert summary["exists"] is True and summary["previous_title"] == "Before" and summary["title"] == "After"
    assert summary["modules"] == {"created": [], "updated": [], "removed": ["Advanced"], "unchanged": 1}
    assert summary["lessons"] == {"created": [], "updated": [], "removed": ["Details", "Deep"], "unchanged": 1}
    assert summary["assignments"]["created"] == [{"slug": "q-new", "title": "New quiz"}]
    assert summary["assignments"]["updated"] == [{"slug": "q-keep", "title": "Keep"}]
    assert summary["assignments"]["removed"] == [{"slug": "q-drop", "title": "Drop"}]
    assert summary["learners"] == {
        "enrollments": 1,
        "submissions": 1,
        "new_versions": [{"slug": "q-keep", "title": "Keep"}],
        "progress_removed": 2,
    }

    page = author.get(response["Location"]).content.decode()
    assert "It replaces the existing course rep-1" in page
    assert "Its status changes from Published to Draft." in page  # the archive's status wins
    for removed in ("Advanced", "Details", "Deep", "Drop (q-drop)"):
        assert removed in page
    assert "Submissions are kept" in page and "progress on the removed lessons is deleted: 2" in page
    assert _checkbox(page, "replace") is False  # there, never ticked for the user
    assert "Replace the course" in page
    # Nothing changed yet.
    taught.refresh_from_db()
    assert taught.title == "Before" and Assignment.objects.filter(slug="q-drop").exists()


def test_a_replace_is_not_run_without_its_box_ticked(author, taught):
    upload(author, replacing_archive(), update=True)
    job = _job(author.user)
    before = _counts()
    response = confirm(author, job)
    assert response.status_code == 400
    assert "Tick this box to replace the course" in response.content.decode()
    assert 'role="alert"' in response.content.decode()
    assert _counts() == before
    job.refresh_from_db()
    assert job.status == "awaiting"

    response = confirm(author, job, replace="on")
    assert response["Location"] == reverse("courses:author-outline", kwargs={"code": "rep-1"})
    taught.refresh_from_db()
    assert taught.title == "After"
    assert set(taught.assignments.values_list("slug", flat=True)) == {"q-keep", "q-new"}
    assert list(Module.objects.filter(course=taught).values_list("title", flat=True)) == ["Basics"]
    assert Submission.objects.filter(assignment__slug="q-keep").count() == 1  # kept, as the summary said
    keep = Assignment.objects.get(slug="q-keep")
    assert keep.current_version.prompt_markdown == "A new prompt." and keep.versions.count() == 2
    assert LessonProgress.objects.count() == 0 and not Lesson.objects.filter(title="Deep").exists()


def test_an_existing_code_without_replace_is_refused_at_the_upload(author, taught):
    before = _counts()
    response = upload(author, replacing_archive())
    assert response.status_code == 400
    assert "already exists" in " ".join(response.context["import_form"].errors["archive"])
    assert _counts() == before and not CourseImportJob.objects.exists()


def test_removing_an_answered_assignment_is_refused_at_the_upload_naming_it(author, taught):
    data = course_archive(code="rep-1", assignments=[{"slug": "q-drop", "title": "Drop", "module": 1}])
    response = upload(author, data, update=True)
    assert response.status_code == 400
    error = " ".join(response.context["import_form"].errors["archive"])
    assert "have submissions and cannot be removed: q-keep" in error
    assert not CourseImportJob.objects.exists()


def test_another_instructors_course_cannot_be_replaced(taught):
    client, other = Client(), UserFactory()
    CourseFactory(code="theirs-1").instructors.add(other)
    login_with_2fa(client, other)
    client.user = other
    response = upload(client, replacing_archive(), update=True)
    assert response.status_code == 400
    assert "Only this course's instructors" in " ".join(response.context["import_form"].errors["archive"])
    assert not CourseImportJob.objects.exists()


def test_competencies_the_import_keeps_as_they_are_are_listed(author, taught):
    Competency.objects.create(code="fresh-skill", name="Named elsewhere")
    other = CourseFactory(code="other-1")
    make_quiz(course=other).competencies.add(Competency.objects.get(code="fresh-skill"))
    upload(author, replacing_archive(), update=True)
    job = _job(author.user)
    kept = job.summary["competencies"]["kept"]
    assert kept == [{"code": "fresh-skill", "name": "Named elsewhere", "archive_name": "Fresh-Skill", "shared": True}]
    page = author.get(reverse("courses:author-import-job", kwargs={"pk": job.pk})).content.decode()
    assert "keeps its name" in page and "Named elsewhere" in page


# --- Question banks, files and the cover ------------------------------------------------------------


def _question(i: int) -> dict:
    return {"id": f"b{i}", "type": "single", "prompt": f"Bank question {i}",
            "choices": [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}], "answer": ["a"]}  # fmt: skip


def _bank(course, code: str, n: int) -> QuestionBank:
    competency, _created = Competency.objects.get_or_create(code=code, defaults={"name": code.title()})
    return QuestionBank.objects.create(course=course, competency=competency, questions=[_question(i) for i in range(n)])


def _entries(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _edit_course_yaml(entries: dict[str, bytes], change) -> None:
    head = yaml.safe_load(entries["course.yaml"])
    change(head)
    entries["course.yaml"] = archive._dump(head)


def _text(page: str) -> str:
    """The page's text without its tags, its white space collapsed."""
    return " ".join(re.sub(r"<[^>]+>", "", page).split())


@pytest.fixture
def furnished(taught):
    """rep-1 with three banks (triage: 2 questions, steady: 1, old-bank: 1), three files and a PNG cover."""
    for code, n in (("triage", 2), ("steady", 1), ("old-bank", 1)):
        _bank(taught, code, n)
    for name, content in (("data.csv", b"a,b\n1,2\n"), ("notes.txt", b"same\n"), ("gone.csv", b"x,y\n")):
        CourseFile.objects.create(course=taught, name=name, content=content, size=len(content), content_kind="csv")
    services.cover_store(course=taught, data=PNG_COVER)
    return taught


def test_replacing_shows_the_banks_files_and_cover_it_creates_updates_and_removes(author, furnished):
    entries = _entries(archive.course_export(course=furnished))
    Competency.objects.create(code="fresh-bank", name="Fresh bank")
    entries["banks/triage.yaml"] = archive._dump(
        {"format": "kafaat-bank/1", "tag": "triage", "questions": [_question(i) for i in range(3)]}
    )
    entries["banks/fresh-bank.yaml"] = archive._dump(
        {"format": "kafaat-bank/1", "tag": "fresh-bank", "questions": [_question(9)]}
    )
    del entries["banks/old-bank.yaml"]
    entries["files/data.csv"] = b"a,b\n3,4\n"  # the same size, other bytes
    entries["files/new.csv"] = b"p,q\n"
    del entries["files/gone.csv"], entries["cover.png"]
    entries["cover.jpg"] = JPEG_COVER

    def change(head):
        head["cover"] = "cover.jpg"
        head["competencies"].append({"code": "fresh-bank", "name": "Fresh bank", "description": ""})

    _edit_course_yaml(entries, change)
    response = upload(author, archive.zip_files(entries), update=True)
    assert response.status_code == 302, response.content.decode()[-2000:]
    summary = _job(author.user).summary
    assert summary["banks"] == {
        "created": [{"tag": "fresh-bank", "questions": 1}],
        "updated": [{"tag": "triage", "questions": 3, "was": 2}],
        "removed": [{"tag": "old-bank", "questions": 1}],
        "unchanged": 1,
    }
    files = {"created": ["new.csv"], "updated": ["data.csv"], "removed": ["gone.csv"], "unchanged": 1}
    assert summary["files"] == files
    assert summary["cover"] == "replaced"

    page = _text(author.get(response["Location"]).content.decode())
    assert "Question banks Created fresh-bank — 1 question Updated triage — 3 questions (before: 2)" in page
    assert "Removed old-bank — 1 question Unchanged: 1" in page
    assert "Files Created new.csv Updated data.csv Removed gone.csv Unchanged: 1" in page
    assert "Cover image Replaced" in page

    # What the summary said is what the import does.
    confirm(author, _job(author.user), replace="on")
    banks = {b.competency.code: len(b.questions) for b in furnished.question_banks.select_related("competency")}
    assert banks == {"fresh-bank": 1, "steady": 1, "triage": 3}
    files = {f.name: bytes(f.content) for f in furnished.files.all()}
    assert files == {"data.csv": b"a,b\n3,4\n", "new.csv": b"p,q\n", "notes.txt": b"same\n"}
    assert bytes(CourseCover.objects.get(course=furnished).data) == JPEG_COVER


def test_the_courses_own_export_leaves_banks_files_and_cover_unchanged_and_one_without_a_cover_removes_it(
    db, furnished
):
    data = archive.course_export(course=furnished)
    same = archive.archive_changes(parsed=archive.archive_read(data), update=True)
    assert same["banks"] == {"created": [], "updated": [], "removed": [], "unchanged": 3}
    assert same["files"] == {"created": [], "updated": [], "removed": [], "unchanged": 3}
    assert same["cover"] == "unchanged"
    entries = _entries(data)
    del entries["cover.png"]
    _edit_course_yaml(entries, lambda head: head.pop("cover"))
    without = archive.archive_changes(parsed=archive.archive_read(archive.zip_files(entries)), update=True)
    assert without["cover"] == "removed"


def test_a_new_course_shows_its_banks_files_and_cover_created(author):
    entries = _entries(course_archive(code="new-2", competencies=["triage"]))
    entries["banks/triage.yaml"] = archive._dump(
        {"format": "kafaat-bank/1", "tag": "triage", "questions": [_question(1), _question(2)]}
    )
    entries["files/data.csv"] = b"a,b\n"
    entries["cover.png"] = PNG_COVER
    _edit_course_yaml(entries, lambda head: head.update(cover="cover.png"))
    response = upload(author, archive.zip_files(entries))
    summary = _job(author.user).summary
    assert summary["banks"]["created"] == [{"tag": "triage", "questions": 2}]
    assert summary["files"]["created"] == ["data.csv"] and summary["cover"] == "added"
    page = _text(author.get(response["Location"]).content.decode())
    assert "Created triage — 2 questions" in page and "Created data.csv" in page and "Cover image Added" in page


def test_a_quiz_drawing_from_a_changed_bank_is_said_to_get_a_new_version(author, taught):
    """Its spec is the same, but it freezes the archive's bank: the import makes it a new version."""
    _bank(taught, "triage", 3)
    drawn = make_quiz(module=taught.modules.get(position=1), slug="q-drawn", title="Drawn",
                      spec={**QUIZ_SPEC, "draws": [{"tag": "triage", "count": 2}]})  # fmt: skip
    Submission.objects.create(
        user=UserFactory(), assignment=drawn, version=drawn.current_version, attempt=1, answer={}, max_score=10
    )
    entries = _entries(archive.course_export(course=taught))
    unchanged = archive.archive_changes(parsed=archive.archive_read(archive.zip_files(entries)), update=True)
    assert {"slug": "q-drawn", "title": "Drawn"} not in unchanged["assignments"]["updated"]
    entries["banks/triage.yaml"] = archive._dump(
        {"format": "kafaat-bank/1", "tag": "triage", "questions": [_question(i) for i in range(4)]}
    )
    upload(author, archive.zip_files(entries), update=True)
    summary = _job(author.user).summary
    assert summary["assignments"]["updated"] == [{"slug": "q-drawn", "title": "Drawn"}]
    assert summary["learners"]["new_versions"] == [{"slug": "q-drawn", "title": "Drawn"}]
    confirm(author, _job(author.user), replace="on")
    drawn.refresh_from_db()
    assert drawn.versions.count() == 2 and len(drawn.current_version.spec["pools"]["triage"]) == 4


# --- Bad input ---------------------------------------------------------------------------------------


def _archive_error(response) -> str:
    assert response.status_code == 400, response.status_code
    assert 'role="alert"' in response.content.decode()
    return " ".join(response.context["import_form"].errors["archive"])


def test_a_file_that_is_not_a_zip_is_a_form_error(author):
    before = _counts()
    assert "c.zip" in _archive_error(upload(author, b"%PDF-1.4 not an archive"))
    assert _counts() == before and not CourseImportJob.objects.exists()


def test_an_oversize_file_is_a_form_error(author, settings):
    settings.COURSE_ARCHIVE_MAX_BYTES = 1000
    data = course_archive(code="big-9", modules=[("M", [("L", secrets.token_hex(2000))])])
    assert len(data) > 1000
    assert _archive_error(upload(author, data))
    assert not CourseImportJob.objects.exists() and not Course.objects.filter(code="big-9").exists()


def test_a_broken_archive_names_the_file_and_line(author):
    data = archive.zip_files({"course.yaml": b"format: kafaat-course/1\ncode: [oops\n"})
    error = _archive_error(upload(author, data))
    assert error.startswith("course.yaml, line ")
    assert not CourseImportJob.objects.exists()


def test_an_archive_with_a_bad_field_names_the_entry_and_field(author):
    data = course_archive(code="bad-1", assignments=[{"slug": "q", "title": "Q", "module": 7}])
    error = _archive_error(upload(author, data))
    assert "assignments/q.yaml, field module" in error
    assert not CourseImportJob.objects.exists()


def test_a_confirmation_of_an_upload_that_does_not_exist_is_not_found(author):
    assert author.post(reverse("courses:author-import-confirm", kwargs={"pk": 999999})).status_code == 404
    assert author.get(reverse("courses:author-import-confirm", kwargs={"pk": 999999})).status_code == 405


def test_the_summary_is_computed_by_the_archive_module_without_writing(db, taught):
    """archive_changes is a read: it may be called from a shell or a worker."""
    before = _counts()
    summary = archive.archive_changes(parsed=archive.archive_read(replacing_archive()), update=True)
    assert summary["assignments"]["removed"] == [{"slug": "q-drop", "title": "Drop"}]
    assert _counts() == before
    # An archive equal to the course's own export changes nothing.
    same = archive.archive_changes(parsed=archive.archive_read(archive.course_export(course=taught)), update=True)
    assert same["modules"]["unchanged"] == 2 and same["lessons"]["unchanged"] == 3
    assert same["assignments"]["unchanged"] == 2 and not same["assignments"]["updated"]
    assert not same["learners"]["new_versions"] and same["learners"]["progress_removed"] == 0


@pytest.mark.django_db(transaction=True)
def test_two_confirmations_at_once_import_once():
    """Two requests confirm the same upload at the same moment: one imports, the other is told."""
    import threading

    from django.db import connection

    from courses import imports
    from courses.imports import ImportRefused

    teacher = UserFactory()
    CourseFactory(code="taught-2").instructors.add(teacher)
    data = course_archive(code="race-1", assignments=[{"slug": "q", "title": "Q", "module": 1}])
    job = imports.course_import_check(user=teacher, data=data, file_name="race.zip")
    barrier = threading.Barrier(2)
    done, refused, errors = [], [], []

    def confirm_now():
        try:
            barrier.wait(timeout=30)
            done.append(imports.course_import_confirm(user=teacher, job_id=job.pk).status)
        except ImportRefused:
            refused.append(True)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm_now) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    assert not errors and done == ["done"] and refused == [True]
    assert Course.objects.filter(code="race-1").count() == 1
    assert Assignment.objects.get(course__code="race-1").versions.count() == 1

import io
import zipfile

import pytest
from django.core.management import CommandError, call_command

from courses import archive
from courses.models import Assignment, Course, Lesson
from grading.models import Submission
from tests.factories import QUIZ_SPEC, CourseFactory, LessonFactory, ModuleFactory, UserFactory, make_quiz


@pytest.fixture
def course(db):
    course = CourseFactory(code="arch-1", title="Archive course", summary="Two lines\nof summary.")
    m1, m2 = ModuleFactory(course=course, position=1), ModuleFactory(course=course, position=2)
    LessonFactory(module=m1, position=1, title="Intro", body_markdown="# Hello\n\n```python\nx = 1\n```\n")
    LessonFactory(module=m2, position=1, title="Next", body_markdown="Plain text.")
    quiz = make_quiz(module=m2, title="Quiz: one", points=10)
    quiz.slug = "quiz-one"
    quiz.save()
    return course


def _delete(course):
    Assignment.objects.filter(course=course).update(current_version=None)
    Course.objects.filter(pk=course.pk).delete()


def _files(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {name: zf.read(name).decode() for name in zf.namelist()}


def _rezip(files: dict[str, str]) -> bytes:
    return archive.zip_files({k: v.encode() for k, v in files.items()})


def test_export_import_export_gives_the_same_bytes(course):
    first = archive.course_export(course=course)
    _delete(course)
    imported = archive.course_import(data=first)
    assert archive.course_export(course=imported) == first
    assert imported.modules.count() == 2 and Lesson.objects.filter(module__course=imported).count() == 2
    lesson = Lesson.objects.get(module__course=imported, title="Intro")
    assert 'class="highlight"' in lesson.body_html


def test_the_archive_is_laid_out_as_documented(course):
    files = _files(archive.course_export(course=course))
    assert sorted(files) == [
        "assignments/quiz-one.yaml",
        "course.yaml",
        f"modules/01-{course.modules.get(position=1).title.lower().replace(' ', '-')}/01-intro.md",
        f"modules/02-{course.modules.get(position=2).title.lower().replace(' ', '-')}/01-next.md",
    ]
    assert "format: kafaat-course/1" in files["course.yaml"]
    assert "format: kafaat-assignment/1" in files["assignments/quiz-one.yaml"]


def test_a_yaml_error_names_the_file_and_line(course):
    files = _files(archive.course_export(course=course))
    files["assignments/quiz-one.yaml"] = files["assignments/quiz-one.yaml"].replace("kind: quiz", "kind: [quiz")
    with pytest.raises(archive.ArchiveError) as exc:
        archive.course_import(data=_rezip(files), update=True)
    assert exc.value.entry == "assignments/quiz-one.yaml" and exc.value.line
    assert "assignments/quiz-one.yaml, line" in exc.value.message


def test_a_bad_spec_names_the_file_and_field_and_nothing_is_imported(course):
    files = _files(archive.course_export(course=course))
    _delete(course)
    files["assignments/quiz-one.yaml"] = files["assignments/quiz-one.yaml"].replace("- a\n", "- z\n", 1)
    with pytest.raises(archive.ArchiveError, match=r"assignments/quiz-one.yaml, field spec.questions\[0\].answer"):
        archive.course_import(data=_rezip(files))
    assert not Course.objects.filter(code="arch-1").exists()


def test_a_missing_lesson_file_is_named(course):
    files = _files(archive.course_export(course=course))
    _delete(course)
    missing = next(name for name in files if name.endswith("01-next.md"))
    del files[missing]
    with pytest.raises(archive.ArchiveError, match=missing):
        archive.course_import(data=_rezip(files))


def test_a_failure_late_in_the_import_leaves_nothing_behind(course):
    """The spec error is found while writing (a kind check happens after modules were written)."""
    files = _files(archive.course_export(course=course))
    _delete(course)
    files["course.yaml"] = files["course.yaml"].replace("code: arch-1", "code: arch-2")
    files["assignments/quiz-one.yaml"] = files["assignments/quiz-one.yaml"].replace("module: 2", "module: 3")
    with pytest.raises(archive.ArchiveError, match="field module"):
        archive.course_import(data=_rezip(files))
    assert not Course.objects.filter(code="arch-2").exists()


def test_not_a_zip_is_refused(db):
    with pytest.raises(archive.ArchiveError, match="not a zip file"):
        archive.course_import(data=b"hello")


def test_importing_an_existing_code_needs_update(course):
    data = archive.course_export(course=course)
    with pytest.raises(archive.ArchiveError, match="already exists"):
        archive.course_import(data=data)


def test_update_with_a_changed_spec_makes_a_new_version_and_submissions_keep_theirs(course):
    quiz = Assignment.objects.get(course=course)
    old_version = quiz.current_version
    learner = UserFactory()
    Submission.objects.create(user=learner, assignment=quiz, version=old_version, attempt=1, answer={}, max_score=10)
    files = _files(archive.course_export(course=course))
    files["assignments/quiz-one.yaml"] = files["assignments/quiz-one.yaml"].replace("2 + 2 ?", "2 + 3 ?")
    archive.course_import(data=_rezip(files), update=True)
    quiz.refresh_from_db()
    assert quiz.current_version.number == 2 and quiz.current_version.spec["questions"][0]["prompt"] == "2 + 3 ?"
    sub = Submission.objects.get(user=learner)
    assert sub.version == old_version and sub.version.spec["questions"][0]["prompt"] == "2 + 2 ?"


def test_update_unchanged_creates_no_version(course):
    data = archive.course_export(course=course)
    archive.course_import(data=data, update=True)
    assert Assignment.objects.get(course=course).versions.count() == 1
    assert archive.course_export(course=course) == data


def test_load_assignment_file_validates_one_file(course, tmp_path):
    files = _files(archive.course_export(course=course))
    path = tmp_path / "quiz-one.yaml"
    path.write_text(files["assignments/quiz-one.yaml"])
    parsed = archive.load_assignment_file(path)
    assert parsed["kind"] == "quiz" and parsed["spec"] == QUIZ_SPEC


def test_commands_export_then_import(course, tmp_path):
    target = tmp_path / "c.zip"
    call_command("export_course", "arch-1", str(target))
    first = target.read_bytes()
    _delete(course)
    call_command("import_course", str(target))
    call_command("export_course", "arch-1", str(target))
    assert target.read_bytes() == first
    with pytest.raises(CommandError, match="already exists"):
        call_command("import_course", str(target))
    call_command("import_course", str(target), "--update")


def test_import_command_names_the_broken_file(course, tmp_path):
    files = _files(archive.course_export(course=course))
    files["course.yaml"] = files["course.yaml"].replace("language: en", "language: xx")
    target = tmp_path / "bad.zip"
    target.write_bytes(_rezip(files))
    with pytest.raises(CommandError, match=r"bad.zip: course.yaml, field language"):
        call_command("import_course", str(target), "--update")

import io
import re

import pytest
import yaml
from django.core.management import call_command

from assessment import kinds
from courses import archive
from courses.demo import DEMO_DIR, demo_course_dirs
from courses.models import Course, LearningPath, Track
from grading import services as grading
from grading.selectors import submission_passed
from tests.factories import UserFactory, enroll

KINDS_BY_TRACK = {
    "data-science": {"code", "quiz"},
    "cybersecurity": {"flag", "quiz"},
    "health-law": {"quiz", "essay"},
    "data-governance": {"quiz", "code"},
}


def _kinds(folder) -> set[str]:
    return {yaml.safe_load(p.read_text())["kind"] for p in (folder / "assignments").glob("*.yaml")}


def _supported(kind: str) -> bool:
    try:
        kinds.get_grader(kind)
        return True
    except kinds.GraderError:
        return False


def test_the_demo_has_two_bilingual_courses_of_three_modules_per_track_with_the_right_kinds():
    paths = yaml.safe_load((DEMO_DIR / "paths.yaml").read_text())["paths"]
    assert {p["track"] for p in paths} == set(Track.values)
    folders = {f.name: f for f in demo_course_dirs()}
    for p in paths:
        codes = [c["code"] for c in p["courses"]]
        assert len(codes) >= 2
        languages, kinds = set(), set()
        for code in codes:
            course = yaml.safe_load((folders[code] / "course.yaml").read_text())
            assert len(course["modules"]) >= 3
            languages.add(course["language"])
            kinds |= _kinds(folders[code])
        assert {"fr", "en"} <= languages, p["code"]
        assert KINDS_BY_TRACK[p["track"]] <= kinds, p["code"]


@pytest.mark.parametrize("folder", demo_course_dirs(), ids=lambda f: f.name)
def test_each_demo_course_imports_and_round_trips(db, folder):
    if not all(_supported(kind) for kind in _kinds(folder)):
        # Until the grading engineer's graders for this kind are merged, the import must refuse
        # the course with a message naming the assignment file and the kind.
        with pytest.raises(archive.ArchiveError, match=r"assignments/.*field kind"):
            archive.course_import(data=archive.zip_directory(folder))
        return
    course = archive.course_import(data=archive.zip_directory(folder))
    first = archive.course_export(course=course)
    again = archive.course_import(data=first, update=True)
    assert archive.course_export(course=again) == first


def test_seed_demo_is_idempotent_and_shows_all_four_tracks(db, client):
    out = io.StringIO()
    call_command("seed_demo", stdout=out, stderr=io.StringIO())
    assert "learner@kafaat.local" in out.getvalue()
    counts = (Course.objects.count(), LearningPath.objects.count())
    call_command("seed_demo", stdout=io.StringIO(), stderr=io.StringIO())
    assert (Course.objects.count(), LearningPath.objects.count()) == counts
    assert set(LearningPath.objects.values_list("track", flat=True)) == set(Track.values)
    page = client.get("/").content.decode()
    assert "/courses/ds-101/" in page and "/courses/law-101/" in page and "/courses/gov-101/" in page


# A data file a lesson names (read_csv("x.csv"), grep ... auth.log): it ships with the course.
_DATA_FILE = re.compile(r"\b([A-Za-z0-9_-]+\.(?:csv|log|pcap|pcapng|json|txt))\b")


@pytest.mark.parametrize("folder", demo_course_dirs(), ids=lambda f: f.name)
def test_every_data_file_a_demo_lesson_names_ships_with_its_course_and_the_lesson_links_it(folder):
    code = yaml.safe_load((folder / "course.yaml").read_text())["code"]
    shipped = {p.name for p in (folder / "files").glob("*")} if (folder / "files").is_dir() else set()
    for lesson in sorted((folder / "modules").rglob("*.md")):
        text = lesson.read_text()
        for name in set(_DATA_FILE.findall(text)):
            assert name in shipped, f"{lesson.relative_to(folder)} names {name}, which files/ does not have"
            assert f"(/courses/{code}/files/{name})" in text, f"{lesson.relative_to(folder)} does not link {name}"


def test_the_demo_datasets_are_the_generator_s_output(tmp_path, monkeypatch):
    """scripts/demo_datasets.py wrote the shipped CSVs: running it again changes no byte."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("demo_datasets", DEMO_DIR.parents[1] / "scripts" / "demo_datasets.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    before = {p: p.read_bytes() for p in DEMO_DIR.glob("courses/*/files/*.csv")}
    monkeypatch.setattr(module, "DEMO", tmp_path)
    for p in before:
        (tmp_path / p.parent.parent.name).mkdir(exist_ok=True)
    module.main()
    assert {p.name: p.read_bytes() for p in tmp_path.glob("*/files/*.csv")} == {p.name: b for p, b in before.items()}


@pytest.mark.django_db
def test_the_demo_blood_pressure_exercise_does_not_pass_a_half_right_solution():
    course = archive.course_import(data=archive.zip_directory(DEMO_DIR / "courses" / "ds-102"))
    assignment = course.assignments.get(slug="code-count-high-blood-pressure")
    user = UserFactory()
    enroll(user, course)
    wrong = 'def solve(df):\n    return int(((df["systolic"] >= 140) & (df["diastolic"] >= 90)).sum())\n'
    right = 'def solve(df):\n    return int(((df["systolic"] >= 140) | (df["diastolic"] >= 90)).sum())\n'

    graded = []
    for code in (wrong, right):
        sub = grading.submission_create(user=user, assignment=assignment, answer={"code": code})
        grading.submission_grade(submission_id=sub.pk)
        sub.refresh_from_db()
        graded.append(sub)

    assert graded[0].score == assignment.points / 2  # partial credit: half of the tests
    assert not submission_passed(graded[0])
    assert submission_passed(graded[1])

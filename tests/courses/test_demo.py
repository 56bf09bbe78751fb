import io

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

import io
import re
import stat

import pytest
import yaml
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from accounts.models import Organization, OrganizationMembership
from assessment import kinds
from courses import archive
from courses import services as course_services
from courses.demo import DEMO_DIR, demo_course_dirs
from courses.models import Assignment, Course, LearningPath, PathCourse, Track
from grading import services as grading
from grading.models import Submission
from grading.selectors import submission_passed
from integrations.demo import DEMO_UNIVERSITY, DEMO_USERS, read_known_secrets
from integrations.models import ApiClient
from tests.factories import UserFactory, enroll
from tests.integrations.conftest import get_token
from tests.twofactor import login_with_2fa

KINDS_BY_TRACK = {
    "data-science": {"code", "sql", "quiz"},
    "cybersecurity": {"flag", "quiz"},
    "health-law": {"quiz", "essay"},
    "data-governance": {"deid", "fhir", "code", "quiz"},
}


def _kinds(folder) -> set[str]:
    return {yaml.safe_load(p.read_text())["kind"] for p in (folder / "assignments").glob("*.yaml")}


def _supported(kind: str) -> bool:
    try:
        kinds.get_grader(kind)
        return True
    except kinds.GraderError:
        return False


def test_each_demo_path_has_three_courses_in_three_languages_with_the_kinds_of_its_track():
    paths = yaml.safe_load((DEMO_DIR / "paths.yaml").read_text())["paths"]
    assert {p["track"] for p in paths} == set(Track.values)
    folders = {f.name: f for f in demo_course_dirs()}
    for p in paths:
        codes = [c["code"] for c in p["courses"]]
        assert len(codes) >= 3
        languages, kinds = set(), set()
        for code in codes:
            course = yaml.safe_load((folders[code] / "course.yaml").read_text())
            assert len(course["modules"]) >= 4
            languages.add(course["language"])
            kinds |= _kinds(folders[code])
        assert {"fr", "ar", "en"} <= languages, p["code"]
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


def test_seed_demo_is_idempotent_and_shows_all_four_tracks(db, client, tmp_path):
    out = io.StringIO()
    call_command("seed_demo", logins_file=tmp_path / "l.txt", stdout=out, stderr=io.StringIO())
    assert "learner@kafaat.local" in out.getvalue()
    counts = (Course.objects.count(), LearningPath.objects.count())
    call_command("seed_demo", logins_file=tmp_path / "l.txt", stdout=io.StringIO(), stderr=io.StringIO())
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


def test_the_demo_datasets_are_the_generator_s_output():
    """scripts/demo_datasets.py wrote every shipped dataset and artifact: generating them again
    gives the same bytes, and every file a course ships under files/ comes from a generator (which may
    write an assignment too, when its spec embeds a dataset)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("demo_datasets", DEMO_DIR.parents[1] / "scripts" / "demo_datasets.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    generated = module.generated()
    shipped = {p.relative_to(DEMO_DIR / "courses").as_posix(): p.read_bytes()
               for p in sorted(DEMO_DIR.glob("courses/*/files/*"))}  # fmt: skip
    assert sorted(set(shipped) - set(generated)) == []
    root = DEMO_DIR / "courses"
    differ = [
        path for path, data in generated.items() if not (root / path).is_file() or (root / path).read_bytes() != data
    ]
    assert differ == []
    assert generated == module.generated()  # deterministic within one process too


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


# --- The demo's people: a learner, an instructor, a university admin with its university and API
# client, staff; their logins in a file only its owner reads (integrations.demo, seed_demo). -----


def _seed(logins_file, **kwargs):
    out = io.StringIO()
    call_command("seed_demo", logins_file=logins_file, stdout=out, stderr=io.StringIO(), **kwargs)
    return out.getvalue()


def _logins(path):
    passwords, secret = read_known_secrets(path)
    client_id = re.search(r"client_id\s+(\S+)", path.read_text()).group(1)
    return passwords, client_id, secret


@pytest.mark.django_db
def test_seed_demo_writes_every_login_and_the_api_secret_to_a_file_only_its_owner_reads(tmp_path):
    logins_file = tmp_path / "var" / "demo-logins.txt"
    out = _seed(logins_file, base_url="http://127.0.0.1:8761")

    assert stat.S_IMODE(logins_file.stat().st_mode) == 0o600
    text = logins_file.read_text()
    assert "http://127.0.0.1:8761/" in text and text in out
    passwords, client_id, secret = _logins(logins_file)
    assert set(passwords) == {email for _role, email, _name, _flags in DEMO_USERS}
    for email, password in passwords.items():
        assert authenticate(username=email, password=password) is not None, email
    assert get_token(client_id, secret).status_code == 200
    assert not list(tmp_path.joinpath("var").glob(".demo-logins*"))  # no temporary file left behind


@pytest.mark.django_db
def test_a_logins_file_that_was_readable_by_others_is_rewritten_for_its_owner_alone(tmp_path):
    logins_file = tmp_path / "demo-logins.txt"
    logins_file.write_text("old\n")
    logins_file.chmod(0o644)
    _seed(logins_file)
    assert stat.S_IMODE(logins_file.stat().st_mode) == 0o600


@pytest.mark.django_db
def test_seed_demo_twice_creates_one_university_one_admin_one_api_client_and_keeps_the_secrets(tmp_path):
    logins_file = tmp_path / "demo-logins.txt"
    _seed(logins_file)
    first = _logins(logins_file)
    token = get_token(first[1], first[2]).json()["access_token"]

    _seed(logins_file)

    assert _logins(logins_file) == first
    university = Organization.objects.get(slug=DEMO_UNIVERSITY["slug"])
    assert Organization.objects.count() == 1
    assert ApiClient.objects.filter(organization=university).count() == 1
    assert OrganizationMembership.objects.filter(organization=university).count() == 1
    assert get_user_model().objects.filter(email__endswith="@kafaat.local").count() == len(DEMO_USERS)
    assert get_user_model().objects.get(email="learner@kafaat.local").organization == university
    # The kept secret's token still works: a restart of `make run` does not log the demo API out.
    api = Client().get("/api/v1/courses", headers={"authorization": f"Bearer {token}"})
    assert api.status_code == 200, api.content[:500]


@pytest.mark.django_db
def test_seed_demo_gives_new_working_secrets_when_the_logins_file_is_gone(tmp_path):
    logins_file = tmp_path / "demo-logins.txt"
    _seed(logins_file)
    old_passwords, client_id, old_secret = _logins(logins_file)
    logins_file.unlink()

    _seed(logins_file)

    passwords, same_client_id, secret = _logins(logins_file)
    assert same_client_id == client_id and secret != old_secret
    assert get_token(client_id, secret).status_code == 200
    assert get_token(client_id, old_secret).status_code == 401
    for email, password in passwords.items():
        assert password != old_passwords[email]
        assert authenticate(username=email, password=password) is not None


@pytest.mark.django_db
def test_the_demo_university_admin_lands_on_the_university_page_and_sees_the_demo_learner(tmp_path):
    logins_file = tmp_path / "demo-logins.txt"
    _seed(logins_file)
    passwords, _id, _secret = _logins(logins_file)
    client = Client()

    response = client.post(
        reverse("accounts:login"),
        {"username": "university@kafaat.local", "password": passwords["university@kafaat.local"]},
    )

    assert response.status_code == 302 and response["Location"] == "/accounts/organization/"
    login_with_2fa(client, get_user_model().objects.get(email="university@kafaat.local"))
    page = client.get("/accounts/organization/")
    assert page.status_code == 200
    assert "Demo Learner" in page.content.decode()


# --- The demo content loads whole on a machine where the sandbox cannot run --------------------


@pytest.mark.django_db
def test_without_a_sandbox_seed_demo_imports_every_course_and_code_grading_waits_until_it_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("KAFAAT_SANDBOX_BWRAP", "/nonexistent/bwrap")  # this machine has no bubblewrap
    err = io.StringIO()
    call_command("seed_demo", logins_file=tmp_path / "l.txt", stdout=io.StringIO(), stderr=err)

    assert Course.objects.count() == len(demo_course_dirs()) >= 12, err.getvalue()
    assert "not loaded" not in err.getvalue()
    assignment = Assignment.objects.get(course__code="ds-102", slug="code-count-high-blood-pressure")
    assert "expected" not in assignment.current_version.spec  # computed when a sandbox first runs
    learner = get_user_model().objects.get(email="learner@kafaat.local")
    PathCourse.objects.filter(course=assignment.course).delete()  # no ds-101 to finish first
    enroll(learner, assignment.course)
    right = 'def solve(df):\n    return int(((df["systolic"] >= 140) | (df["diastolic"] >= 90)).sum())\n'
    sub = grading.submission_create(user=learner, assignment=assignment, answer={"code": right})

    with pytest.raises(kinds.GraderUnavailable):
        grading.submission_grade(submission_id=sub.pk)
    sub.refresh_from_db()
    assert sub.status == Submission.Status.QUEUED
    client = Client()
    client.force_login(learner)
    # The submission's page says so (its status poll answers "nothing new" while it waits: 204).
    status = client.get(reverse("grading:submission", args=[sub.pk])).content.decode()
    assert "data-grading-waits" in status
    page = client.get(reverse("courses:assignment", args=[assignment.course.code, assignment.pk])).content.decode()
    assert "data-grading-waits" in page

    monkeypatch.delenv("KAFAAT_SANDBOX_BWRAP")  # bubblewrap installed: the next grading runs
    grading.submission_grade(submission_id=sub.pk)

    sub.refresh_from_db()
    assert sub.status == Submission.Status.GRADED and submission_passed(sub)
    assignment.current_version.refresh_from_db()
    assert set(assignment.current_version.spec["expected"]) == {
        t["id"] for key in ("public_tests", "hidden_tests") for t in assignment.current_version.spec[key]
    }


@pytest.mark.django_db
def test_a_deferred_version_is_completed_once_and_keeps_what_was_authored(monkeypatch):
    monkeypatch.setenv("KAFAAT_SANDBOX_BWRAP", "/nonexistent/bwrap")
    course = archive.course_import(data=archive.zip_directory(DEMO_DIR / "courses" / "ds-102"))
    version = course.assignments.get(slug="code-count-high-blood-pressure").current_version
    authored = dict(version.spec)
    monkeypatch.delenv("KAFAAT_SANDBOX_BWRAP")
    completed = kinds.complete_spec("code", version.spec)

    stored = course_services.assignment_version_derived_store(version=version, spec={**completed, "entrypoint": "x"})
    again = course_services.assignment_version_derived_store(version=version, spec={**completed, "expected": {}})

    assert stored.spec == {**authored, "expected": completed["expected"]}
    assert again.spec == stored.spec
    assert kinds.complete_spec("code", again.spec) is None

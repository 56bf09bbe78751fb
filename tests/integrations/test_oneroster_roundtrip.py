"""A university's whole OneRoster round trip, as its SIS does it: import a full roster, send it
again, send a delta, then pull its grades back as OneRoster 1.2 Gradebook CSV, through the API and
through the command line, on the committed sample packages (scripts/oneroster_packages.py)."""

import io

import pytest
from django.core.management import call_command

from courses.models import Enrollment
from roster.models import RosterClass, RosterEnrollment, RosterUser
from scripts.oneroster_packages import build_packages
from tests.analytics.helpers import make_assignment, submit
from tests.factories import CourseFactory
from tests.roster.test_gradebook_export import read_package

from .test_oneroster import upload

pytestmark = pytest.mark.django_db

PACKAGES = build_packages()


@pytest.fixture
def courses(db):
    return {code: CourseFactory(code=code) for code in ("ds-101", "cy-101")}


def _seats(org) -> set[tuple[str, str, str]]:
    return set(
        Enrollment.objects.filter(user__organization=org).values_list("user__external_id", "course__code", "status")
    )


def _grade(courses, external_id: str, score: int):
    quiz = make_assignment(courses["ds-101"], kind="quiz", title="Quiz 1", points=10)
    user = Enrollment.objects.get(user__external_id=external_id, course=courses["ds-101"]).user
    submit(user, quiz, score=score)


def test_import_resend_delta_then_grades_back_through_the_api(api, org, courses):
    resp = upload(api, PACKAGES["bulk.zip"])
    assert resp.status_code == 200, resp.json()
    first = _seats(org)
    assert first == {
        ("stu-0001", "ds-101", "active"), ("stu-0002", "ds-101", "active"), ("stu-0003", "ds-101", "active"),
        ("stu-0002", "cy-101", "active"), ("stu-0003", "cy-101", "active"), ("stu-0004", "cy-101", "active"),
    }  # fmt: skip
    assert RosterClass.objects.get(organization=org, sourced_id="cls-ds-a").course == courses["ds-101"]

    # The same snapshot again changes nothing.
    resp = upload(api, PACKAGES["bulk.zip"])
    assert resp.status_code == 200, resp.json()
    assert _seats(org) == first
    assert RosterEnrollment.objects.filter(organization=org, is_active=False).count() == 0

    # The delta refers to a class only the bulk package held, and removes one learner.
    resp = upload(api, PACKAGES["delta.zip"])
    assert resp.status_code == 200, resp.json()
    assert RosterUser.objects.get(organization=org, sourced_id="stu-0004").is_active is False
    assert RosterClass.objects.get(organization=org, sourced_id="cls-ds-a").title == "Data science A (renamed)"
    seats = _seats(org)
    assert ("stu-0001", "cy-101", "active") in seats and ("stu-0004", "cy-101", "dropped") in seats

    _grade(courses, "stu-0001", 8)
    resp = api.get("oneroster/classes/cls-ds-a/gradebook.zip", {"term": "term-1"})
    assert resp.status_code == 200, resp.content
    pkg = read_package(b"".join(resp.streaming_content))
    results = {r["studentSourcedId"]: r for r in pkg["results.csv"]}
    assert results["stu-0001"]["score"] == "8" and results["stu-0001"]["scoreStatus"] == "fully graded"
    assert set(results) <= {"stu-0001", "stu-0002", "stu-0003"}
    assert {r["classSourcedId"] for r in pkg["lineItems.csv"]} == {"cls-ds-a"}
    assert {r["academicSessionSourcedId"] for r in pkg["lineItems.csv"]} == {"term-1"}


def test_the_same_round_trip_through_the_command_line(org, courses, tmp_path):
    for name in ("bulk.zip", "bulk.zip", "delta.zip"):
        path = tmp_path / name
        path.write_bytes(PACKAGES[name])
        out = io.StringIO()
        call_command("import_oneroster", str(path), "--org", org.slug, stdout=out)
    assert ("stu-0001", "cy-101", "active") in _seats(org)

    _grade(courses, "stu-0002", 6)
    target, out = tmp_path / "grades.zip", io.StringIO()
    call_command(
        "export_oneroster_gradebook", "--org", org.slug, "--class", "cls-ds-a", "--term", "term-1",
        "-o", str(target), stdout=out,
    )  # fmt: skip
    pkg = read_package(target.read_bytes())
    assert {r["studentSourcedId"]: r["score"] for r in pkg["results.csv"] if r["score"]} == {"stu-0002": "6"}
    assert out.getvalue().strip()  # the next cursor is printed

"""GET /api/v1/oneroster/classes and /api/v1/oneroster/classes/<sourcedId>/gradebook.zip: a
university pulls its classes' gradebooks as OneRoster 1.2 Gradebook CSV, whole or as a delta."""

import pytest

from analytics.services import grade_override
from tests.analytics.helpers import course_with_instructor, make_assignment, submit
from tests.roster.helpers import roster_class, student
from tests.roster.test_gradebook_export import RESULTS, read_package

from .conftest import Api

pytestmark = pytest.mark.django_db

URL = "oneroster/classes/class-1/gradebook.zip"


@pytest.fixture
def world(org):
    course, teacher = course_with_instructor(title="Data 101", code="data-101")
    quiz = make_assignment(course, kind="quiz", title="Quiz 1", points=10)
    cls = roster_class(org, course)
    amina, karim = student(cls, "stu-1"), student(cls, "stu-2")
    submit(amina, quiz, score=8)
    submit(karim, quiz, score=4)
    return course, teacher, cls, quiz, amina, karim


def _zip(resp) -> dict:
    assert resp.status_code == 200, resp.content
    assert resp["Content-Type"] == "application/zip"
    return read_package(b"".join(resp.streaming_content))


def test_classes_are_listed_with_their_course_code_and_terms(api, world):
    resp = api.get("oneroster/classes")
    assert resp.status_code == 200
    (cls,) = resp.json()["results"]
    assert cls["sourcedId"] == "class-1"
    assert cls["course_code"] == "data-101"
    assert cls["termSourcedIds"] == ["term-2026"]
    assert cls["gradebook_url"].endswith("/api/v1/oneroster/classes/class-1/gradebook.zip")


def test_another_universitys_classes_are_not_listed_and_their_gradebook_is_404(other_api, world):
    assert other_api.get("oneroster/classes").json() == {"results": []}
    resp = other_api.get(URL, {"term": "term-2026"})
    assert resp.status_code == 404
    assert resp.json()["error"]["code"] == "not_found"


def test_a_client_without_grades_read_is_refused(org, world):
    api = Api(org, scopes=["enrollments:read"])
    assert api.get(URL, {"term": "term-2026"}).status_code == 403
    assert api.get("oneroster/classes").status_code == 403


def test_the_term_export_is_a_bulk_package_with_a_cursor_header(api, world):
    resp = api.get(URL, {"term": "term-2026"})
    pkg = _zip(resp)
    assert resp["X-OneRoster-Cursor"]
    assert 'filename="oneroster-gradebook-class-1.zip"' in resp["Content-Disposition"]
    assert pkg["_headers"]["results.csv"] == RESULTS
    assert sorted((r["studentSourcedId"], r["score"]) for r in pkg["results.csv"]) == [("stu-1", "8"), ("stu-2", "4")]
    manifest = {r["propertyName"]: r["value"] for r in pkg["manifest.csv"]}
    assert manifest["file.results"] == "bulk"


def test_the_delta_after_the_cursor_carries_only_the_changed_result(api, world):
    course, teacher, cls, quiz, amina, karim = world
    first = api.get(URL, {"from": "2020-01-01", "to": "2099-12-31"})
    _zip(first)
    grade_override(actor=teacher, course=course, learner=amina, assignment=quiz, score=10, reason="bonus")
    resp = api.get(URL, {"from": "2020-01-01", "to": "2099-12-31", "since": first["X-OneRoster-Cursor"]})
    pkg = _zip(resp)
    (row,) = pkg["results.csv"]
    assert (row["studentSourcedId"], row["score"], row["status"]) == ("stu-1", "10", "active")
    assert {r["propertyName"]: r["value"] for r in pkg["manifest.csv"]}["file.results"] == "delta"
    assert resp["X-OneRoster-Cursor"] != first["X-OneRoster-Cursor"]


@pytest.mark.parametrize(
    "params,field",
    [
        ({}, "term"),
        ({"term": "nope"}, "term"),
        ({"term": "term-2026", "from": "2026-01-01"}, "term"),
        ({"from": "2026-01-01"}, "to"),
        ({"to": "2026-01-01"}, "from"),
        ({"from": "2026-13-01", "to": "2026-12-01"}, "from"),
        ({"from": "2026-12-01", "to": "2026-01-01"}, "to"),
        ({"term": "term-2026", "since": "garbage"}, "since"),
    ],
)
def test_bad_parameters_are_400s_naming_the_parameter(api, world, params, field):
    resp = api.get(URL, params)
    assert resp.status_code == 400, resp.content
    assert [d["field"] for d in resp.json()["error"]["details"]] == [field]


def test_an_unknown_class_is_404(api, world):
    assert api.get("oneroster/classes/nope/gradebook.zip", {"term": "term-2026"}).status_code == 404

"""A code assignment's public tests show their arguments as a learner reads them: JSON values as
JSON, DataFrames as a small table (first rows, then how many more), on the learner's page and on
the instructor's preview, which share the body template."""

import lxml.html
import pytest
from django.urls import reverse
from django.utils import translation

from assessment.kinds.code import shown
from tests.factories import CourseFactory
from tests.grading.helpers import learner_for, make_assignment
from tests.twofactor import login_with_2fa

WARDS = {"__dataframe__": {"columns": ["ward", "stay"], "data": [[f"W{i}", i] for i in range(12)]}}
SPEC = {
    "entrypoint": "solve",
    "starter_code": "def solve(df):\n    ...\n",
    "reference_solution": "def solve(df, *rest, scale=1):\n    return len(df) * scale if hasattr(df, 'shape') else 0\n",
    "public_tests": [
        {"id": "frame", "args": [WARDS], "kwargs": {"scale": 2}},
        {"id": "plain", "args": [[1, 2, 3]]},
        {"id": "text", "args": ["café", None, True]},
    ],
    "hidden_tests": [],
}


def _tests_rows(html: bytes) -> dict:
    """The public tests table: {test id: its arguments cell}."""
    doc = lxml.html.fromstring(html)
    return {
        tr.xpath("./td[1]")[0].text_content(): tr.xpath("./td[2]")[0]
        for tr in doc.xpath("//section[@class='tests']/table/tbody/tr")
    }


@pytest.fixture
def assignment(db):
    return make_assignment("code", SPEC, course=CourseFactory(language="fr"))


def _learner_page(client, assignment, language: str) -> bytes:
    login_with_2fa(client, learner_for(assignment))
    url = reverse("courses:assignment", kwargs={"code": assignment.course.code, "pk": assignment.pk})
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content


def test_a_dataframe_argument_is_a_table_of_its_first_rows_with_the_count_of_the_others(client, assignment):
    rows = _tests_rows(_learner_page(client, assignment, "en"))
    table = rows["frame"].xpath(".//figure[@class='frame']//table")[0]
    assert (table.get("dir"), table.get("lang")) == ("ltr", "fr")
    assert [th.text_content() for th in table.xpath("./thead/tr/th")] == ["ward", "stay"]
    body = [[td.text_content() for td in tr.xpath("./td")] for tr in table.xpath("./tbody/tr")]
    assert body == [[f"W{i}", str(i)] for i in range(10)]
    assert rows["frame"].xpath(".//figcaption")[0].text_content() == "DataFrame, 12 rows"
    assert rows["frame"].xpath(".//p[@class='more']")[0].text_content() == "… 2 more rows"
    assert [c.text_content() for c in rows["frame"].xpath(".//code")] == ["scale=2"]
    assert "__dataframe__" not in rows["frame"].text_content()


def test_plain_arguments_are_json_not_python(client, assignment):
    rows = _tests_rows(_learner_page(client, assignment, "en"))
    assert [c.text_content() for c in rows["plain"].xpath(".//code")] == ["[1, 2, 3]"]
    assert [c.text_content() for c in rows["text"].xpath(".//code")] == ['"café"', "null", "true"]


def test_the_rows_left_out_are_counted_in_the_page_language(client, assignment):
    rows = _tests_rows(_learner_page(client, assignment, "ar"))
    with translation.override("ar"):
        expected = translation.ngettext("… %(n)s more row", "… %(n)s more rows", 2) % {"n": 2}
    assert rows["frame"].xpath(".//p[@class='more']")[0].text_content() == expected != "… 2 more rows"


def test_the_instructor_preview_shows_the_same_table(client, assignment):
    instructor = learner_for(assignment)
    assignment.course.instructors.add(instructor)
    login_with_2fa(client, instructor)
    url = reverse("courses:author-assignment-preview", kwargs={"code": assignment.course.code, "pk": assignment.pk})
    rows = _tests_rows(client.get(url, HTTP_ACCEPT_LANGUAGE="en").content)
    assert len(rows["frame"].xpath(".//table/tbody/tr")) == 10


def test_a_malformed_dataframe_is_shown_as_json():
    odd = {"__dataframe__": {"columns": ["a"], "data": [1, 2]}}
    assert shown.arguments({"args": [odd]}) == [
        {"name": None, "json": '{"__dataframe__": {"columns": ["a"], "data": [1, 2]}}'}
    ]

"""Hostile input on the gradebook and analytics pages: 4xx or form errors, never a 500."""

import pytest
from django.utils.html import escape

from tests.badinput import ENORMOUS, HUGE, NOT_FOUND, NUL, _counts, _no_500, _redirected, _refused  # noqa: F401
from tests.twofactor import login_with_2fa


@pytest.fixture
def author(client, world):
    login_with_2fa(client, world["instructor"])
    return client


# --- gradebook and analytics --------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "page=abc", "page=-1", "page=999999", "page=" + ENORMOUS, "organization=abc", "organization=" + ENORMOUS,
        "status=bogus", "source=%00", "at_risk=%00", "page=1&page=2", "organization=-1",
    ],
)  # fmt: skip
def test_gradebook_and_analytics_with_garbage_filters(author, world, query):
    code = world["course"].code
    # A filter value it cannot read is left out (or, for a flag, read as set): the page, not an error.
    for url, shown in ((f"/teach/{code}/gradebook/", "Gradebook: "), (f"/teach/{code}/analytics/", "Analytics: ")):
        _refused(author.get(f"{url}?{query}"), 200, shown + escape(world["course"].title))
    for url, kind in ((f"/teach/{code}/gradebook/export.csv", "text/csv"),
                      (f"/teach/{code}/gradebook/export.xlsx", "application/vnd.openxmlformats")):  # fmt: skip
        response = author.get(f"{url}?{query}")
        assert response.status_code == 200 and response["Content-Type"].startswith(kind)
        if response.streaming:
            b"".join(response.streaming_content)  # the stream runs to its end without an error


def test_teaching_views_with_garbage(author, world):
    code = world["course"].code
    learner, quiz = world["learner"], world["quiz"]
    for pk in (0, 10**12, int(ENORMOUS)):
        _refused(author.get(f"/teach/{code}/analytics/assignments/{pk}/"), 404, NOT_FOUND)
        _refused(author.get(f"/teach/{code}/gradebook/exports/{pk}/"), 404, NOT_FOUND)
        _refused(author.get(f"/teach/{code}/gradebook/exports/{pk}/file"), 404, NOT_FOUND)
        _refused(author.get(f"/teach/{code}/gradebook/override/{pk}/{quiz.pk}/"), 404, NOT_FOUND)
        _refused(author.get(f"/teach/{code}/gradebook/override/{learner.pk}/{pk}/"), 404, NOT_FOUND)
    _refused(author.get(f"/teach/{code}/gradebook/export.pdf"), 404, NOT_FOUND)
    _refused(author.get("/teach/paths/no-such-path/analytics/"), 404, NOT_FOUND)
    for data in ({}, {"format": "pdf"}, {"format": NUL}):
        response = author.post(f"/teach/{code}/gradebook/exports/", data)
        _redirected(author, response, f"/teach/{code}/gradebook/", "Choose CSV or XLSX.")
    url = f"/teach/{code}/gradebook/override/{learner.pk}/{quiz.pk}/"
    before = _counts()
    bad = [{}, {"score": "-1", "reason": "r"}, {"score": "abc", "reason": "r"}, {"score": ENORMOUS, "reason": "r"},
           {"score": "NaN", "reason": "r"}, {"score": "5", "reason": NUL},
           {"score": "1000", "reason": "more than the points"}, {"score": "5", "reason": ""}]  # fmt: skip
    for data in bad:
        response = _no_500(author.post(url, data))
        assert response.status_code == 400, data
    assert _counts() == before

"""Hostile input on the gradebook and analytics pages: 4xx or form errors, never a 500."""

import pytest

from tests.badinput import ENORMOUS, HUGE, NUL, _counts, _no_500  # noqa: F401
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
    for url in (f"/teach/{code}/gradebook/", f"/teach/{code}/gradebook/export.csv", f"/teach/{code}/analytics/",
                f"/teach/{code}/gradebook/export.xlsx"):  # fmt: skip
        response = _no_500(author.get(f"{url}?{query}"))
        if response.streaming:
            b"".join(response.streaming_content)


def test_teaching_views_with_garbage(author, world):
    code = world["course"].code
    learner, quiz = world["learner"], world["quiz"]
    for pk in (0, 10**12, int(ENORMOUS)):
        _no_500(author.get(f"/teach/{code}/analytics/assignments/{pk}/"))
        _no_500(author.get(f"/teach/{code}/gradebook/exports/{pk}/"))
        _no_500(author.get(f"/teach/{code}/gradebook/exports/{pk}/file"))
        _no_500(author.get(f"/teach/{code}/gradebook/override/{pk}/{quiz.pk}/"))
        _no_500(author.get(f"/teach/{code}/gradebook/override/{learner.pk}/{pk}/"))
    _no_500(author.get(f"/teach/{code}/gradebook/export.pdf"))
    _no_500(author.get("/teach/paths/no-such-path/analytics/"))
    for data in ({}, {"format": "pdf"}, {"format": NUL}):
        _no_500(author.post(f"/teach/{code}/gradebook/exports/", data))
    url = f"/teach/{code}/gradebook/override/{learner.pk}/{quiz.pk}/"
    before = _counts()
    bad = [{}, {"score": "-1", "reason": "r"}, {"score": "abc", "reason": "r"}, {"score": ENORMOUS, "reason": "r"},
           {"score": "NaN", "reason": "r"}, {"score": "5", "reason": NUL},
           {"score": "1000", "reason": "more than the points"}, {"score": "5", "reason": ""}]  # fmt: skip
    for data in bad:
        response = _no_500(author.post(url, data))
        assert response.status_code == 400, data
    assert _counts() == before

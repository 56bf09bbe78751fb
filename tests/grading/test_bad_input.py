"""Hostile input on the grading pages: 4xx, never a 500."""

from django.urls import reverse

from tests.badinput import ENORMOUS, HUGE, NOT_FOUND, NUL, _counts, _no_500, _refused  # noqa: F401
from tests.twofactor import login_with_2fa

# --- grading ----------------------------------------------------------------------------------


def test_grading_views_with_garbage(client, world):
    login_with_2fa(client, world["instructor"])
    before = _counts()
    # No such assignment (or none given): the regrade has nothing to start on.
    for data in ({}, {"submission": "abc"}, {"submission": ENORMOUS}, {"assignment": NUL},
                 {"assignment": "-1"}, {"assignment": ENORMOUS}):  # fmt: skip
        _refused(client.post(reverse("grading:regrade-start"), data), 404, NOT_FOUND)
    for pk in (0, 10**12, int(ENORMOUS)):
        _refused(client.get(f"/grading/regrades/{pk}/"), 404, NOT_FOUND)
        _refused(client.get(f"/grading/review/{pk}/"), 404, NOT_FOUND)
        _refused(client.post(f"/grading/review/{pk}/", {"feedback": HUGE}), 404, NOT_FOUND)
        _refused(client.post(f"/submissions/{pk}/retry/"), 404, NOT_FOUND)
    assert _counts() == before

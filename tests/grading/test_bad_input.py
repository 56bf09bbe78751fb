"""Hostile input on the grading pages: 4xx, never a 500."""

from django.urls import reverse

from tests.badinput import ENORMOUS, HUGE, NUL, _counts, _no_500  # noqa: F401
from tests.twofactor import login_with_2fa

# --- grading ----------------------------------------------------------------------------------


def test_grading_views_with_garbage(client, world):
    login_with_2fa(client, world["instructor"])
    for data in ({}, {"submission": "abc"}, {"submission": ENORMOUS}, {"assignment": NUL},
                 {"assignment": "-1"}, {"assignment": ENORMOUS}):  # fmt: skip
        _no_500(client.post(reverse("grading:regrade-start"), data))
    for pk in (0, 10**12, int(ENORMOUS)):
        _no_500(client.get(f"/grading/regrades/{pk}/"))
        _no_500(client.get(f"/grading/review/{pk}/"))
        _no_500(client.post(f"/grading/review/{pk}/", {"feedback": HUGE}))
        _no_500(client.post(f"/submissions/{pk}/retry/"))

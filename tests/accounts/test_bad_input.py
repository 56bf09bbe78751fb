"""Hostile input on the account pages: form errors and 4xx, never a 500, nothing written."""

import pytest
from django.urls import reverse

from tests.badinput import ENORMOUS, HUGE, NUL, _counts, _no_500  # noqa: F401

# --- accounts ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        {"full_name": "", "email": "", "password": ""},
        {
            "full_name": "A",
            "email": "a" * 250 + "@example.org",
            "password": "a long enough passphrase 1",
            "accept_privacy": "on",
        },  # fmt: skip
        {
            "full_name": HUGE,
            "email": "big@example.org",
            "password": "a long enough passphrase 1",
            "accept_privacy": "on",
        },  # fmt: skip
        {
            "full_name": NUL,
            "email": "nul@example.org",
            "password": "a long enough passphrase 1",
            "accept_privacy": "on",
        },  # fmt: skip
        {"full_name": "A", "email": "nul\x00@example.org", "password": "x", "accept_privacy": "on"},
        {"full_name": "A", "email": "pw@example.org", "password": NUL * 5, "accept_privacy": "on"},
    ],
)
def test_signup_refuses_garbage_with_a_form_error(client, db, data):
    before = _counts()
    response = _no_500(client.post(reverse("accounts:signup"), data))
    assert response.status_code == 400
    assert _counts() == before


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"username": NUL, "password": NUL},
        {"username": "a" * 400 + "@example.org", "password": "x"},
        {"username": "someone@example.org", "password": HUGE},
        {"username": "someone@example.org", "password": "a\x00b"},
    ],
)
def test_login_refuses_garbage(client, db, data):
    response = _no_500(client.post(reverse("accounts:login"), data))
    assert response.status_code in {200, 400, 429}
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("token", ["x", "a" * 5000, "%00", "eyJ1Ijo.bad:sig", "::::", "\u00e9\u00e9"])
def test_email_links_with_garbage_tokens_say_so(client, db, token):
    for name in ("accounts:verify", "accounts:activate"):
        _no_500(client.get(reverse(name, kwargs={"token": token})))
    _no_500(client.post(reverse("accounts:activate-resend", kwargs={"token": token})))
    _no_500(client.get(reverse("accounts:password-reset-confirm", kwargs={"uidb64": token[:50], "token": "x-y"})))


@pytest.mark.parametrize("data", [{}, {"email": NUL}, {"email": HUGE}, {"email": "a" * 300 + "@x.org"}])
def test_resend_and_reset_forms_refuse_garbage(client, db, data):
    _no_500(client.post(reverse("accounts:verify-resend"), data))
    _no_500(client.post(reverse("accounts:password-reset"), data))


def test_account_posts_with_garbage(client, world):
    user = world["learner"]
    client.force_login(user)
    for data in ({}, {"session_key": NUL}, {"session_key": HUGE}, {"session_key": ["a", "b"]}):
        _no_500(client.post(reverse("accounts:session-end"), data))
    for data in ({}, {"token": NUL}, {"token": HUGE}, {"token": "12345678901234567"}):
        _no_500(client.post(reverse("accounts:otp-setup"), data))
        _no_500(client.post(reverse("accounts:otp-verify"), data))
    for data in ({}, {"accept_privacy": NUL}, {"next": "//evil.example"}):
        _no_500(client.post(reverse("accounts:consent"), data))
    for data in ({}, {"old_password": NUL, "new_password1": HUGE, "new_password2": "x"}):
        _no_500(client.post(reverse("accounts:password-change"), data))
    _no_500(client.get(reverse("accounts:export-download", kwargs={"pk": 10**12})))
    for method in ("get", "put", "delete"):
        _no_500(getattr(client, method)(reverse("accounts:export-request")))
        _no_500(getattr(client, method)(reverse("accounts:deletion-request")))

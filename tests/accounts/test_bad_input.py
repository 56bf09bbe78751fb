"""Hostile input on the account pages: form errors and 4xx, never a 500, nothing written."""

import pytest
from django.urls import reverse

from tests.badinput import ENORMOUS, HUGE, NOT_FOUND, NUL, _counts, _no_500, _redirected, _refused  # noqa: F401

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


BAD_LINK = "This link is not valid: it may have been altered or copied incompletely."
BAD_RESET_LINK = "This password reset link is not valid: it has expired, has already been used, or was altered."
LOGIN = "/accounts/login/"


@pytest.mark.parametrize("token", ["x", "a" * 5000, "%00", "eyJ1Ijo.bad:sig", "::::", "\u00e9\u00e9"])
def test_email_links_with_garbage_tokens_say_so(client, db, token):
    before = _counts()
    for name in ("accounts:verify", "accounts:activate"):
        _refused(client.get(reverse(name, kwargs={"token": token})), 400, BAD_LINK)
    # A new invitation link is offered whatever the token: the answer never says which exist.
    response = client.post(reverse("accounts:activate-resend", kwargs={"token": token}))
    _redirected(client, response, LOGIN, "If this invitation can still be used, a new link is on its way")
    # Django's reset view shows its "link not valid" page with a 200.
    url = reverse("accounts:password-reset-confirm", kwargs={"uidb64": token[:50], "token": "x-y"})
    _refused(client.get(url), 200, BAD_RESET_LINK)
    assert _counts() == before


RESEND_SENT = "If this address has an unconfirmed account, a new link is on its way."


@pytest.mark.parametrize(
    "data, resend_error, reset_error",
    [
        ({}, "This field is required.", "This field is required."),
        ({"email": NUL}, "Null characters are not allowed.", "Null characters are not allowed."),
        ({"email": HUGE}, "Ensure this value has at most 320 characters (it has 1048576).",
         "Ensure this value has at most 254 characters (it has 1048576)."),
        # Short enough for the resend form (320), which then answers as for any address.
        ({"email": "a" * 300 + "@x.org"}, None, "Ensure this value has at most 254 characters (it has 306)."),
    ],
)  # fmt: skip
def test_resend_and_reset_forms_refuse_garbage(client, db, data, resend_error, reset_error):
    before = _counts()
    response = client.post(reverse("accounts:verify-resend"), data)
    if resend_error is None:
        _redirected(client, response, LOGIN, RESEND_SENT)
    else:
        _refused(response, 400, resend_error)
    # Django's reset view shows its form errors with a 200.
    _refused(client.post(reverse("accounts:password-reset"), data), 200, reset_error)
    assert _counts() == before


def test_account_posts_with_garbage(client, world):
    user = world["learner"]
    client.force_login(user)
    before = _counts()
    sessions = reverse("accounts:sessions")
    for data in ({}, {"session_key": NUL}, {"session_key": HUGE}, {"session_key": ["a", "b"]}):
        # No such session of this user: nothing ends, this one included.
        _redirected(client, client.post(reverse("accounts:session-end"), data), sessions)
        assert client.session.get("_auth_user_id") == str(user.pk)
    setup = reverse("accounts:otp-setup")
    _refused(client.post(setup, {}), 200, "Set up two-factor authentication")
    too_long = "Ensure this value has at most 16 characters (it has {})."
    for data, error in (({"token": NUL}, "Null characters are not allowed."),
                        ({"token": HUGE}, too_long.format(1048576)),
                        ({"token": "12345678901234567"}, too_long.format(17))):  # fmt: skip
        _refused(client.post(setup, data), 400, error)
    for data in ({}, {"token": NUL}, {"token": HUGE}, {"token": "12345678901234567"}):
        # A learner without a device is sent to set one up, whatever the code.
        _redirected(client, client.post(reverse("accounts:otp-verify"), data), f"{setup}?next=")
    consent = reverse("accounts:consent")
    _refused(client.post(consent, {}), 200, "Our privacy notice has changed. Please read it and accept it to go on.")
    _refused(client.post(consent, {"next": "//evil.example"}), 200, "Please accept the privacy notice to go on using")
    _redirected(client, client.post(consent, {"accept_privacy": NUL, "next": "//evil.example"}), "/")  # never off-site
    change = reverse("accounts:password-change")
    _refused(client.post(change, {}), 200, "This field is required.")
    garbage = {"old_password": NUL, "new_password1": HUGE, "new_password2": "x"}
    _refused(client.post(change, garbage), 200, "Null characters are not allowed.")
    _refused(client.get(reverse("accounts:export-download", kwargs={"pk": 10**12})), 404, NOT_FOUND)
    for method in ("get", "put", "delete"):
        _refused(getattr(client, method)(reverse("accounts:export-request")), 405)
        _refused(getattr(client, method)(reverse("accounts:deletion-request")), 405)
    assert _counts() == before

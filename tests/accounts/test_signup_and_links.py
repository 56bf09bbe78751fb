"""Sign-up with consent and e-mail verification, invitations, password reset: every e-mailed link
works once, and a forged, expired or spent link says so and offers a new one."""

import re
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core import signing
from django.test import Client
from django.urls import reverse

from accounts import services
from accounts.models import Consent, UserSession
from tests.accounts.conftest import link_in
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db
User = get_user_model()
PASSWORD = "a-long-and-unusual-passphrase"


def _signup(client, **extra):
    data = {"full_name": "Amina Learner", "email": "Amina@Example.org", "password": PASSWORD, "accept_privacy": "on"}
    data.update(extra)
    return client.post(reverse("accounts:signup"), data, HTTP_ACCEPT_LANGUAGE="en")


def test_signup_records_consent_and_the_account_is_usable_from_the_emailed_link(
    client, outbox, django_capture_on_commit_callbacks, settings
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _signup(client)
    assert response.status_code == 200 and b"Check your mailbox" in response.content
    assert "_auth_user_id" not in client.session  # nobody is logged in by a sign-up
    user = User.objects.get(email="amina@example.org")
    assert user.email_verified_at is None and not user.is_active
    assert Consent.objects.filter(user=user, notice_version=settings.KAFAAT_PRIVACY_NOTICE_VERSION).exists()
    assert len(outbox) == 1 and outbox[0].to == ["amina@example.org"]

    # Not usable before the address is confirmed.
    login = client.post(reverse("accounts:login"), {"username": "amina@example.org", "password": PASSWORD})
    assert login.status_code == 200 and "_auth_user_id" not in client.session

    response = client.get(link_in(outbox[0]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
    user.refresh_from_db()
    assert user.email_verified_at is not None and user.is_active
    login = client.post(reverse("accounts:login"), {"username": "amina@example.org", "password": PASSWORD})
    assert login.status_code == 302 and client.session["_auth_user_id"] == str(user.pk)


def _page_text(response) -> bytes:
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", response.content)


def test_signup_with_an_existing_address_answers_exactly_like_a_new_one_and_emails_the_owner(
    outbox, django_capture_on_commit_callbacks
):
    owner = UserFactory(email="taken@example.org", full_name="Owner")
    before = (owner.password, owner.full_name, owner.is_active)
    new_client, taken_client = Client(), Client()
    with django_capture_on_commit_callbacks(execute=True):
        new = _signup(new_client, email="fresh@example.org")
        taken = _signup(taken_client, email="Taken@Example.org", full_name="Someone Else")

    assert new.status_code == taken.status_code == 200
    assert _page_text(new) == _page_text(taken)
    assert "_auth_user_id" not in new_client.session and "_auth_user_id" not in taken_client.session
    assert User.objects.filter(email__iexact="taken@example.org").count() == 1
    owner.refresh_from_db()
    assert (owner.password, owner.full_name, owner.is_active) == before
    assert not Consent.objects.filter(user=owner).exists()

    (notice,) = [m for m in outbox if m.to == ["taken@example.org"]]
    assert "someone tried to create a kafaat account" in notice.body.lower()
    assert reverse("accounts:login") in notice.body and reverse("accounts:password-reset") in notice.body
    assert "/accounts/verify/" not in notice.body


def test_signing_up_again_before_confirming_sends_a_new_confirmation_link(
    outbox, django_capture_on_commit_callbacks, client
):
    with django_capture_on_commit_callbacks(execute=True):
        _signup(Client())
        again = _signup(Client(), full_name="Amina Again")
    assert again.status_code == 200
    assert len(outbox) == 2 and outbox[1].to == ["amina@example.org"]
    assert "/accounts/verify/" in outbox[1].body
    assert client.get(link_in(outbox[1])).status_code == 302
    assert User.objects.get(email="amina@example.org").is_active


def test_signup_without_accepting_the_privacy_notice_is_refused_with_a_form_error(client):
    response = _signup(client, accept_privacy="")
    assert response.status_code == 400
    assert b"accept the privacy notice" in response.content
    assert not User.objects.exists()


def test_a_forged_verification_link_says_so_and_offers_a_new_one(client):
    user = UserFactory()
    token = services.link_token_make(user=user, purpose="verify")
    response = client.get(reverse("accounts:verify", args=[token[:-3] + "abc"]), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert b"not valid" in response.content
    assert reverse("accounts:verify-resend").encode() in response.content


def test_an_expired_verification_link_says_so_and_a_new_one_can_be_sent(
    client, outbox, settings, django_capture_on_commit_callbacks
):
    user = UserFactory()
    token = services.link_token_make(user=user, purpose="verify")
    later = signing.time.time() + settings.KAFAAT_EMAIL_LINK_MAX_AGE + 10
    with mock.patch("django.core.signing.time.time", return_value=later):
        response = client.get(reverse("accounts:verify", args=[token]), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert b"expired" in response.content
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:verify-resend"), {"email": user.email})
    assert response.status_code == 302
    assert len(outbox) == 1
    assert client.get(link_in(outbox[0])).status_code == 302
    user.refresh_from_db()
    assert user.email_verified_at is not None


def test_a_verification_link_works_once(client):
    user = UserFactory()
    token = services.link_token_make(user=user, purpose="verify")
    assert client.get(reverse("accounts:verify", args=[token])).status_code == 302
    response = client.get(reverse("accounts:verify", args=[token]), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400 and b"already been used" in response.content


def _invited(**extra):
    org = OrganizationFactory()
    return services.user_create(
        email="synced@univ.ma", password=None, full_name="Synced Learner", organization=org, external_id="S-1",
        is_active=False, **extra,
    )  # fmt: skip


def test_an_invited_learner_activates_their_account_by_email(client, outbox, django_capture_on_commit_callbacks):
    user = _invited()
    with django_capture_on_commit_callbacks(execute=True):
        services.invitation_send(user=user)
    assert len(outbox) == 1 and outbox[0].to == ["synced@univ.ma"]
    path = link_in(outbox[0])

    assert client.get(path).status_code == 200
    response = client.post(path, {"password1": PASSWORD, "password2": PASSWORD, "accept_privacy": "on"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.is_active and user.check_password(PASSWORD) and user.email_verified_at is not None
    assert Consent.objects.filter(user=user).count() == 1
    # Logged in, and the link is now spent.
    assert client.get(reverse("accounts:me")).status_code == 200
    response = Client().get(path, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400 and b"already been used" in response.content


def test_an_expired_invitation_offers_a_new_one(client, outbox, settings, django_capture_on_commit_callbacks):
    user = _invited()
    token = services.link_token_make(user=user, purpose="invite")
    later = signing.time.time() + settings.KAFAAT_EMAIL_LINK_MAX_AGE + 10
    with mock.patch("django.core.signing.time.time", return_value=later):
        response = client.get(reverse("accounts:activate", args=[token]), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400 and b"expired" in response.content
    resend = reverse("accounts:activate-resend", args=[token])
    assert resend.encode() in response.content
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(resend).status_code == 302
    assert len(outbox) == 1 and client.get(link_in(outbox[0])).status_code == 200


def test_activation_refuses_a_weak_password_with_a_form_error(client):
    user = _invited()
    path = reverse("accounts:activate", args=[services.link_token_make(user=user, purpose="invite")])
    response = client.post(path, {"password1": "123", "password2": "123", "accept_privacy": "on"})
    assert response.status_code == 400
    user.refresh_from_db()
    assert not user.is_active


def test_password_reset_by_email_ends_every_session(client, outbox):
    user = UserFactory(email="reset@example.org")
    other = Client()
    other.force_login(user)
    assert UserSession.objects.filter(user=user).count() == 1
    other_key = other.session.session_key

    response = client.post(reverse("accounts:password-reset"), {"email": "reset@example.org"})
    assert response.status_code == 302 and len(outbox) == 1
    page = client.get(link_in(outbox[0]), follow=True)
    assert page.status_code == 200 and page.context["validlink"]
    response = client.post(page.redirect_chain[-1][0], {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert not UserSession.objects.filter(user=user).exists()
    assert not Session.objects.filter(session_key=other_key).exists()
    assert other.get(reverse("accounts:me")).status_code == 302  # logged out


def test_a_forged_password_reset_link_says_so_and_offers_a_new_one(client):
    response = client.get(
        reverse("accounts:password-reset-confirm", args=["MQ", "forged-token"]), follow=True, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    assert b"not valid" in response.content
    assert reverse("accounts:password-reset").encode() in response.content


def test_passwords_are_hashed_with_argon2(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    user = services.user_create(email="argon@example.org", password=PASSWORD)
    assert user.password.startswith("argon2")

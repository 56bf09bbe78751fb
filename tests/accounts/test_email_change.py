"""A change of address (issue 12): on an activated account it waits for a confirmation from the
new address, by the account's owner logged in, and the old address is told at once (with a way
to cancel). Until then the old address is the one to log in and reset the password with. Staff
editing the address in the admin go through the same rule."""

import re
from unittest import mock

import pytest
from django import forms
from django.contrib.auth import get_user_model
from django.core import signing
from django.test import Client
from django.urls import reverse

from tests.accounts.conftest import link_in
from tests.factories import UserFactory
from tests.twofactor import login_with_2fa

pytestmark = pytest.mark.django_db
User = get_user_model()
PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def admin_form_data(form) -> dict:
    """What a browser would post back for an admin change form left as it is."""
    data = {}
    for bound in form:
        field, widget, value = bound.field, bound.field.widget, bound.value()
        if field.disabled:
            continue
        if isinstance(widget, forms.MultiWidget):
            parts = widget.decompress(value)
            for i, (sub, part) in enumerate(zip(widget.widgets, parts, strict=True)):
                data[f"{bound.html_name}_{i}"] = sub.format_value(part) or ""
        elif isinstance(field, forms.BooleanField):
            if value:
                data[bound.html_name] = "on"
        elif isinstance(value, list | tuple):
            data[bound.html_name] = [str(v) for v in value]
        else:
            data[bound.html_name] = "" if value is None else str(value)
    return data


def staff_changes_address(user, new_email, capture):
    staff = UserFactory(is_staff=True, is_superuser=True)
    admin = Client()
    login_with_2fa(admin, staff)
    url = reverse("admin:accounts_user_change", args=[user.pk])
    page = admin.get(url)
    assert page.status_code == 200
    data = admin_form_data(page.context["adminform"].form)
    data["email"] = new_email
    with capture(execute=True):
        response = admin.post(url, data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302, response.context["adminform"].form.errors
    return response


def logs_in(email, password=PASSWORD) -> bool:
    client = Client()
    client.post(reverse("accounts:login"), {"username": email, "password": password})
    return "_auth_user_id" in client.session


def test_staff_editing_an_address_in_the_admin_only_starts_a_confirmation(outbox, django_capture_on_commit_callbacks):
    learner = UserFactory(email="old@example.org", full_name="Amina")
    staff_changes_address(learner, "new@example.org", django_capture_on_commit_callbacks)

    learner.refresh_from_db()
    assert learner.email == "old@example.org"  # until confirmed
    assert logs_in("old@example.org") and not logs_in("new@example.org")
    (confirmation,) = [m for m in outbox if m.to == ["new@example.org"]]
    (notice,) = [m for m in outbox if m.to == ["old@example.org"]]
    assert "/accounts/email/confirm/" in confirmation.body
    assert "new@example.org" in notice.body and "/accounts/email/cancel/" in notice.body
    # A password reset still goes to the old address only.
    Client().post(reverse("accounts:password-reset"), {"email": "new@example.org"})
    assert len(outbox) == 2

    owner = Client(enforce_csrf_checks=True)
    owner.force_login(learner)
    path = link_in(confirmation)
    page = owner.get(path)
    assert page.status_code == 200 and b"new@example.org" in page.content
    token = CSRF.search(page.content.decode()).group(1)
    assert owner.post(path, {"csrfmiddlewaretoken": token}).status_code == 302
    learner.refresh_from_db()
    assert learner.email == "new@example.org" and learner.email_verified_at is not None
    assert logs_in("new@example.org") and not logs_in("old@example.org")
    response = owner.get(path, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400 and b"already been used" in response.content


@pytest.fixture
def pending_change(outbox, django_capture_on_commit_callbacks):
    learner = UserFactory(email="old@example.org")
    staff_changes_address(learner, "new@example.org", django_capture_on_commit_callbacks)
    confirmation = next(m for m in outbox if m.to == ["new@example.org"])
    notice = next(m for m in outbox if m.to == ["old@example.org"])
    return {"user": learner, "confirm": link_in(confirmation), "cancel": link_in(notice)}


def _address(user) -> str:
    user.refresh_from_db()
    return user.email


def test_the_confirmation_link_needs_its_owner_logged_in(pending_change):
    anonymous = Client()
    response = anonymous.get(pending_change["confirm"])
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
    assert anonymous.post(pending_change["confirm"]).status_code == 302

    someone = Client()
    someone.force_login(UserFactory())
    assert someone.get(pending_change["confirm"]).status_code == 400
    assert someone.post(pending_change["confirm"]).status_code == 400
    assert _address(pending_change["user"]) == "old@example.org"


def test_a_forged_or_expired_confirmation_link_changes_nothing(pending_change, settings):
    owner = Client()
    owner.force_login(pending_change["user"])
    forged = pending_change["confirm"].rstrip("/")[:-3] + "abc/"
    response = owner.get(forged, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400 and b"not valid" in response.content
    assert owner.post(forged).status_code == 400
    later = signing.time.time() + settings.KAFAAT_EMAIL_LINK_MAX_AGE + 10
    with mock.patch("django.core.signing.time.time", return_value=later):
        response = owner.get(pending_change["confirm"], HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 400 and b"expired" in response.content
        assert owner.post(pending_change["confirm"]).status_code == 400
    assert _address(pending_change["user"]) == "old@example.org"


def test_the_old_address_can_cancel_the_change(pending_change):
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(pending_change["cancel"])
    assert page.status_code == 200
    token = CSRF.search(page.content.decode()).group(1)
    assert browser.post(pending_change["cancel"], {"csrfmiddlewaretoken": token}).status_code == 302

    owner = Client()
    owner.force_login(pending_change["user"])
    response = owner.post(pending_change["confirm"], HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert _address(pending_change["user"]) == "old@example.org"


def test_a_newer_change_replaces_the_pending_one(outbox, django_capture_on_commit_callbacks):
    learner = UserFactory(email="old@example.org")
    staff_changes_address(learner, "first@example.org", django_capture_on_commit_callbacks)
    first = link_in(next(m for m in outbox if m.to == ["first@example.org"]))
    staff_changes_address(learner, "second@example.org", django_capture_on_commit_callbacks)
    owner = Client()
    owner.force_login(learner)
    assert owner.post(first).status_code == 400
    assert _address(learner) == "old@example.org"


def test_a_confirmation_for_an_address_taken_meanwhile_is_refused_with_a_message(pending_change):
    UserFactory(email="new@example.org")
    owner = Client()
    owner.force_login(pending_change["user"])
    response = owner.post(pending_change["confirm"], HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400 and b"already used by another account" in response.content
    assert _address(pending_change["user"]) == "old@example.org"


def test_staff_correcting_a_never_activated_invitee_moves_the_invitation(outbox, django_capture_on_commit_callbacks):
    from accounts import services

    invitee = services.user_create(email="typo@univ.ma", password=None, full_name="Invited", is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        services.invitation_send(user=invitee)
    old_link = link_in(outbox[0])
    staff_changes_address(invitee, "right@univ.ma", django_capture_on_commit_callbacks)

    invitee.refresh_from_db()
    assert invitee.email == "right@univ.ma"  # activation will be the confirmation
    (invitation,) = [m for m in outbox if m.to == ["right@univ.ma"]]
    assert "/accounts/activate/" in invitation.body
    (notice,) = [m for m in outbox[1:] if m.to == ["typo@univ.ma"]]
    assert "right@univ.ma" not in notice.body  # a mistaken recipient does not learn the address
    assert Client().get(old_link).status_code == 400  # the first invitation no longer works
    assert Client().get(link_in(invitation)).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_cancel_and_a_confirmation_at_once_leave_one_outcome_that_both_sides_are_told():
    """The owner confirms while the old address cancels: whichever wins, the other is refused. A
    cancel that read the change as pending while the confirmation waited must not be told
    "cancelled" while the address changes anyway (nor the reverse). Another change of the same
    account (staff in the admin, say) holds its row meanwhile, so both really run at once."""
    import threading

    from django.db import connection, transaction

    from accounts import services
    from accounts.models import EmailChange
    from kernel.errors import ApplicationError
    from tests.processes import wait_for

    learner = UserFactory(email="old@example.org")
    change = services.email_change_request(user=learner, new_email="new@example.org", requested_by="Staff")
    confirm_token = services.email_change_token(change=change)
    cancel_token = services.email_change_token(change=change, purpose="email_change_cancel")
    release, held = threading.Event(), threading.Event()
    outcomes = {}

    def hold_the_account():
        with transaction.atomic():
            User.objects.select_for_update().get(pk=learner.pk)
            held.set()
            release.wait(timeout=60)
        connection.close()

    def run(name, call):
        try:
            call()
            outcomes[name] = "done"
        except ApplicationError as exc:
            outcomes[name] = f"refused: {exc.message}"
        except Exception as exc:  # reported by the assertion below
            outcomes[name] = f"error: {exc!r}"
        finally:
            connection.close()

    def waiting_on_locks() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            return cursor.fetchone()[0]

    holder = threading.Thread(target=hold_the_account)
    holder.start()
    held.wait(timeout=30)
    confirming = threading.Thread(
        target=run, args=("confirm", lambda: services.email_change_confirm(token=confirm_token, user=learner))
    )
    confirming.start()
    wait_for(lambda: waiting_on_locks() >= 1, message="the confirmation waiting for the account's row")
    cancelling = threading.Thread(target=run, args=("cancel", lambda: services.email_change_cancel(token=cancel_token)))
    cancelling.start()
    wait_for(lambda: "cancel" in outcomes or waiting_on_locks() >= 2, message="the cancel done or waiting")
    release.set()
    for thread in (holder, confirming, cancelling):
        thread.join(60)

    change.refresh_from_db()
    learner.refresh_from_db()
    assert sorted(o.split(":")[0] for o in outcomes.values()) == ["done", "refused"], outcomes
    if outcomes["confirm"] == "done":
        assert (change.status, learner.email) == (EmailChange.Status.CONFIRMED, "new@example.org")
    else:
        assert (change.status, learner.email) == (EmailChange.Status.CANCELLED, "old@example.org")

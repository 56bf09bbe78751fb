"""Two-factor (TOTP) for staff, instructors and university admins on gated pages, recovery codes,
and the login throttle, which wrong TOTP codes feed too."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, override_settings
from django.urls import include, path, reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services
from accounts.decorators import require_verified_2fa
from tests.factories import CourseFactory, OrganizationFactory, UserFactory
from tests.twofactor import login_with_2fa

pytestmark = pytest.mark.django_db
User = get_user_model()
PASSWORD = "correct horse battery"


def code(device, offset=0):
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=offset):06d}"


def _login(client, email, password=PASSWORD):
    return client.post(reverse("accounts:login"), {"username": email, "password": password}, HTTP_ACCEPT_LANGUAGE="en")


def test_staff_must_set_up_two_factor_before_the_admin_and_get_recovery_codes(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    assert _login(client, staff.email).status_code == 302

    response = client.get("/admin/")
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:otp-setup"))
    page = client.get(response.url)
    assert page.status_code == 200 and b"<svg" in page.content
    device = TOTPDevice.objects.get(user=staff, confirmed=False)

    response = client.post(reverse("accounts:otp-setup"), {"token": code(device), "next": "/admin/"})
    assert response.status_code == 200
    codes = response.context["codes"]
    assert len(codes) == 10
    assert client.get("/admin/").status_code == 200

    # A later login must verify again; a recovery code works, once.
    client.logout()
    _login(client, staff.email)
    response = client.get("/admin/")
    assert response.url.startswith(reverse("accounts:otp-verify"))
    assert client.post(response.url, {"token": codes[0]}).status_code == 302
    assert client.get("/admin/").status_code == 200
    other = Client()
    _login(other, staff.email)
    assert other.post(reverse("accounts:otp-verify"), {"token": codes[0]}).status_code == 400


def test_an_instructor_and_a_university_admin_are_gated_but_a_learner_is_not(client):
    instructor = UserFactory()
    CourseFactory().instructors.add(instructor)
    admin = UserFactory()
    services.membership_grant(user=admin, organization=OrganizationFactory())
    learner = UserFactory()
    for user, gated in [(instructor, True), (admin, True), (learner, False)]:
        client.force_login(user)
        assert services.user_requires_2fa(user=user) is gated
        response = client.get("/teach/anything/")
        if gated:
            assert response.status_code == 302 and reverse("accounts:otp-setup") in response.url
        else:
            assert response.status_code == 404
    client.force_login(admin)
    assert client.get(reverse("accounts:organization")).status_code == 302
    login_with_2fa(client, admin)
    assert client.get(reverse("accounts:organization")).status_code == 200


@require_verified_2fa
def _marked_view(request):
    from django.http import HttpResponse

    return HttpResponse("secret")


urlpatterns = [
    path("marked/", _marked_view),
    path("accounts/", include("accounts.urls")),
    path("", include("courses.urls")),
]


@override_settings(ROOT_URLCONF=__name__)
def test_the_decorator_gates_a_view_outside_the_gated_paths(client):
    instructor = UserFactory()
    CourseFactory().instructors.add(instructor)
    assert client.get("/marked/").status_code == 302  # anonymous: to login
    client.force_login(instructor)
    assert client.get("/marked/").status_code == 302
    login_with_2fa(client, instructor)
    assert client.get("/marked/").content == b"secret"


def test_a_password_alone_cannot_replace_an_existing_device(client):
    staff = UserFactory(is_staff=True)
    TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)
    client.force_login(staff)
    response = client.get(reverse("accounts:otp-setup"))
    assert response.status_code == 302 and reverse("accounts:otp-verify") in response.url
    assert TOTPDevice.objects.filter(user=staff).count() == 1


def test_wrong_passwords_lock_the_account_with_a_clear_message_until_staff_unlock_it(client, settings):
    user = UserFactory(email="victim@example.org")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _login(client, "Victim@example.org", "wrong").status_code == 200
    response = _login(client, "victim@example.org", "wrong")
    assert response.status_code == 429
    assert b"locked" in response.content
    # Even the right password is refused while locked.
    assert _login(client, "victim@example.org").status_code == 429

    staff = UserFactory(is_staff=True, is_superuser=True)
    admin = Client()
    login_with_2fa(admin, staff)
    response = admin.post(
        reverse("admin:accounts_user_changelist"), {"action": "unlock", "_selected_action": [user.pk]}
    )
    assert response.status_code == 302
    assert _login(client, "victim@example.org").status_code == 302


def test_wrong_totp_codes_count_toward_the_throttle(client, settings):
    staff = UserFactory(is_staff=True)
    TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)
    _login(client, staff.email, "wrong")  # one wrong password first
    _login(client, staff.email)
    verify = reverse("accounts:otp-verify")
    for _ in range(settings.AXES_FAILURE_LIMIT - 3):
        assert client.post(verify, {"token": "000000"}).status_code == 400
    _login(client, staff.email)  # logging in again with the password does not reset the count
    assert client.post(verify, {"token": "000000"}).status_code == 400
    response = client.post(verify, {"token": "000000"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 429 and b"locked" in response.content
    # Logged out, and the right code or password no longer get in.
    assert client.get(reverse("accounts:me")).status_code == 302
    assert _login(client, staff.email).status_code == 429


@pytest.mark.django_db
def test_verify_without_a_device_sends_to_setup_keeping_the_whole_next_address(client):
    client.force_login(UserFactory(is_staff=True))
    response = client.get(reverse("accounts:otp-verify"), {"next": "/teach/x/gradebook/?page=2&status=active"})
    assert response.status_code == 302
    assert response["Location"] == (
        reverse("accounts:otp-setup") + "?next=%2Fteach%2Fx%2Fgradebook%2F%3Fpage%3D2%26status%3Dactive"
    )

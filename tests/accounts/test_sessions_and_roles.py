"""Active sessions (list, end one, end others, password change), and the university admin's page."""

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from accounts import services
from accounts.models import AuditEntry, UserSession
from courses.models import LessonProgress
from tests.factories import CourseFactory, LessonFactory, ModuleFactory, OrganizationFactory, UserFactory, enroll
from tests.twofactor import login_with_2fa

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery"
NEW = "another-long-passphrase-2"


def _two_logins(user):
    a, b = Client(), Client()
    for c in (a, b):
        c.post(reverse("accounts:login"), {"username": user.email, "password": PASSWORD}, HTTP_USER_AGENT="Firefox")
    return a, b


def test_a_user_sees_their_active_sessions_and_ends_another_one():
    user = UserFactory()
    stranger_session = _two_logins(UserFactory())[0].session.session_key
    a, b = _two_logins(user)
    page = a.get(reverse("accounts:sessions"))
    assert page.status_code == 200
    rows = page.context["sessions"]
    assert len(rows) == 2 and sum(r.is_current for r in rows) == 1
    # Someone else's session key is not theirs to end.
    a.post(reverse("accounts:session-end"), {"session_key": stranger_session})
    assert Session.objects.filter(session_key=stranger_session).exists()

    a.post(reverse("accounts:session-end"), {"session_key": b.session.session_key})
    assert b.get(reverse("accounts:me")).status_code == 302
    assert a.get(reverse("accounts:me")).status_code == 200
    assert UserSession.objects.filter(user=user).count() == 1


def test_changing_the_password_keeps_this_session_and_ends_the_others():
    user = UserFactory()
    a, b = _two_logins(user)
    response = a.post(
        reverse("accounts:password-change"),
        {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW},
    )
    assert response.status_code == 302
    assert a.get(reverse("accounts:me")).status_code == 200
    assert b.get(reverse("accounts:me")).status_code == 302
    assert list(UserSession.objects.filter(user=user).values_list("session_key", flat=True)) == [a.session.session_key]


def test_logout_forgets_the_session():
    user = UserFactory()
    a, _b = _two_logins(user)
    a.post(reverse("accounts:logout"))
    assert UserSession.objects.filter(user=user).count() == 1


def _org_world(n):
    org = OrganizationFactory()
    course = CourseFactory()
    lessons = [LessonFactory(module=ModuleFactory(course=course)) for _ in range(2)]
    for _ in range(n):
        learner = UserFactory(organization=org)
        enroll(learner, course)
        LessonProgress.objects.create(user=learner, lesson=lessons[0], completed_at="2026-01-01T00:00Z")
    return org


@pytest.mark.parametrize("n", [2, 6])
def test_a_university_admin_sees_only_their_learners_progress_in_constant_queries(client, n, django_assert_num_queries):
    org = _org_world(n)
    other_org = _org_world(1)
    admin = UserFactory()
    services.membership_grant(user=admin, organization=org)
    login_with_2fa(client, admin)
    # session, user, otp device, role check (2FA gate), orgs, learners, enrollments, lesson totals,
    # lessons done, audit insert, the header's one roles query (accounts.context_processors): the same at any size.
    with django_assert_num_queries(11):
        response = client.get(reverse("accounts:organization"))
    assert response.status_code == 200
    learners = response.context["learners"]
    assert len(learners) == n and {u.organization_id for u in learners} == {org.pk}
    assert other_org.name.encode() not in response.content
    assert b"1 / 2" in response.content
    assert AuditEntry.objects.filter(actor=admin, action="progress.view").count() == n


def test_a_learner_or_instructor_gets_no_organization_page(client):
    client.force_login(UserFactory(organization=OrganizationFactory()))
    assert client.get(reverse("accounts:organization")).status_code == 404


@pytest.mark.parametrize("role,landing", [("learner", "/learning/"), ("instructor", "/teach/"),
                                          ("university", "/accounts/organization/")])  # fmt: skip
def test_each_person_lands_on_their_own_page_after_logging_in(client, role, landing):
    from accounts.models import OrganizationMembership

    user = UserFactory()
    if role == "instructor":
        CourseFactory().instructors.add(user)
    if role == "university":
        OrganizationMembership.objects.create(user=user, organization=OrganizationFactory(),
                                              role=OrganizationMembership.Role.ADMIN)  # fmt: skip
    response = client.post(reverse("accounts:login"), {"username": user.email,
                                                       "password": PASSWORD})  # fmt: skip
    assert response.status_code == 302 and response.url == landing
    # A page that asked for the login still wins.
    client.logout()
    response = client.post(reverse("accounts:login") + "?next=/learning/grades/",
                           {"username": user.email, "password": PASSWORD})  # fmt: skip
    assert response.url == "/learning/grades/"

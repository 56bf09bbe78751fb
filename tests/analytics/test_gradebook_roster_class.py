"""The gradebook's roster-class filter: a university's OneRoster class mapped to the course
filters the rows to its students, and its gradebook exports as a OneRoster zip."""

import pytest
from django.urls import reverse

from tests.roster.helpers import roster_class, student
from tests.roster.test_gradebook_export import RESULTS, read_package
from tests.twofactor import login_with_2fa

from .helpers import OrganizationFactory, course_with_instructor, learner, make_assignment, org_admin, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    course, teacher = course_with_instructor(title="Data 101")
    quiz = make_assignment(course, kind="quiz", title="Quiz 1", points=10)
    univ = OrganizationFactory(slug="univ-a")
    cls = roster_class(univ, course)
    inside = student(cls, "stu-1", user=learner(course, org=univ, full_name="Amina Inside"))
    outside = learner(course, org=univ, full_name="Omar Outside")
    submit(inside, quiz, score=7)
    submit(outside, quiz, score=3)
    return course, teacher, cls, univ


def _page(client, course, **params):
    resp = client.get(reverse("analytics:gradebook", args=[course.code]), params)
    assert resp.status_code == 200
    return resp.content.decode()


def test_the_class_filter_keeps_the_class_students_and_offers_its_export(client, world):
    course, teacher, cls, _univ = world
    login_with_2fa(client, teacher)
    html = _page(client, course)
    assert 'name="roster_class"' in html and "Data 101 A (class-1)" in html
    assert "Amina Inside" in html and "Omar Outside" in html
    assert "Export OneRoster gradebook" not in html
    html = _page(client, course, roster_class=cls.pk)
    assert "Amina Inside" in html and "Omar Outside" not in html
    url = reverse("analytics:oneroster_export", args=[course.code, cls.pk])
    assert url in html
    resp = client.get(url)
    assert resp.status_code == 200 and resp["Content-Type"] == "application/zip"
    pkg = read_package(b"".join(resp.streaming_content))
    assert pkg["_headers"]["results.csv"] == RESULTS
    assert [(r["studentSourcedId"], r["score"]) for r in pkg["results.csv"]] == [("stu-1", "7")]


def test_no_class_maps_to_the_course_no_filter(client):
    course, teacher = course_with_instructor()
    login_with_2fa(client, teacher)
    assert 'name="roster_class"' not in _page(client, course)


def test_another_universitys_admin_does_not_see_the_class_nor_export_it(client, world):
    course, _teacher, cls, _univ = world
    admin = org_admin(OrganizationFactory(slug="univ-b"))
    login_with_2fa(client, admin)
    html = _page(client, course)
    assert "class-1" not in html
    assert client.get(reverse("analytics:oneroster_export", args=[course.code, cls.pk])).status_code == 404
    # An id it may not choose is a form error, not a filter: every learner it may see is shown.
    assert _page(client, course, roster_class=cls.pk).count("Amina Inside") == 0


def test_the_class_universitys_admin_sees_and_exports_it(client, world):
    course, _teacher, cls, univ = world
    login_with_2fa(client, org_admin(univ))
    assert "Data 101 A (class-1)" in _page(client, course)
    assert client.get(reverse("analytics:oneroster_export", args=[course.code, cls.pk])).status_code == 200


def test_a_learner_may_not_export_a_class_gradebook(client, world):
    course, _teacher, cls, univ = world
    user = learner(course, org=univ)
    client.force_login(user)
    assert client.get(reverse("analytics:oneroster_export", args=[course.code, cls.pk])).status_code == 403

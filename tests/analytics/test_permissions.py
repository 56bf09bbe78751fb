import pytest
from django.urls import reverse

from analytics.permissions import course_scope
from tests.twofactor import login_with_2fa

from .helpers import (
    OrganizationFactory,
    UserFactory,
    course_with_instructor,
    learner,
    make_assignment,
    org_admin,
    submit,
)

pytestmark = pytest.mark.django_db

PAGES = ["analytics:gradebook", "analytics:course"]


@pytest.fixture
def setup():
    course, teacher = course_with_instructor()
    a = make_assignment(course, title="Lab")
    uni_a, uni_b = OrganizationFactory(name="Uni A"), OrganizationFactory(name="Uni B")
    alice = learner(course, org=uni_a, full_name="Alice Alaoui", external_id="A-1")
    bob = learner(course, org=uni_b, full_name="Bob Bennani", external_id="B-1")
    submit(alice, a, score=80)
    submit(bob, a, score=40)
    return {"course": course, "teacher": teacher, "a": a, "uni_a": uni_a, "uni_b": uni_b, "alice": alice, "bob": bob}


@pytest.mark.parametrize("name", PAGES)
def test_anonymous_is_sent_to_log_in(client, setup, name):
    response = client.get(reverse(name, args=[setup["course"].code]))
    assert response.status_code == 302
    assert "/accounts/login" in response["Location"]


@pytest.mark.parametrize("name", PAGES + ["analytics:export"])
def test_learner_and_other_courses_instructor_are_refused(client, setup, name):
    args = [setup["course"].code] + (["csv"] if name == "analytics:export" else [])
    other_course, other_teacher = course_with_instructor()
    for user in (setup["alice"], other_teacher):
        login_with_2fa(client, user)
        assert client.get(reverse(name, args=args)).status_code == 403


def test_instructor_sees_every_learner(client, setup):
    login_with_2fa(client, setup["teacher"])
    body = client.get(reverse("analytics:gradebook", args=[setup["course"].code])).content.decode()
    assert "Alice Alaoui" in body and "Bob Bennani" in body


def test_university_admin_sees_only_their_learners_in_any_course(client, setup):
    admin = org_admin(setup["uni_a"])
    login_with_2fa(client, admin)
    body = client.get(reverse("analytics:gradebook", args=[setup["course"].code])).content.decode()
    assert "Alice Alaoui" in body
    assert "Bob Bennani" not in body
    csv = b"".join(client.get(reverse("analytics:export", args=[setup["course"].code, "csv"])).streaming_content)
    assert b"A-1" in csv and b"B-1" not in csv


def test_other_universitys_admin_does_not_see_these_learners(client, setup):
    other = org_admin(OrganizationFactory())
    login_with_2fa(client, other)
    body = client.get(reverse("analytics:gradebook", args=[setup["course"].code])).content.decode()
    assert "Alice Alaoui" not in body and "Bob Bennani" not in body


def test_university_admin_may_not_override(client, setup):
    admin = org_admin(setup["uni_a"])
    login_with_2fa(client, admin)
    url = reverse("analytics:override", args=[setup["course"].code, setup["alice"].pk, setup["a"].pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"score": "100", "reason": "nice"}).status_code == 403


def test_scope_rules():
    course, teacher = course_with_instructor()
    org = OrganizationFactory()
    admin = org_admin(org)
    assert course_scope(user=teacher, course=course).can_override
    scope = course_scope(user=admin, course=course)
    assert not scope.all_learners and scope.organization_ids == (org.pk,) and not scope.can_override
    assert course_scope(user=UserFactory(), course=course) is None
    assert course_scope(user=UserFactory(is_staff=True), course=course).all_learners


def test_path_analytics_refuses_a_learner(client, setup):
    from tests.factories import PathFactory, add_to_path

    path = PathFactory()
    add_to_path(path, setup["course"], 1)
    login_with_2fa(client, setup["alice"])
    assert client.get(reverse("analytics:path", args=[path.code])).status_code == 403
    login_with_2fa(client, setup["teacher"])
    assert client.get(reverse("analytics:path", args=[path.code])).status_code == 200


def _quiz_world():
    """A quiz in a course taught by one instructor, answered by a learner of university A."""
    course, teacher = course_with_instructor()
    quiz = make_assignment(course, kind="quiz", title="Quiz")
    uni = OrganizationFactory(name="Uni A")
    for answer, score in (({"q1": ["a"], "q2": ["a", "c"]}, 100), ({"q1": ["b"], "q2": ["b"]}, 0)):
        submit(learner(course, org=uni), quiz, score=score, answer=answer)
    return course, teacher, quiz, uni


def _keys_shown(page) -> list:
    return [(q.id, cid) for q in page.context["questions"] for cid, _t, _n, is_key in q.distribution if is_key]


def test_a_university_admin_sees_item_statistics_but_never_the_answer_key(client):
    course, teacher, quiz, uni = _quiz_world()
    url = reverse("analytics:assignment", args=[course.code, quiz.pk])

    login_with_2fa(client, org_admin(uni))
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Item analysis" in body and "2 + 2 ?" in body  # statistics of their own learners
    assert [q.answered for q in page.context["questions"]] == [2, 2]
    assert _keys_shown(page) == []
    assert 'class="badge ok"' not in body and ">key<" not in body

    # The course's staff see the key.
    for user in (teacher, UserFactory(is_staff=True)):
        login_with_2fa(client, user)
        page = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
        assert _keys_shown(page) == [("q1", "a"), ("q2", "a"), ("q2", "c")]
        assert ">key<" in page.content.decode()


DRAFT_PAGES = [
    ("analytics:gradebook", lambda c, q, u: [c.code]),
    ("analytics:course", lambda c, q, u: [c.code]),
    ("analytics:assignment", lambda c, q, u: [c.code, q.pk]),
    ("analytics:export", lambda c, q, u: [c.code, "csv"]),
    ("analytics:override", lambda c, q, u: [c.code, u.pk, q.pk]),
]


def test_a_draft_courses_analytics_and_gradebook_are_for_its_authors_and_staff_only(client):
    course, teacher, quiz, uni = _quiz_world()
    course.status = "draft"
    course.save(update_fields=["status"])
    some_learner = course.enrollments.first().user
    other_course, other_teacher = course_with_instructor()

    for user in (org_admin(uni), other_teacher):
        login_with_2fa(client, user)
        for name, args in DRAFT_PAGES:
            assert client.get(reverse(name, args=args(course, quiz, some_learner))).status_code == 404, name
        assert client.post(reverse("analytics:export_start", args=[course.code]), {"format": "csv"}).status_code == 404
        index = client.get(reverse("analytics:index")).content.decode()
        assert reverse("analytics:gradebook", args=[course.code]) not in index

    for user in (teacher, UserFactory(is_staff=True)):
        login_with_2fa(client, user)
        for name, args in DRAFT_PAGES:
            assert client.get(reverse(name, args=args(course, quiz, some_learner))).status_code == 200, name


def test_a_university_admin_still_reads_a_published_courses_pages(client):
    course, _teacher, quiz, uni = _quiz_world()
    login_with_2fa(client, org_admin(uni))
    for name, args in DRAFT_PAGES[:4]:
        assert client.get(reverse(name, args=args(course, quiz, None))).status_code == 200, name

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse
from django.utils import timezone

from analytics import gradebook
from analytics.permissions import LearnerScope
from courses.models import Enrollment
from tests.twofactor import login_with_2fa

from .helpers import OrganizationFactory, course_with_instructor, learner, make_assignment, submit

pytestmark = pytest.mark.django_db
ALL = LearnerScope(all_learners=True, can_override=True)


def _page(course, **filters):
    return gradebook.gradebook_page(course=course, scope=ALL, filters=gradebook.Filters(**filters), page_number=1)


def test_each_cell_shows_latest_score_or_why_there_is_none():
    course, _t = course_with_instructor()
    graded, late, review, failed, missing = (make_assignment(course, title=t) for t in "GLRFM")
    u = learner(course)
    submit(u, graded, score=30)
    submit(u, graded, score=75)  # the latest attempt wins
    submit(u, late, score=50, late=True)
    submit(u, review, status="needs_review")
    submit(u, failed, status="failed")
    (row,) = _page(course).rows
    cells = {c.assignment.title: c for c in row.cells}
    assert cells["G"].score == 75 and cells["G"].attempt == 2
    assert cells["L"].is_late and cells["L"].score == 50
    assert cells["R"].label == "needs review"
    assert cells["F"].label == "failed to grade"
    assert cells["M"].label == "not submitted" and cells["M"].score is None
    assert row.total == 125


def test_course_total_and_completion():
    course, _t = course_with_instructor()
    a = make_assignment(course, points=50)
    optional = make_assignment(course, points=50, is_required=False)
    u = learner(course)
    submit(u, a, score=40)
    submit(u, optional, score=10)
    Enrollment.objects.filter(user=u).update(completed_at=timezone.now())
    book = _page(course)
    assert book.total_points == 100
    (row,) = book.rows
    assert row.total == 50 and row.required_passed == 1 and row.is_complete


def test_filters_by_university_source_status_and_at_risk():
    course, _t = course_with_instructor()
    a = make_assignment(course, is_required=True)
    uni = OrganizationFactory()
    synced = learner(course, org=uni, source="sync", full_name="Synced")
    self_enrolled = learner(course, full_name="Self")
    done = learner(course, full_name="Done")
    submit(synced, a, score=90)
    submit(self_enrolled, a, score=10)  # failing a required assignment
    submit(done, a, score=100)
    Enrollment.objects.filter(user=done).update(completed_at=timezone.now())

    def names(**f):
        return {r.enrollment.user.full_name for r in _page(course, **f).rows}

    assert names(organization_id=uni.pk) == {"Synced"}
    assert names(source="self") == {"Self", "Done"}
    assert names(status="completed") == {"Done"}
    assert names(status="active") == {"Synced", "Self"}
    assert names(at_risk=True) == {"Self"}


@override_settings(ANALYTICS_AT_RISK={"INACTIVE_DAYS": 7, "OVERDUE_ASSIGNMENTS": 1, "FAILING_REQUIRED": 0})
def test_at_risk_rules_inactive_and_behind_schedule_are_configurable():
    course, _t = course_with_instructor()
    past = make_assignment(course, due_at=timezone.now() - timedelta(days=1), is_required=False)
    future = make_assignment(course, due_at=timezone.now() + timedelta(days=5))
    idle = learner(course, full_name="Idle", enrolled_days_ago=30)
    submit(idle, past, score=100, when=timezone.now() - timedelta(days=20))
    submit(idle, future, score=100, when=timezone.now() - timedelta(days=20))
    learner(course, full_name="Behind", enrolled_days_ago=2)
    fresh = learner(course, full_name="Fresh", enrolled_days_ago=2)
    submit(fresh, past, score=10)  # failing, but that rule is off
    rows = {r.enrollment.user.full_name: r for r in _page(course).rows}
    assert rows["Idle"].enrollment.is_at_risk and "inactive" in rows["Idle"].risk_reasons[0]
    assert rows["Behind"].enrollment.is_at_risk and "overdue" in rows["Behind"].risk_reasons[0]
    assert not rows["Fresh"].enrollment.is_at_risk


def _gradebook_queries(client, course, n_learners, n_assignments=4):
    assignments = list(course.assignments.all())
    while len(assignments) < n_assignments:
        assignments.append(make_assignment(course, title=f"A{len(assignments)}"))
    uni = OrganizationFactory()
    for i in range(n_learners):
        u = learner(course, org=uni, external_id=f"X{i}-{course.pk}")
        for j, a in enumerate(assignments):
            submit(u, a, score=(i * 7 + j * 13) % 100, late=j == 1)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("analytics:gradebook", args=[course.code]) + "?at_risk=&source=self")
    assert response.status_code == 200
    return len(ctx)


def test_gradebook_page_query_count_is_constant(client):
    small, teacher = course_with_instructor()
    big, _t = course_with_instructor()
    big.instructors.add(teacher)
    login_with_2fa(client, teacher)
    few = _gradebook_queries(client, small, 3)
    many = _gradebook_queries(client, big, 60)  # more than a page
    assert few == many


@pytest.mark.parametrize("n", [2, 25])
def test_gradebook_page_runs_a_fixed_number_of_queries(client, django_assert_num_queries, n):
    course, teacher = course_with_instructor()
    a, b = make_assignment(course), make_assignment(course)
    for i in range(n):
        u = learner(course)
        submit(u, a, score=i)
        submit(u, b, status="needs_review")
    login_with_2fa(client, teacher)
    # session, user, course, scope (is instructor), organizations, roster classes, assignments, count, page,
    # the page's at-risk figures (one grouped query), latest submissions, overrides, the read audit (one
    # insert for the page's learners); the base template's "Authoring" link; and the two-factor gate's
    # device and role checks
    with django_assert_num_queries(16):
        assert client.get(reverse("analytics:gradebook", args=[course.code])).status_code == 200


def test_gradebook_is_paginated(client):
    course, teacher = course_with_instructor()
    make_assignment(course)
    for i in range(55):
        learner(course, full_name=f"Learner {i:03d}")
    login_with_2fa(client, teacher)
    first = client.get(reverse("analytics:gradebook", args=[course.code])).content.decode()
    second = client.get(reverse("analytics:gradebook", args=[course.code]) + "?page=2").content.decode()
    assert "Learner 000" in first and "Learner 054" not in first
    assert "Learner 054" in second


def test_bad_filter_values_do_not_break_the_page(client):
    course, teacher = course_with_instructor()
    login_with_2fa(client, teacher)
    url = reverse("analytics:gradebook", args=[course.code]) + "?organization=abc&status=nope&page=zz"
    assert client.get(url).status_code == 200

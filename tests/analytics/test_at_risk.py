"""The at-risk rules, computed set-based (one grouped pass over the course's submissions), give
the same verdict as each row's figures; and the pages that use them run a number of queries that
does not grow with the number of learners."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from analytics import gradebook, selectors
from analytics.permissions import LearnerScope
from analytics.services import grade_override
from courses.models import Enrollment
from tests.twofactor import login_with_2fa

from .helpers import course_with_instructor, learner, make_assignment, submit

pytestmark = pytest.mark.django_db
ALL = LearnerScope(all_learners=True, can_override=True)
DAYS = timedelta(days=1)


def _cohort():
    """A course and learners covering each rule and each exception (default rules: inactive 14
    days, 2 overdue assignments, 1 failing required assignment)."""
    course, teacher = course_with_instructor()
    now = timezone.now()
    past1 = make_assignment(course, title="P1", due_at=now - 3 * DAYS, is_required=False)
    past2 = make_assignment(course, title="P2", due_at=now - 2 * DAYS, is_required=False)
    req = make_assignment(course, title="R", is_required=True, points=10)  # passes at 5
    expected = set()

    def person(name, *, at_risk, **kw):
        u = learner(course, full_name=name, **kw)
        if at_risk:
            expected.add(name)
        return u

    u = person("Idle", at_risk=True, enrolled_days_ago=40)
    submit(u, past1, score=100, when=now - 30 * DAYS)
    submit(u, past2, score=100, when=now - 30 * DAYS)
    person("Silent and old", at_risk=True, enrolled_days_ago=40)  # inactive, and 2 overdue
    person("Silent and new", at_risk=True, enrolled_days_ago=1)  # 2 overdue
    u = person("One overdue", at_risk=False, enrolled_days_ago=1)
    submit(u, past1, score=100)
    u = person("Failing", at_risk=True)
    submit(u, past1, score=100)
    submit(u, past2, score=100)
    submit(u, req, score=2)
    u = person("Passed later", at_risk=False)
    submit(u, past1, score=100)
    submit(u, past2, score=100)
    submit(u, req, score=2)
    submit(u, req, score=8)
    u = person("Passed by override", at_risk=False)
    submit(u, past1, score=100)
    submit(u, past2, score=100)
    submit(u, req, score=2)
    grade_override(actor=teacher, course=course, learner=u, assignment=req, score=9, reason="Oral exam")
    u = person("Pending only", at_risk=False)
    submit(u, past1, status="queued")
    submit(u, past2, status="needs_review")
    # Re-enrolled a day ago, last submitted 20 days ago: last activity is the submission.
    u = person("Stale before enrolling", at_risk=True, enrolled_days_ago=1)
    submit(u, past1, score=100, when=now - 20 * DAYS)
    submit(u, past2, score=100, when=now - 20 * DAYS)
    u = person("Done", at_risk=False, enrolled_days_ago=40)
    Enrollment.objects.filter(user=u).update(completed_at=now)
    u = person("Dropped", at_risk=False, enrolled_days_ago=40)
    Enrollment.objects.filter(user=u).update(status="dropped")
    return course, teacher, expected


def test_the_set_based_filter_the_rows_verdicts_and_the_export_agree_on_who_is_at_risk():
    course, _teacher, expected = _cohort()
    rows = gradebook.gradebook_page(course=course, scope=ALL, filters=gradebook.Filters(), page_number=1).rows
    assert {r.enrollment.user.full_name for r in rows if r.enrollment.is_at_risk} == expected
    filtered = gradebook.gradebook_page(
        course=course, scope=ALL, filters=gradebook.Filters(at_risk=True), page_number=1
    ).rows
    assert {r.enrollment.user.full_name for r in filtered} == expected
    assert all(r.enrollment.is_at_risk and r.risk_reasons for r in filtered)
    exported = list(gradebook.export_rows(course=course, scope=ALL, filters=gradebook.Filters()))[1:]
    assert {row[2] for row in exported if row[-1] == "yes"} == expected
    listed, total = selectors.at_risk_list(course=course, scope=ALL)
    assert total == len(expected) and {r.enrollment.user.full_name for r in listed} == expected


def test_each_at_risk_row_names_its_figures_and_the_list_puts_the_most_inactive_first():
    course, _teacher, _expected = _cohort()
    rows = {
        r.enrollment.user.full_name: r
        for r in gradebook.gradebook_page(
            course=course, scope=ALL, filters=gradebook.Filters(at_risk=True), page_number=1
        ).rows
    }
    assert rows["Silent and new"].enrollment.overdue_count == 2
    assert rows["Silent and new"].risk_reasons == ["2 assignments overdue"]
    assert rows["Failing"].enrollment.failing_count == 1 and rows["Failing"].enrollment.overdue_count == 0
    assert rows["Failing"].risk_reasons == ["failing 1 required assignment"]
    assert rows["Idle"].risk_reasons == ["inactive for 30 days"]
    listed, _total = selectors.at_risk_list(course=course, scope=ALL)
    names = [r.enrollment.user.full_name for r in listed]
    assert names[:2] == ["Silent and old", "Idle"]  # enrolled 40 days ago, then last submitted 30 days ago
    assert names.index("Stale before enrolling") < names.index("Silent and new")


def _page_queries(client, teacher, n, url_name, query=""):
    course, _t = course_with_instructor()
    course.instructors.add(teacher)
    now = timezone.now()
    a = make_assignment(course, title="A", is_required=True, due_at=now - 2 * DAYS)
    b = make_assignment(course, title="B", due_at=now - DAYS)
    for i in range(n):
        u = learner(course, full_name=f"L{i:02d}", enrolled_days_ago=30 if i % 3 == 0 else 1)
        if i % 3:
            submit(u, a, score=(i * 37) % 100)
            submit(u, b, score=90, when=now - (20 if i % 2 else 1) * DAYS)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse(url_name, args=[course.code]) + query)
    assert response.status_code == 200
    return len(ctx)


@pytest.mark.parametrize(
    ("url_name", "query", "pinned"),
    [("analytics:course", "", 23), ("analytics:gradebook", "?at_risk=on", 17)],
)
def test_the_analytics_page_and_the_at_risk_gradebook_run_as_many_queries_for_30_learners_as_for_3(
    client, url_name, query, pinned
):
    _c, teacher = course_with_instructor()
    login_with_2fa(client, teacher)
    few = _page_queries(client, teacher, 3, url_name, query)
    many = _page_queries(client, teacher, 30, url_name, query)
    assert few == many == pinned

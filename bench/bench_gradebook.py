"""Gradebook at scale, on the 100k-learner / ~1M-submission data set of generate_load_data
(generated once into the bench database, reused when present):
- gradebook page time for the 5,000-learner course: first page, and a filtered page (at risk);
- export time and peak Python memory for that course (CSV, and XLSX);
- the course analytics page's time;
- each page's query count, and its ratio to the floor: the gradebook's first page;
- the floor: a raw PostgreSQL COPY (SELECT ...) TO STDOUT of the same export rows (one per
  learner, latest score per assignment, overrides, at-risk flag), in the same run.
The export should take at most 3x the floor; the ratio is printed."""

import statistics
import time
import tracemalloc

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from accounts.models import User  # noqa: E402
from analytics import exports, gradebook, loaddata  # noqa: E402
from analytics.permissions import LearnerScope  # noqa: E402
from bench.common import figure  # noqa: E402
from courses.models import Course  # noqa: E402
from tests.twofactor import login_with_2fa  # noqa: E402

LEARNERS, SUBMISSIONS, RUNS = 100_000, 1_000_000, 5


def timed(fn, runs=RUNS):
    fn()  # warm-up (connections, caches, plans)
    values = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        values.append((time.perf_counter() - t0) * 1000)
    return statistics.median(values)


def floor_sql(course: Course) -> str:
    """The same export rows in one hand-written SELECT: learners (with the at-risk figures from
    the gradebook's own queryset) joined to their latest attempt per assignment and latest
    override, pivoted to one row per learner."""
    learners = gradebook.enrollments(course=course, scope=LearnerScope(all_learners=True), filters=gradebook.Filters())
    learners = learners.annotate(is_at_risk=gradebook.at_risk_flag(course)).values_list(
        "user_id", "user__external_id", "user__organization__name", "user__full_name", "user__email",
        "source", "status", "completed_at", "is_at_risk",
    )  # fmt: skip
    sql, params = learners.query.sql_with_params()
    with connection.cursor() as cursor:
        learners_sql = cursor.cursor.mogrify(sql, params)
    return f"""
        WITH l AS (
            SELECT * FROM ({learners_sql}) AS x(user_id, external_id, org_name, full_name, email, source, status,
                                            completed_at, is_at_risk)
        ),
        s AS (
            SELECT DISTINCT ON (s.user_id, s.assignment_id)
                   s.user_id, s.assignment_id, s.status, s.score, s.submitted_at
            FROM grading_submission s JOIN l ON l.user_id = s.user_id
            WHERE s.assignment_id IN (SELECT id FROM courses_assignment WHERE course_id = {course.pk})
            ORDER BY s.user_id, s.assignment_id, s.attempt DESC
        ),
        o AS (
            SELECT DISTINCT ON (o.user_id, o.assignment_id) o.user_id, o.assignment_id, o.score, o.created_at
            FROM analytics_gradeoverride o JOIN l ON l.user_id = o.user_id
            WHERE o.assignment_id IN (SELECT id FROM courses_assignment WHERE course_id = {course.pk})
            ORDER BY o.user_id, o.assignment_id, o.created_at DESC
        ),
        cells AS (
            SELECT a.id AS assignment_id, a.position, l.user_id,
                   CASE WHEN o.score IS NOT NULL AND (s.submitted_at IS NULL OR o.created_at >= s.submitted_at)
                          THEN o.score::text
                        WHEN s.status = 'graded' THEN s.score::text
                        WHEN s.status = 'needs_review' THEN 'needs review'
                        WHEN s.status = 'failed' THEN 'failed to grade'
                        WHEN s.status IS NOT NULL THEN 'grading'
                        ELSE 'not submitted' END AS cell,
                   CASE WHEN o.score IS NOT NULL AND (s.submitted_at IS NULL OR o.created_at >= s.submitted_at)
                          THEN o.score WHEN s.status = 'graded' THEN s.score END AS points
            FROM l CROSS JOIN courses_assignment a
            LEFT JOIN s ON s.user_id = l.user_id AND s.assignment_id = a.id
            LEFT JOIN o ON o.user_id = l.user_id AND o.assignment_id = a.id
            WHERE a.course_id = {course.pk}
        )
        SELECT l.*, array_to_string(array_agg(c.cell ORDER BY c.position, c.assignment_id), ','),
               COALESCE(SUM(c.points), 0)
        FROM l JOIN cells c ON c.user_id = l.user_id
        GROUP BY l.user_id, l.external_id, l.org_name, l.full_name, l.email, l.source, l.status, l.completed_at,
                 l.is_at_risk
        ORDER BY l.user_id
    """  # noqa: S608 - ids and mogrified parameters only


def copy_floor(sql: str) -> int:
    size = 0
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)") as copy:
            for block in copy:
                size += len(block)
    return size


def main():
    if not loaddata.loaddata_exists():
        print(f"generating {LEARNERS} learners / {SUBMISSIONS} submissions (once; reused afterwards)...")
        t0 = time.perf_counter()
        call_command("generate_load_data", learners=LEARNERS, submissions=SUBMISSIONS)
        figure("generate_load_data", f"{time.perf_counter() - t0:.0f}", "s")
    # This machine's PostgreSQL runs with autovacuum off; production's autovacuums, and the
    # analytics queries' index-only scans need the visibility map that VACUUM sets.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) grading_submission, courses_enrollment, courses_assignment, accounts_user")
    course = Course.objects.get(code=loaddata.flagship_code("load"))
    staff, _ = User.objects.get_or_create(email="bench-gradebook@example.org", defaults={"is_staff": True})
    scope = LearnerScope(all_learners=True, can_override=True)
    n_learners = course.enrollments.count()
    n_assignments = course.assignments.count()
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM accounts_user")
        users = cursor.fetchone()[0]
        cursor.execute("SELECT COUNT(*) FROM grading_submission")
        subs = cursor.fetchone()[0]
    print(
        f"gradebook on {users} users / {subs} submissions; course {course.code}: "
        f"{n_learners} learners x {n_assignments} assignments (median of {RUNS} runs)"
    )

    client = Client()
    login_with_2fa(client, staff)  # /teach/ pages need a two-factor-verified session
    base = f"/teach/{course.code}"

    def get(url):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        if response.streaming:
            return sum(len(c) for c in response.streaming_content)
        return len(response.content)

    pages = {
        "floor: gradebook page 1 (50 learners)": f"{base}/gradebook/",
        "gradebook filtered (at risk, sync cohort), page 2": f"{base}/gradebook/?at_risk=on&source=sync&page=2",
        "course analytics page": f"{base}/analytics/",
    }
    page_ms, page_queries = {}, {}
    for url in pages.values():
        get(url)  # warm-up
    for _ in range(RUNS):  # interleaved: the machine is shared and noisy
        for name, url in pages.items():
            with CaptureQueriesContext(connection) as ctx:
                t0 = time.perf_counter()
                get(url)
                page_ms.setdefault(name, []).append((time.perf_counter() - t0) * 1000)
            page_queries[name] = len(ctx)
    floor_page = statistics.median(page_ms["floor: gradebook page 1 (50 learners)"])
    for name in pages:
        median = statistics.median(page_ms[name])
        figure(name, f"{median:.0f}", f"ms, {page_queries[name]} queries, {median / floor_page:.2f}x the floor")

    def export_csv():
        rows = gradebook.export_rows(course=course, scope=scope, filters=gradebook.Filters())
        return sum(len(chunk) for chunk in exports.csv_chunks(rows))

    sql = floor_sql(course)
    floor_ms = timed(lambda: copy_floor(sql))
    export_ms = timed(export_csv)
    http_ms = timed(lambda: get(f"{base}/gradebook/export.csv"), runs=3)
    tracemalloc.start()
    export_csv()
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    figure("floor: COPY (SELECT same export rows) TO STDOUT", f"{floor_ms:.0f}", "ms")
    figure("CSV export (export_rows + csv_chunks)", f"{export_ms:.0f}", "ms")
    figure("CSV export through the view (StreamingHttpResponse)", f"{http_ms:.0f}", "ms")
    figure("CSV export peak Python memory (tracemalloc)", f"{peak / 1e6:.1f}", "MB")
    figure("export / floor", f"{export_ms / floor_ms:.2f}", "x (target <= 3)")

    def export_xlsx():
        rows = gradebook.export_rows(course=course, scope=scope, filters=gradebook.Filters())
        return sum(len(c) for c in exports.xlsx_chunks(rows))

    xlsx_ms = timed(export_xlsx, runs=2)
    tracemalloc.start()
    export_xlsx()
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    figure("XLSX export (constant_memory)", f"{xlsx_ms:.0f}", "ms")
    figure("XLSX export peak Python memory (tracemalloc)", f"{peak / 1e6:.1f}", "MB")
    figure("XLSX / floor", f"{xlsx_ms / floor_ms:.2f}", "x")


if __name__ == "__main__":
    main()

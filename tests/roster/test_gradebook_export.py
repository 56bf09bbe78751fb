"""The OneRoster 1.2 Gradebook CSV export of a roster class: files, headers, rows, manifest,
stable sourcedIds, the delta after a cursor, and a fixed number of queries."""

import csv
import io
import re
import zipfile
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from analytics.services import grade_override
from roster import gradebook as og
from roster.models import RosterEnrollment
from tests.analytics.helpers import course_with_instructor, learner, make_assignment, submit
from tests.factories import OrganizationFactory
from tests.roster.helpers import roster_class, student

pytestmark = pytest.mark.django_db

CATEGORIES = "sourcedId,status,dateLastModified,title,weight"
LINE_ITEMS = (
    "sourcedId,status,dateLastModified,title,description,assignDate,dueDate,classSourcedId,categorySourcedId,"
    "academicSessionSourcedId,resultValueMin,resultValueMax,schoolSourcedId"
)
RESULTS = (
    "sourcedId,status,dateLastModified,lineItemSourcedId,studentSourcedId,scoreStatus,score,scoreDate,comment,"
    "textScore,classSourcedId,inProgress,incomplete,late,missing"
)
STAMP = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"


def read_package(data: bytes) -> dict[str, list[dict]]:
    """Read a package the way our OneRoster importer does: root entries, UTF-8 (BOM accepted),
    RFC 4180, header first. Returns {file: [row dicts]} plus the raw headers under "_headers"."""
    out: dict = {"_headers": {}}
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for name in zf.namelist():
            assert "/" not in name
            text = zf.read(name).decode("utf-8-sig")
            rows = list(csv.reader(io.StringIO(text, newline="")))
            out["_headers"][name] = ",".join(rows[0])
            out[name] = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    return out


def export(cls, **kw) -> tuple[dict, og.GradebookExport]:
    exp = og.gradebook_export(roster_class=cls, **kw)
    return read_package(b"".join(og.zip_chunks(exp))), exp


@pytest.fixture
def world():
    course, teacher = course_with_instructor(title="Data 101")
    quiz = make_assignment(course, kind="quiz", title="Quiz 1", points=10)
    essay = make_assignment(course, kind="essay", title="Essay", points=20, due_at=timezone.now() + timedelta(days=3))
    cls = roster_class(OrganizationFactory(slug="univ-a"), course)
    amina, karim = student(cls, "stu-1"), student(cls, "stu-2")
    return course, teacher, cls, quiz, essay, amina, karim


def test_bulk_package_has_the_manifest_and_the_exact_headers(world):
    course, _t, cls, quiz, essay, amina, karim = world
    submit(amina, quiz, score=8)
    pkg, exp = export(cls)
    assert exp.mode == "bulk"
    assert sorted(n for n in pkg if n != "_headers") == [
        "categories.csv",
        "lineItems.csv",
        "manifest.csv",
        "results.csv",
    ]
    assert pkg["_headers"]["categories.csv"] == CATEGORIES
    assert pkg["_headers"]["lineItems.csv"] == LINE_ITEMS
    assert pkg["_headers"]["results.csv"] == RESULTS
    manifest = {r["propertyName"]: r["value"] for r in pkg["manifest.csv"]}
    assert manifest["manifest.version"] == "1.0"
    assert manifest["oneroster.version"] == "1.2"
    assert manifest["source.systemName"] == "Kafaat"
    assert {k: v for k, v in manifest.items() if k.startswith("file.") and v != "absent"} == {
        "file.categories": "bulk",
        "file.lineItems": "bulk",
        "file.results": "bulk",
    }
    assert manifest["file.users"] == manifest["file.classes"] == "absent"


def test_bulk_rows_carry_scores_statuses_dates_and_stable_sourced_ids(world):
    course, _t, cls, quiz, essay, amina, karim = world
    graded = submit(amina, quiz, score="7.5", late=True)
    submit(karim, essay, status="needs_review")
    pkg, _exp = export(cls)
    module = quiz.module
    assert pkg["categories.csv"] == [
        {
            "sourcedId": f"class-1:m{module.pk}",
            "status": "",
            "dateLastModified": "",
            "title": module.title,
            "weight": "",
        }
    ]
    items = {r["sourcedId"]: r for r in pkg["lineItems.csv"]}
    assert list(items) == [f"class-1:a{quiz.pk}", f"class-1:a{essay.pk}"]
    q = items[f"class-1:a{quiz.pk}"]
    assert (q["status"], q["dateLastModified"], q["title"], q["classSourcedId"]) == ("", "", "Quiz 1", "class-1")
    assert (q["categorySourcedId"], q["academicSessionSourcedId"], q["schoolSourcedId"]) == (
        f"class-1:m{module.pk}", "term-2026", "school-1",
    )  # fmt: skip
    assert (q["resultValueMin"], q["resultValueMax"]) == ("0", "10")
    assert q["dueDate"] == "2026-12-31T23:59:59.000Z"  # no due date: the term's end
    assert items[f"class-1:a{essay.pk}"]["dueDate"] == og.stamp(essay.due_at)
    results = {r["sourcedId"]: r for r in pkg["results.csv"]}
    assert results[f"class-1:a{quiz.pk}:stu-1"] == {
        "sourcedId": f"class-1:a{quiz.pk}:stu-1",
        "status": "",
        "dateLastModified": "",
        "lineItemSourcedId": f"class-1:a{quiz.pk}",
        "studentSourcedId": "stu-1",
        "scoreStatus": "fully graded",
        "score": "7.5",
        "scoreDate": timezone.localdate(graded.graded_at).isoformat(),
        "comment": "",
        "textScore": "",
        "classSourcedId": "class-1",
        "inProgress": "",
        "incomplete": "",
        "late": "true",
        "missing": "",
    }
    pending = results[f"class-1:a{essay.pk}:stu-2"]
    assert (pending["scoreStatus"], pending["score"], pending["inProgress"]) == ("submitted", "", "true")
    assert len(results) == 2
    again, _ = export(cls)
    assert again["results.csv"] == pkg["results.csv"] and again["lineItems.csv"] == pkg["lineItems.csv"]


def test_only_the_class_students_are_exported(world):
    course, _t, cls, quiz, essay, amina, karim = world
    outsider = learner(course)
    submit(outsider, quiz, score=3)
    submit(amina, quiz, score=9)
    pkg, _ = export(cls)
    assert [r["studentSourcedId"] for r in pkg["results.csv"]] == ["stu-1"]


def test_a_newer_attempt_being_graded_does_not_hide_the_standing_grade(world):
    course, _t, cls, quiz, essay, amina, karim = world
    submit(amina, quiz, score=6)
    submit(amina, quiz, status="queued")
    pkg, _ = export(cls)
    (row,) = pkg["results.csv"]
    assert (row["scoreStatus"], row["score"]) == ("fully graded", "6")


def test_an_override_is_the_exported_grade(world):
    course, teacher, cls, quiz, essay, amina, karim = world
    submit(amina, quiz, score=4)
    grade_override(actor=teacher, course=course, learner=amina, assignment=quiz, score=9, reason="re-marked")
    pkg, _ = export(cls)
    assert pkg["results.csv"][0]["score"] == "9"


def test_a_term_window_keeps_the_attempts_submitted_in_it(world):
    course, _t, cls, quiz, essay, amina, karim = world
    submit(amina, quiz, score=5, when=timezone.now().replace(year=2026, month=10, day=2))
    submit(karim, quiz, score=6, when=timezone.now().replace(year=2025, month=3, day=2))
    term = cls.terms.get()
    pkg, _ = export(cls, window=og.Window(start=term.start_date, end=term.end_date, term=term))
    assert [r["studentSourcedId"] for r in pkg["results.csv"]] == ["stu-1"]
    pkg, _ = export(cls, window=og.Window(start=date(2025, 1, 1), end=date(2025, 6, 30)))
    assert [r["studentSourcedId"] for r in pkg["results.csv"]] == ["stu-2"]
    assert pkg["lineItems.csv"][0]["dueDate"] == "2025-06-30T23:59:59.000Z"


def test_the_delta_after_a_cursor_carries_only_the_changed_result(world):
    course, teacher, cls, quiz, essay, amina, karim = world
    submit(amina, quiz, score=5)
    submit(karim, quiz, score=6)
    _pkg, first = export(cls)
    cursor = first.next_cursor
    grade_override(actor=teacher, course=course, learner=karim, assignment=quiz, score=10, reason="appeal")
    pkg, second = export(cls, since=cursor)
    assert second.mode == "delta"
    manifest = {r["propertyName"]: r["value"] for r in pkg["manifest.csv"]}
    assert manifest["file.results"] == manifest["file.lineItems"] == manifest["file.categories"] == "delta"
    (row,) = pkg["results.csv"]
    assert (row["studentSourcedId"], row["score"], row["status"]) == ("stu-2", "10", "active")
    assert re.match(STAMP, row["dateLastModified"])
    assert pkg["lineItems.csv"] == [] and pkg["categories.csv"] == []
    # Nothing changed since: an empty delta, and the same cursor back.
    pkg, third = export(cls, since=second.next_cursor)
    assert pkg["results.csv"] == [] and third.next_cursor == second.next_cursor


def test_a_student_who_left_the_class_has_results_to_be_deleted_in_the_delta(world):
    course, _t, cls, quiz, essay, amina, karim = world
    submit(amina, quiz, score=5)
    submit(karim, quiz, score=6)
    _pkg, first = export(cls)
    enr = RosterEnrollment.objects.get(roster_user__sourced_id="stu-2")
    enr.is_active = False
    enr.save()
    pkg, _ = export(cls, since=first.next_cursor)
    (row,) = pkg["results.csv"]
    assert (row["sourcedId"], row["status"], row["scoreStatus"]) == (f"class-1:a{quiz.pk}:stu-2", "tobedeleted", "")
    bulk, _ = export(cls)
    assert [r["studentSourcedId"] for r in bulk["results.csv"]] == ["stu-1"]


def test_a_changed_assignment_is_a_delta_line_item_with_its_category(world):
    course, _t, cls, quiz, essay, amina, karim = world
    _pkg, first = export(cls)
    quiz.title = "Quiz one"
    quiz.save()
    pkg, _ = export(cls, since=first.next_cursor)
    assert [(r["title"], r["status"]) for r in pkg["lineItems.csv"]] == [("Quiz one", "active")]
    assert [r["sourcedId"] for r in pkg["categories.csv"]] == [f"class-1:m{quiz.module_id}"]


def test_a_bad_cursor_is_refused_naming_the_parameter(world):
    cls = world[2]
    with pytest.raises(og.GradebookExportRefused) as err:
        og.gradebook_export(roster_class=cls, since="not-a-cursor")
    assert err.value.field == "since"


def test_a_long_sourced_id_becomes_a_stable_uuid():
    long = "c" * 250 + ":a12:" + "s" * 20
    assert og.sourced_id(long) == og.sourced_id(long)
    assert og.sourced_id(long).startswith("kafaat:") and len(og.sourced_id(long)) <= 255
    assert og.sourced_id("class-1:a12") == "class-1:a12"


def _queries(cls, django_assert_num_queries, n):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        exp = og.gradebook_export(roster_class=cls, since=None)
        data = b"".join(og.zip_chunks(exp))
    assert len(read_package(data)["results.csv"]) == n
    return len(ctx)


def test_the_export_runs_a_fixed_number_of_queries_whatever_the_class_size(world, django_assert_num_queries):
    course, _t, cls, quiz, essay, amina, karim = world
    submit(amina, quiz, score=1)
    few = _queries(cls, django_assert_num_queries, 1)
    for i in range(30):
        submit(student(cls, f"more-{i}"), quiz, score=Decimal(i % 10))
    many = _queries(cls, django_assert_num_queries, 31)
    assert few == many


def test_the_command_writes_the_zip_and_prints_the_next_cursor(world, tmp_path):
    from django.core.management import call_command

    course, _t, cls, quiz, essay, amina, karim = world
    submit(amina, quiz, score=8, when=timezone.now().replace(year=2026, month=10, day=2))
    out, err = io.StringIO(), io.StringIO()
    target = tmp_path / "out.zip"
    call_command(
        "export_oneroster_gradebook", "--org", "univ-a", "--class", "class-1", "--term", "term-2026",
        "-o", str(target), stdout=out, stderr=err,
    )  # fmt: skip
    cursor = out.getvalue().strip()
    og.decode_cursor(cursor)
    pkg = read_package(target.read_bytes())
    assert [r["score"] for r in pkg["results.csv"]] == ["8"]
    call_command(
        "export_oneroster_gradebook", "--org", "univ-a", "--class", "class-1", "--from", "2000-01-01",
        "--to", "2100-01-01", "--since", cursor, "-o", str(target), stdout=io.StringIO(), stderr=err,
    )  # fmt: skip
    assert read_package(target.read_bytes())["results.csv"] == []


@pytest.mark.parametrize(
    "args,message",
    [
        (["--org", "nope", "--class", "class-1"], "--org: no organization"),
        (["--org", "univ-a", "--class", "nope"], "--class: univ-a has no class"),
        (["--org", "univ-a", "--class", "class-1", "--term", "x"], "--term: no academic session"),
        (["--org", "univ-a", "--class", "class-1", "--from", "2026-02-30", "--to", "2026-03-01"], "--from: "),
        (["--org", "univ-a", "--class", "class-1", "--from", "2026-01-01"], "--from and --to go together"),
        (["--org", "univ-a", "--class", "class-1", "--since", "zzz"], "--since: "),
    ],
)
def test_the_command_names_the_bad_option(world, tmp_path, args, message):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError) as err:
        call_command("export_oneroster_gradebook", *args, "-o", str(tmp_path / "x.zip"), stderr=io.StringIO())
    assert str(err.value).startswith(message)
    assert not (tmp_path / "x.zip").exists()

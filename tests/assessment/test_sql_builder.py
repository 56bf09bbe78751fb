"""The SQL assignment's builder (assessment/kinds/sql/builder.py): the round trip with the spec, the
starter, course CSV files picked into tables (and a hidden variant), a pasted script, errors on
the fields they concern, "check against the reference" through the real sandbox, and the studio
page: an instructor posts the builder and gets an assignment whose version spec is the one built."""

import copy
import json

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from assessment import kinds
from assessment.kinds.base import BuilderContext
from assessment.kinds.sql.builder import Builder, table_name
from tests.assessment.sql_fixtures import COURSE_FILES, REFERENCE_QUERY, SPEC, STARTER_QUERY


def context(files=COURSE_FILES) -> BuilderContext:
    return BuilderContext(files=[(n, len(c)) for n, c in files.items()], read_file=files.get, language="fr")


def valid(data, ctx=None) -> Builder:
    builder = Builder(data=data, context=ctx or BuilderContext())
    assert builder.is_valid(), builder.errors.as_data()
    return builder


SCRIPT_SPEC = {
    "dataset": {"script": "CREATE TABLE t (a INTEGER, b TEXT);\nINSERT INTO t VALUES (1, 'x'), (2, 'y');\n"},
    "reference_query": "SELECT a FROM t ORDER BY a DESC",
    "order_matters": True,
    "column_names_matter": False,
    "tolerance": 0,
    "starter_query": "",
}


@pytest.mark.parametrize("spec", [SPEC, SCRIPT_SPEC, {"dataset": SPEC["dataset"], "reference_query": "SELECT 1"}])
def test_round_trip_of_specs(spec):
    kinds.validate_spec("sql", spec)
    out = valid(Builder.data_from_spec(spec)).to_spec()
    assert out == spec
    assert json.dumps(out) == json.dumps(spec)  # same key order, same types


def test_the_starter_renders_every_field_with_a_label_and_no_dataset_yet():
    builder = Builder(context=context())
    html = render_to_string(Builder.template_name, {"builder": builder})
    for name in ("ds_files", "ds_script", "hd_files", "hd_script", "hd_remove", "reference_query", "order_matters",
                 "column_names_matter", "tolerance", "starter_query"):  # fmt: skip
        assert f'name="{name}"' in html, name
    assert "admissions_hidden.csv" in html and "Check against the reference" in html
    assert 'dir="ltr"' in html


def test_course_files_become_tables_named_after_the_file_and_hidden_files_drop_their_suffix():
    assert table_name("admissions.csv") == "admissions"
    assert table_name("admissions_hidden.csv", hidden=True) == "admissions"
    assert table_name("2026-sejours.csv") == "t_2026_sejours"
    data = {**Builder.data_from_spec({"reference_query": REFERENCE_QUERY, "tolerance": 0.01,
                                      "starter_query": STARTER_QUERY}),
            "ds_files": ["admissions.csv", "patients.csv"],
            "hd_files": ["admissions_hidden.csv", "patients_hidden.csv"]}  # fmt: skip
    assert valid(data, context()).to_spec() == SPEC


def test_a_pasted_script_is_the_dataset_and_replaces_the_embedded_tables():
    data = {**Builder.data_from_spec(SPEC), "ds_script": SCRIPT_SPEC["dataset"]["script"], "hd_remove": "on",
            "reference_query": "SELECT * FROM t"}  # fmt: skip
    spec = valid(data).to_spec()
    assert spec["dataset"] == SCRIPT_SPEC["dataset"] and "hidden_dataset" not in spec


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"ds_current": ""}, "ds_script"),
        ({"reference_query": "  "}, "reference_query"),
        ({"tolerance": "abc"}, "tolerance"),
        ({"tolerance": "-1"}, "tolerance"),
        ({"ds_current": "", "ds_script": "DROP TABLE admissions;"}, "ds_script"),
        ({"hd_current": "", "hd_script": "CREATE TABLE autre (x);"}, "hd_script"),
    ],
)
def test_bad_input_is_an_error_on_its_field(changes, field):
    builder = Builder(data={**Builder.data_from_spec(SPEC), **changes})
    assert not builder.is_valid()
    assert field in builder.errors, builder.errors


def test_a_sql_file_ticked_with_csv_files_is_refused_on_the_files():
    files = {**COURSE_FILES, "schema.sql": b"CREATE TABLE t (a);"}
    data = {**Builder.data_from_spec(SPEC), "ds_files": ["schema.sql", "patients.csv"], "hd_remove": "on"}
    builder = Builder(data=data, context=context(files))
    assert not builder.is_valid() and "ds_files" in builder.errors
    data["ds_files"] = ["schema.sql"]
    assert valid(data, context(files)).to_spec()["dataset"] == {"script": "CREATE TABLE t (a);"}


def test_check_runs_the_reference_in_the_sandbox_and_shows_its_result():
    builder = Builder(data={**Builder.data_from_spec(SPEC), "builder_action": "check"}, context=context())
    assert builder.edit_action()
    assert builder.check_result == {
        "columns": ["service", "admissions", "duree_moyenne"],
        "rows": [["Cardiologie", "3", "4.33"], ["Maternite", "2", "2.5"], ["Urgences", "1", "1.0"]],
        "public_count": 3,
        "hidden_count": 3,
    }
    html = render_to_string(Builder.template_name, {"builder": builder})
    assert "returns 3 rows" in html and "Cardiologie" in html


def test_check_puts_a_failing_reference_on_the_reference_field():
    data = {**Builder.data_from_spec(SPEC), "reference_query": "SELECT nope FROM admissions", "builder_action": "check"}
    builder = Builder(data=data)
    assert builder.edit_action()
    assert "no such column" in str(builder.errors["reference_query"])


def test_a_row_operation_that_is_not_check_is_no_edit():
    assert not Builder(data={**Builder.data_from_spec(SPEC), "builder_action": "add"}).edit_action()


# --- the studio page --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_instructor_builds_the_sql_assignment_through_the_studio(client):
    from courses.models import Assignment, CourseFile
    from tests.factories import CourseFactory, ModuleFactory, UserFactory
    from tests.twofactor import login_with_2fa

    course = CourseFactory(code="sql-1", status="draft", language="fr")
    module = ModuleFactory(course=course, position=1)
    for name, content in COURSE_FILES.items():
        CourseFile.objects.create(course=course, name=name, content=content, size=len(content), content_kind="csv")
    instructor = UserFactory()
    course.instructors.add(instructor)
    login_with_2fa(client, instructor)
    url = reverse("courses:author-assignment-new", kwargs={"code": course.code, "module_pk": module.pk}) + "?kind=sql"
    page = client.get(url)
    assert page.status_code == 200 and 'name="ds_files"' in page.content.decode()
    post = {
        "kind": "sql", "title": "Séjours par service", "points": "10", "pass_percent": "50",
        "late_penalty_per_day": "0", "prompt_markdown": "Pour chaque service...",
        **Builder.data_from_spec({"reference_query": REFERENCE_QUERY, "tolerance": 0.01,
                                  "starter_query": STARTER_QUERY}),
        "ds_files": ["admissions.csv", "patients.csv"], "hd_files": ["admissions_hidden.csv", "patients_hidden.csv"],
    }  # fmt: skip
    checked = client.post(url, {**post, "builder_action": "check"})
    assert checked.status_code == 200 and "Cardiologie" in checked.content.decode()
    assert not Assignment.objects.exists()
    response = client.post(url, post)
    assert response.status_code == 302, response.content.decode()[:3000]
    assignment = Assignment.objects.get(course=course)
    spec = assignment.current_version.spec
    assert kinds.editable_spec("sql", spec) == SPEC
    assert spec["expected"]["public"]["rows"][0] == ["Cardiologie", 3, 4.33]
    edit = client.get(reverse("courses:author-assignment-edit", kwargs={"code": course.code, "pk": assignment.pk}))
    assert edit.status_code == 200 and "admissions" in edit.content.decode()


def test_bad_tolerance_in_a_copy_does_not_change_the_fixture():
    data = copy.deepcopy(Builder.data_from_spec(SPEC))
    data["tolerance"] = "1,5"
    assert valid(data).to_spec()["tolerance"] == 1.5

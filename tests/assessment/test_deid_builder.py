"""The deid builder: the round trip with the spec, the starter, the course file picked into the
table and its columns reloaded, roles, bound errors on their fields, "check against the
reference" (the reference release, and the reference solution in the real sandbox), and the
studio page through the test client."""

import json

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from assessment import kinds
from assessment.kinds.base import BuilderContext
from assessment.kinds.deid.builder import Builder
from courses.models import Assignment, CourseFile
from tests.assessment.deid_fixtures import COURSE_FILES, REFERENCE_RELEASE, REFERENCE_SOLUTION, SPEC, TABLE
from tests.factories import CourseFactory, ModuleFactory, UserFactory
from tests.twofactor import login_with_2fa

NAME = "admissions_casablanca.csv"
CONTEXT = BuilderContext(files=[(NAME, len(COURSE_FILES[NAME])), ("notes.txt", 4)],
                         read_file=COURSE_FILES.get, language="fr")  # fmt: skip


def post(spec=SPEC, **changes) -> dict:
    data = Builder.data_from_spec(spec)
    data.update({f"deid-{k}": v for k, v in changes.items()})
    return data


def test_the_spec_comes_back_unchanged_through_the_builder():
    for spec in (SPEC, {k: v for k, v in SPEC.items() if k not in ("reference_solution",)},
                 {**SPEC, "max_loss": 1, "answer_mode": "csv", "direct_identifiers": []}):  # fmt: skip
        builder = Builder(data=Builder.data_from_spec(spec))
        assert builder.is_valid(), builder.errors
        assert json.dumps(builder.to_spec()) == json.dumps(spec)


def test_kinds_registry_names_the_builder():
    assert kinds.get("deid").builder is Builder


def test_the_starter_has_targets_and_asks_for_a_table():
    builder = Builder(context=CONTEXT)
    assert builder["k"].value() == 3 and builder["answer_mode"].value() == "either"
    assert builder.role_rows() == []
    assert [c for c, _label in builder.fields["source_file"].choices] == ["", NAME]  # CSV files only
    html = render_to_string(Builder.template_name, {"builder": builder})
    assert 'name="deid-table"' in html and 'value="pick"' in html and 'value="check"' in html
    bound = Builder(data={**Builder.data_from_spec({**SPEC, "table": ""}), "deid-columns": "[]"})
    assert not bound.is_valid() and "table" in bound.errors


def test_picking_the_course_file_copies_it_and_reloads_the_columns_with_their_roles():
    data = {**Builder.data_from_spec({**SPEC, "table": ""}), "deid-source_file": NAME, "builder_action": "pick"}
    builder = Builder(data=data, context=CONTEXT)
    assert builder.edit_action() is True and not builder.is_bound
    assert builder["table"].value() == TABLE
    assert builder.column_names == ["NOM", "CIN", "AGE", "SEXE", "CODE_POSTAL", "SERVICE", "DIAGNOSTIC"]
    assert [builder[f"role-{i}"].value() for i in range(7)] == ["other"] * 7
    html = render_to_string(Builder.template_name, {"builder": builder})
    assert 'name="deid-role-6"' in html and "DIAGNOSTIC" in html
    # Roles set, the page posted again: the spec.
    data = Builder.data_from_spec(SPEC)
    builder = Builder(data=data, context=CONTEXT)
    assert builder.is_valid(), builder.errors


def test_picking_a_file_that_is_not_offered_is_an_error_on_the_file_field():
    data = {**Builder.data_from_spec(SPEC), "deid-source_file": "notes.txt", "builder_action": "pick"}
    builder = Builder(data=data, context=CONTEXT)
    assert builder.edit_action() is True and "source_file" in builder.errors


def test_reloading_the_columns_keeps_the_roles_of_the_columns_that_stay():
    data = post(table=TABLE.replace("SERVICE", "UNITE"))
    data["builder_action"] = "columns"
    builder = Builder(data=data)
    assert builder.edit_action() is True
    roles = {c: builder[f"role-{i}"].value() for i, c in enumerate(builder.column_names)}
    assert roles["NOM"] == "direct" and roles["AGE"] == "quasi" and roles["UNITE"] == "other"


def test_a_table_edited_without_reloading_its_columns_is_an_error_on_the_table():
    builder = Builder(data=post(table=TABLE.replace("SERVICE", "UNITE")))
    assert not builder.is_valid() and list(builder.errors) == ["table"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"k": "1"}, "k"),
        ({"k": "50"}, "k"),
        ({"l": "9"}, "l"),
        ({"max_loss": "beaucoup"}, "max_loss"),
        ({"max_loss": "1.5"}, "max_loss"),
        ({"entrypoint": "2x"}, "entrypoint"),
        ({"role-6": "other"}, "role-0"),  # no sensitive column
        ({"role-5": "sensitive"}, "role-6"),  # two
        ({"role-2": "other", "role-3": "other", "role-4": "other"}, "role-0"),  # no quasi-identifier
        ({"reference_release": TABLE}, "reference_release"),
        ({"table": "A,A\n1,2\n"}, "table"),
    ],
)
def test_bound_errors_land_on_their_field(changes, field):
    builder = Builder(data=post(**changes))
    assert not builder.is_valid()
    assert field in builder.errors, builder.errors


def test_a_decimal_comma_is_read_as_a_point():
    builder = Builder(data=post(max_loss="0,5"))
    assert builder.is_valid(), builder.errors and builder.to_spec()["max_loss"] == 0.5


def test_check_measures_the_reference_release_and_the_reference_solution():
    builder = Builder(data={**post(), "builder_action": "check"})
    assert builder.edit_action() is True
    assert builder.errors == {}
    assert [r["measures"]["k"] for r in builder.check_results] == [3, 3]
    html = render_to_string(Builder.template_name, {"builder": builder})
    assert "check-results" in html and "0.4868" in html


def test_check_of_a_reference_solution_that_misses_k_is_an_error_on_it():
    bad = REFERENCE_SOLUTION.replace('out["SEXE"] = "*"', "pass")
    builder = Builder(data={**post(reference_solution=bad, reference_release=""), "builder_action": "check"})
    assert builder.edit_action() is True
    assert builder.check_results is None and list(builder.errors) == ["reference_solution"]
    assert "k-anonymity" in builder.errors["reference_solution"][0]


def test_check_without_any_reference_asks_for_one():
    data = {**post(reference_release="", reference_solution=""), "builder_action": "check"}
    builder = Builder(data=data)
    assert builder.edit_action() is True and list(builder.errors) == ["reference_release"]


# --- the studio page -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_instructor_builds_the_assignment_from_a_course_file_in_the_studio(client):
    course = CourseFactory(code="deid-studio", status="draft", language="fr")
    module = ModuleFactory(course=course, position=1)
    CourseFile.objects.create(course=course, name=NAME, content=COURSE_FILES[NAME], size=len(COURSE_FILES[NAME]),
                              content_kind="dataset")  # fmt: skip
    instructor = UserFactory()
    course.instructors.add(instructor)
    login_with_2fa(client, instructor)
    url = reverse("courses:author-assignment-new", kwargs={"code": course.code, "module_pk": module.pk}) + "?kind=deid"
    page = client.get(url)
    assert page.status_code == 200 and 'name="deid-source_file"' in page.content.decode()
    settings = {"kind": "deid", "title": "Désidentifier les admissions", "points": "10", "pass_percent": "60",
                "is_required": "on", "late_penalty_per_day": "0", "prompt_markdown": "Publiez la table."}  # fmt: skip
    starter = Builder.data_from_spec({**SPEC, "table": ""})
    response = client.post(url, {**settings, **starter, "deid-source_file": NAME, "builder_action": "pick"})
    assert response.status_code == 200 and not Assignment.objects.exists()
    page = response.content.decode()
    assert 'name="deid-role-6"' in page and "Amina Benali" in page
    roles = {"deid-role-0": "direct", "deid-role-1": "direct", "deid-role-2": "quasi", "deid-role-3": "quasi",
             "deid-role-4": "quasi", "deid-role-5": "other", "deid-role-6": "sensitive"}  # fmt: skip
    form = {**settings, **Builder.data_from_spec(SPEC), **roles}
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[-3000:]
    assignment = Assignment.objects.get(course=course)
    assert assignment.kind == "deid" and assignment.current_version.spec == SPEC


@pytest.mark.django_db
def test_a_bad_target_in_the_studio_is_a_field_error_and_nothing_is_saved(client):
    course = CourseFactory(code="deid-studio-2", status="draft")
    module = ModuleFactory(course=course, position=1)
    instructor = UserFactory()
    course.instructors.add(instructor)
    login_with_2fa(client, instructor)
    url = reverse("courses:author-assignment-new", kwargs={"code": course.code, "module_pk": module.pk}) + "?kind=deid"
    settings = {"kind": "deid", "title": "T", "points": "10", "pass_percent": "60", "late_penalty_per_day": "0"}
    response = client.post(url, {**settings, **post(k="40")})
    assert response.status_code == 400 and not Assignment.objects.exists()
    assert 'role="alert"' in response.content.decode()


def test_the_reference_release_of_the_fixture_meets_the_targets():
    report = kinds.get("deid").grade(SPEC, {"csv": REFERENCE_RELEASE})
    assert report.score == 3

"""The fhir builder: exact round trips, the starter, row operations, errors on the field they
concern, "check against the reference", and the studio page saving what it builds."""

import json

import pytest
from django.urls import reverse

from assessment import kinds
from assessment.kinds.fhir.builder import Builder
from courses.models import Assignment
from tests.assessment.fhir_fixtures import REFERENCE, SPEC
from tests.assessment.test_fhir_kind import OBS, OBS_SPEC
from tests.factories import CourseFactory, ModuleFactory, UserFactory
from tests.twofactor import login_with_2fa

P = "builder-"

SPECS = [
    SPEC,
    OBS_SPEC,
    {"resource_type": "Patient", "reference_answer": '{"resourceType": "Patient"}'},
    {
        "resource_type": "Observation",
        "rules": [
            {"path": "Observation.valueQuantity.value", "equals": 5.4, "note": "kept"},
            {
                "path": "Observation.code",
                "code": {"system": "http://loinc.org", "code": "2339-0", "display": "Glucose"},
            },
        ],
        "starter": "",
        "reference_answer": json.dumps(OBS),
        "x-unknown": {"a": [1]},
    },
    {
        "resource_type": "Patient",
        "rules": [{"path": "Patient.active", "equals": True}, {"path": "Patient.multipleBirthInteger", "equals": 2}],
        "resolve_references": False,
        "reference_answer": '{"resourceType": "Patient", "active": true, "multipleBirthInteger": 2}',
    },
]


@pytest.mark.parametrize("spec", SPECS)
def test_a_spec_comes_back_unchanged_through_the_builder(spec):
    kinds.validate_spec("fhir", spec)
    builder = Builder(data=Builder.data_from_spec(spec))
    assert builder.is_valid(), builder.errors
    assert builder.to_spec() == spec


def test_the_starter_shows_an_observation_with_a_loinc_rule():
    page = str(Builder())
    assert 'name="builder-rule-0-path"' in page and 'value="Observation.code"' in page
    assert 'value="http://loinc.org"' in page and 'dir="ltr"' in page
    assert 'value="check"' in page and 'name="builder-reference_answer"' in page


def _data(spec=SPEC, **changes):
    data = Builder.data_from_spec(spec)
    data.update({f"{P}{k}": v for k, v in changes.items()})
    return data


def _errors(data) -> dict:
    builder = Builder(data=data)
    assert not builder.is_valid()
    return builder.errors


def test_errors_land_on_the_field_they_concern():
    assert "rule-0-path" in _errors(_data(**{"rule-0-path": ""}))
    assert "rule-1-value" in _errors(_data(**{"rule-1-value": ""}))
    assert "rule-0-system" in _errors(_data(**{"rule-0-system": ""}))
    assert "rule-2-path" in _errors(_data(**{"rule-2-path": "Observation.valueQuantity.sys tem"}))
    # The reference answer fails rule 2 (index 1): the error is on that rule's row.
    errors = _errors(_data(**{"rule-1-value": "preliminary"}))
    assert list(errors) == ["rule-1-path"] and "reference answer does not pass" in errors["rule-1-path"][0]
    errors = _errors(_data(reference_answer="{"))
    assert list(errors) == ["reference_answer"]
    errors = _errors(_data(reference_answer=REFERENCE.replace('"Benali"', "3")))
    assert list(errors) == ["reference_answer"] and "not valid FHIR" in errors["reference_answer"][0]
    assert "identifier_type" in _errors(_data(identifier_type=""))
    assert "resolve_references" in _errors(_data(OBS_SPEC, resolve_references="on"))
    assert "resource_type" in _errors(_data(resource_type="Medication"))


def test_a_tampered_row_count_is_bounded():
    builder = Builder(data=_data(rules="999999"))
    assert builder.rule_count == 50 and not builder.is_valid()


def test_row_operations_add_move_and_delete_rules_without_saving():
    builder = Builder(data={**_data(), "builder_action": "add_rule"})
    assert builder.edit_action() and builder.rule_count == 7 and not builder.is_bound
    assert builder["rule-6-path"].value() == "Bundle."
    builder = Builder(data={**_data(), "builder_action": "down_rule-0"})
    assert builder.edit_action() and builder["rule-1-path"].value() == "Observation.code"
    builder = Builder(data={**_data(), "builder_action": "delete_rule-0"})
    assert builder.edit_action() and builder.rule_count == 5
    assert builder["rule-0-path"].value() == "Observation.status"
    assert not Builder(data={**_data(), "builder_action": "nonsense"}).edit_action()


def test_check_against_the_reference_shows_what_each_rule_found():
    builder = Builder(data={**_data(), "builder_action": "check"})
    assert builder.edit_action()
    assert [r["path"] for r in builder.check_results] == [r["path"] for r in SPEC["rules"]]
    assert builder.check_results[1]["found"] == ["final"]
    page = str(builder)
    assert "passes every check" in page and "1968-04-12" in page
    failing = Builder(data={**_data(**{"rule-4-value": "AMB"}), "builder_action": "check"})
    assert failing.edit_action() and failing.check_results is None
    assert "rule-4-path" in failing.errors and "AMB" in str(failing)


# --- the studio page ---------------------------------------------------------------------------

SETTINGS = {"kind": "fhir", "title": "Admission à Casablanca", "points": "8", "pass_percent": "75",
            "late_penalty_per_day": "0", "prompt_markdown": "Écrivez le Bundle de l'admission."}  # fmt: skip


@pytest.fixture
def studio(client, db):
    module = ModuleFactory(course=CourseFactory(language="fr", status="draft"))
    instructor = UserFactory()
    module.course.instructors.add(instructor)
    login_with_2fa(client, instructor)
    url = reverse("courses:author-assignment-new", kwargs={"code": module.course.code, "module_pk": module.pk})
    return {"module": module, "url": f"{url}?kind=fhir"}


def test_an_instructor_builds_the_exercise_in_the_studio(client, studio):
    page = client.get(studio["url"]).content.decode()
    assert 'name="builder-resource_type"' in page and 'name="builder-rule-0-path"' in page
    response = client.post(studio["url"], {**SETTINGS, **Builder.data_from_spec(SPEC)})
    assert response.status_code == 302, response.content.decode()[:3000]
    assignment = Assignment.objects.get(course=studio["module"].course)
    assert assignment.kind == "fhir"
    assert assignment.current_version.spec == SPEC


def test_the_studio_check_button_shows_the_result_and_saves_nothing(client, studio):
    response = client.post(studio["url"], {**SETTINGS, **Builder.data_from_spec(SPEC), "builder_action": "check"})
    assert response.status_code == 200
    assert "http://unitsofmeasure.org" in response.content.decode()
    assert not Assignment.objects.exists()
    bad = {**SETTINGS, **Builder.data_from_spec(SPEC), f"{P}reference_answer": '{"resourceType": "Patient"}'}
    response = client.post(studio["url"], bad)
    page = response.content.decode()
    assert response.status_code == 400 and 'role="alert"' in page  # the studio answers a refused save with 400
    assert "Expected a resource of type Bundle" in page
    assert not Assignment.objects.exists()

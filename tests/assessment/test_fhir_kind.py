"""The fhir kind: spec validation naming the field, the path language, grading right / wrong /
partial answers with each failure by element path, what a learner may see, the archive round
trip, try_grader, and the messages in French and Arabic."""

import json

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError
from django.template.loader import render_to_string
from django.utils import translation

from assessment import kinds
from assessment.kinds import AnswerRefused, SpecError
from assessment.kinds.fhir import grader, paths
from assessment.kinds.fhir.messages import notice_text
from courses import archive
from tests.assessment import fhir_fixtures as fx
from tests.assessment.fhir_fixtures import RIGHT_ANSWER, SPEC, WRONG_ANSWER

OBS = {
    "resourceType": "Observation",
    "status": "final",
    "code": {"coding": [{"system": "http://loinc.org", "code": "2339-0"}]},
    "valueQuantity": {"value": 5.4, "unit": "mmol/L", "system": "http://unitsofmeasure.org", "code": "mmol/L"},
    "identifier": [{"system": "urn:lab", "value": "L-1"}],
}
OBS_SPEC = {
    "resource_type": "Observation",
    "rules": [
        {"path": "Observation.code.coding", "code": {"system": "http://loinc.org", "code": "2339-0"}},
        {"path": "Observation.valueQuantity.value", "equals": 5.4},
        {"path": "Observation.valueQuantity.system", "equals": "http://unitsofmeasure.org"},
        {"path": "Observation.code.coding.where(system='http://loinc.org').code", "required": True},
    ],
    "identifier_system": "urn:lab",
    "reference_answer": json.dumps(OBS),
}


def _grade(spec, resource):
    text = resource if isinstance(resource, str) else json.dumps(resource)
    return kinds.get_grader("fhir")(spec, {"resource": text})


def _paths(result) -> list[str]:
    return [f["path"] for f in result.feedback["failures"]]


# --- spec validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"resource_type": "Medication"}, "resource_type"),
        ({"rules": "x"}, "rules"),
        ({"rules": [{"path": "observation.code", "required": True}]}, "rules[0].path"),
        ({"rules": [{"path": "Patient.name", "required": True}]}, "rules[0].path"),
        ({"rules": [{"path": "Observation..code", "required": True}]}, "rules[0].path"),
        ({"rules": [{"path": "Observation.code.where(x)", "required": True}]}, "rules[0].path"),
        ({"rules": [{"path": "Observation.code"}]}, "rules[0]"),
        ({"rules": [{"path": "Observation.code", "required": True, "equals": "x"}]}, "rules[0]"),
        ({"rules": [{"path": "Observation.code", "required": False}]}, "rules[0].required"),
        ({"rules": [{"path": "Observation.status", "equals": ["final"]}]}, "rules[0].equals"),
        ({"rules": [{"path": "Observation.code", "code": {"code": "1"}}]}, "rules[0].code.system"),
        ({"rules": [{"path": "Observation.code", "code": {"system": "http://loinc.org"}}]}, "rules[0].code.code"),
        ({"rules": [{"path": "Observation.status", "equals": "preliminary"}]}, "rules[0]"),
        ({"identifier_system": " "}, "identifier_system"),
        ({"identifier_type": "Patient"}, "identifier_type"),
        ({"resolve_references": True}, "resolve_references"),
        ({"resolve_references": "yes"}, "resolve_references"),
        ({"starter": 3}, "starter"),
        ({"reference_answer": ""}, "reference_answer"),
        ({"reference_answer": "{"}, "reference_answer"),
        ({"reference_answer": json.dumps({**OBS, "resourceType": "Patient"})}, "reference_answer"),
        ({"reference_answer": json.dumps({**OBS, "status": 7})}, "reference_answer"),
        ({"reference_answer": json.dumps({k: v for k, v in OBS.items() if k != "identifier"})}, "reference_answer"),
    ],
)
def test_a_malformed_spec_is_refused_naming_the_field(change, path):
    with pytest.raises(SpecError) as caught:
        kinds.validate_spec("fhir", {**OBS_SPEC, **change})
    assert caught.value.path == path


def test_a_bundle_spec_needs_the_type_whose_identifier_is_checked():
    spec = {k: v for k, v in SPEC.items() if k != "identifier_type"}
    with pytest.raises(SpecError) as caught:
        kinds.validate_spec("fhir", spec)
    assert caught.value.path == "identifier_type"
    with pytest.raises(SpecError) as caught:
        kinds.validate_spec("fhir", {**SPEC, "rules": [{"path": "Coding.code", "required": True}]})
    assert caught.value.path == "rules[0].path"


def test_the_fixture_specs_are_valid():
    kinds.validate_spec("fhir", SPEC)
    kinds.validate_spec("fhir", OBS_SPEC)
    kinds.validate_spec("fhir", {"resource_type": "Patient", "reference_answer": '{"resourceType": "Patient"}'})


# --- paths -------------------------------------------------------------------------------------


def test_paths_flatten_lists_index_and_filter():
    res = {
        "identifier": [{"system": "a", "value": "1"}, {"system": "b", "value": "2"}],
        "name": [{"given": ["x", "y"]}],
    }
    _t, steps = paths.parse("Patient.identifier.value")
    assert paths.evaluate(res, steps) == ["1", "2"]
    _t, steps = paths.parse("Patient.identifier[1].value")
    assert paths.evaluate(res, steps) == ["2"]
    _t, steps = paths.parse("Patient.identifier.where(system='b').value")
    assert paths.evaluate(res, steps) == ["2"]
    _t, steps = paths.parse("Patient.name.given")
    assert paths.evaluate(res, steps) == ["x", "y"]
    _t, steps = paths.parse("Patient.identifier[5].value")
    assert paths.evaluate(res, steps) == []
    assert paths.parse("Patient.identifier.where(system='urn:a.b').value")[1][1] == ("where", "system", "urn:a.b")
    for bad in ("", "Patient.", "Patient.Name", "Patient.a[x]", "Patient.a.where(system=b)", "P" * 400):
        with pytest.raises(paths.PathError):
            paths.parse(bad)


# --- grading -----------------------------------------------------------------------------------


def test_the_right_answer_earns_every_point():
    result = kinds.get_grader("fhir")(SPEC, RIGHT_ANSWER)
    assert (result.score, result.max_score) == (8.0, 8.0)
    assert result.feedback == {"kind": "fhir", "valid": True, "failures": [], "passed": 8, "total": 8, "messages": []}


def test_the_wrong_answer_lists_each_failure_by_element_path():
    result = kinds.get_grader("fhir")(SPEC, WRONG_ANSWER)
    assert (result.score, result.max_score) == (3.0, 8.0)
    assert _paths(result) == [
        "Bundle.entry[2].resource.code",
        "Bundle.entry[2].resource.valueQuantity.system",
        "Bundle.entry[2].resource.valueQuantity.code",
        "Bundle.entry[0].resource.identifier",
        "Bundle.entry[2].resource.subject.reference",
    ]
    codes = [f["code"] for f in result.feedback["failures"]]
    assert codes == ["rule_code", "rule_equals", "rule_equals", "identifier", "reference"]
    assert result.feedback["failures"][4]["params"] == {"reference": "Patient/inconnu"}


def test_partial_credit_one_point_per_check():
    obs = {**OBS, "valueQuantity": {"value": 5.4, "unit": "mmol/L"}}  # no UCUM system
    result = _grade(OBS_SPEC, obs)
    assert (result.score, result.max_score) == (4.0, 5.0)
    assert _paths(result) == ["Observation.valueQuantity.system"]
    result = _grade(OBS_SPEC, {**OBS, "code": {"coding": [{"system": "http://loinc.org", "code": "2345-7"}]}})
    assert result.score == 4.0  # only the code rule fails: the where(...) rule still finds a LOINC code
    result = _grade(OBS_SPEC, {**OBS, "valueQuantity": {**OBS["valueQuantity"], "value": 5.40000000001}})
    assert result.score == 5.0  # numbers compare as numbers


def test_a_resource_that_is_not_valid_fhir_earns_nothing_and_shows_every_problem():
    bad = {**OBS, "status": 3, "valueQuantity": {"value": "beaucoup"}, "subjekt": {}}
    bad.pop("code")
    result = _grade(OBS_SPEC, bad)
    assert result.score == 0 and result.max_score == 5
    assert result.feedback["valid"] is False
    got = {(f["path"], f["code"]) for f in result.feedback["failures"]}
    assert ("Observation.code", "missing") in got
    assert ("Observation.status", "not_text") in got
    assert ("Observation.subjekt", "unknown_element") in got
    assert ("Observation.valueQuantity.value", "invalid") in got
    assert result.feedback["messages"] == [{"code": "fhir.invalid_schema", "params": {}}]


def test_a_spec_with_no_check_gives_the_point_for_validity():
    spec = {"resource_type": "Encounter", "reference_answer": '{"resourceType": "Encounter", "status": "planned",'
            ' "class": {"code": "AMB"}}'}  # fmt: skip
    kinds.validate_spec("fhir", spec)
    assert _grade(spec, spec["reference_answer"]).score == 1.0
    result = _grade(spec, {"resourceType": "Encounter", "class": {"code": "AMB"}})
    assert result.score == 0 and _paths(result) == ["Encounter.status"]


def test_codes_match_in_a_codeable_concept_or_a_coding():
    rule = {"path": "Observation.code", "code": {"system": "http://loinc.org", "code": "2339-0"}}
    assert grader.rule_failures(rule, OBS) == []
    rule = {**rule, "path": "Observation.code.coding"}
    assert grader.rule_failures(rule, OBS) == []
    assert grader.rule_failures({**rule, "code": {"system": "http://snomed.info/sct", "code": "2339-0"}}, OBS)


def test_a_wrong_resource_type_or_unreadable_answer_is_refused_at_submit_and_graded_zero():
    for text, code in [("[]", "not_object"), (json.dumps({**OBS, "resourceType": "Patient"}), "wrong_type"),
                       ("{", "not_json"), ("  ", "empty")]:  # fmt: skip
        with pytest.raises(AnswerRefused) as caught:
            kinds.validate_answer("fhir", OBS_SPEC, {"resource": text})
        assert caught.value.field == "resource"
        result = _grade(OBS_SPEC, text)
        assert result.score == 0 and result.feedback["messages"][0]["code"] == f"fhir.{code}"
    kinds.validate_answer("fhir", OBS_SPEC, {"resource": json.dumps(OBS)})
    with pytest.raises(AnswerRefused):
        kinds.validate_answer("fhir", OBS_SPEC, {"resource": None})


def test_the_learner_sees_the_checks_but_never_the_reference_answer():
    public = kinds.public_spec("fhir", SPEC)
    assert "reference_answer" not in public and fx.REFERENCE not in json.dumps(public)
    assert public["rules"] == SPEC["rules"] and public["resolve_references"] is True
    assert public["starter"] == SPEC["starter"]
    page = render_to_string("assessment/_fhir_body.html", {"public": public})
    assert "Observation.valueQuantity.system" in page and "8867-4" in page and fx.IPP in page
    assert "IPP-2024-00731" not in page


def test_the_feedback_template_lists_each_failure_by_path_in_the_readers_language():
    result = kinds.get_grader("fhir")(SPEC, WRONG_ANSWER)
    with translation.override("fr"):
        page = render_to_string("assessment/_fhir_feedback.html", {"feedback": result.feedback, "language": "fr"})
    assert '<code dir="ltr">Bundle.entry[2].resource.subject.reference</code>' in page
    assert "Patient/inconnu" in page and "points to no resource" not in page


# --- archive, try_grader, languages ------------------------------------------------------------


def test_the_spec_survives_the_archive_round_trip():
    kinds.validate_spec("fhir", SPEC)
    editable = kinds.editable_spec("fhir", kinds.prepare_spec("fhir", SPEC))
    loaded = archive.safe_load(archive._dump(editable).decode("utf-8"))
    assert loaded == SPEC
    kinds.validate_spec("fhir", loaded)


def _try(tmp_path, answer: dict | bytes, capsys):
    (tmp_path / "a.yaml").write_text(yaml.safe_dump({"format": "kafaat-assignment/1", "kind": "fhir", "points": 16,
                                                     "spec": SPEC}, allow_unicode=True), encoding="utf-8")  # fmt: skip
    sub = tmp_path / "answer.json"
    sub.write_bytes(answer if isinstance(answer, bytes) else json.dumps(answer).encode())
    call_command("try_grader", str(tmp_path / "a.yaml"), str(sub))
    return json.loads(capsys.readouterr().out)


def test_try_grader_grades_right_and_wrong_answers(tmp_path, capsys):
    out = _try(tmp_path, RIGHT_ANSWER, capsys)
    assert (out["score"], out["max_score"], out["points"]) == (8.0, 8.0, 16)
    out = _try(tmp_path, WRONG_ANSWER, capsys)
    assert (out["score"], out["points"]) == (3.0, 6.0)
    assert out["feedback"]["failures"][0]["path"] == "Bundle.entry[2].resource.code"


def test_try_grader_refuses_a_submission_file_that_is_not_utf8(tmp_path, capsys):
    with pytest.raises(CommandError, match="cannot read it"):
        _try(tmp_path, b'{"resource": "\xff\xfe{}"}', capsys)


@pytest.mark.parametrize(
    ("lang", "words"),
    [("fr", ("JSON", "niveaux")), ("ar", ("JSON",))],
)
def test_notices_render_in_french_and_arabic(lang, words):
    with translation.override(lang):
        deep = notice_text("too_deep", {"limit": 32})
        ref = notice_text("reference", {"reference": "Patient/x"})
        wrong = notice_text("wrong_type", {"expected": "Patient", "found": "Observation"})
    with translation.override("en"):
        english = notice_text("too_deep", {"limit": 32})
    assert "32" in deep and deep != english and all(w in deep for w in words)
    assert "Patient/x" in ref and "Observation" in wrong
    assert notice_text("no-such-code", {}) == ""
    if lang == "ar":
        assert any("\u0600" <= c <= "\u06ff" for c in deep + ref + wrong)

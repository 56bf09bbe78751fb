"""Hostile answers to a FHIR exercise: billion-laughs-style JSON (100,000 nested levels, a
million-element fan-out, doubling repetition), 10 MB of input, invalid UTF-8 (bytes, lone
surrogates, NUL, and their JSON escapes), duplicate keys, NaN, a wrong resourceType, an unknown
resource type inside a Bundle, and a Bundle whose references point outside. Each is refused at
submit (a field error on `resource`) and graded 0 with a clear notice, the limit that triggers
being the one checked on the text before json.loads; nothing is left behind, and an honest answer
still passes afterwards."""

import copy
import json

import pytest
from django.core.management import call_command

from assessment import kinds
from assessment.kinds import AnswerRefused
from assessment.kinds.fhir import source
from assessment.kinds.fhir.messages import notice_text
from tests.assessment.fhir_fixtures import RIGHT_ANSWER, SPEC

PATIENT_SPEC = {"resource_type": "Patient", "reference_answer": '{"resourceType": "Patient"}'}


def _laughs(times: int) -> str:
    lol = '"lol"'
    for _ in range(times):
        lol = f"[{lol},{lol}]"
    return lol


def _patient_with(value_text: str) -> str:
    return '{"resourceType": "Patient", "extension": ' + value_text + "}"


HOSTILE = {
    "deep-100k": ("[" * 100_000 + "]" * 100_000, "too_deep"),
    "deep-in-a-patient": (_patient_with("[" * 100_000 + "]" * 100_000), "too_deep"),
    "deep-objects": ('{"a":' * 40 + "1" + "}" * 40, "too_deep"),
    "fan-out-1m": ("[" + "0," * 1_000_000 + "0]", "too_large"),
    "fan-out-within-size": (_patient_with("[" + "0," * 30_000 + "0]"), "too_many"),
    "tiny-objects-1m": ("[" + "{}," * 1_000_000 + "{}]", "too_large"),
    "laughs-20": (_laughs(20), "too_large"),
    "laughs-14": (_patient_with(_laughs(14)), "too_many"),
    "10-mb": (_patient_with('"' + "x" * 10 * 1024 * 1024 + '"'), "too_large"),
    "10-mb-of-arabic": ("ب" * (5 * 1024 * 1024), "too_large"),
    "long-string": (_patient_with('["' + "x" * 20_000 + '"]'), "string_too_long"),
    "lone-surrogate": ('{"resourceType": "Patient", "name": [{"family": "\udc80"}]}', "encoding"),
    "escaped-surrogate": ('{"resourceType": "Patient", "name": [{"family": "\\ud800"}]}', "encoding"),
    "nul": ('{"resourceType": "Patient", "gender": "fe\x00male"}', "nul"),
    "escaped-nul": ('{"resourceType": "Patient", "gender": "fe\\u0000male"}', "nul"),
    "duplicate-key": ('{"resourceType": "Patient", "gender": "male", "gender": "female"}', "duplicate_key"),
    "nan": ('{"resourceType": "Patient", "multipleBirthInteger": NaN}', "constant"),
    "infinity": ('{"resourceType": "Patient", "multipleBirthInteger": -Infinity}', "constant"),
    "huge-exponent": ('{"resourceType": "Patient", "multipleBirthInteger": 1e999}', "constant"),
    "5000-digits": ('{"resourceType": "Patient", "multipleBirthInteger": ' + "9" * 5000 + "}", "not_json"),
    "wrong-resource-type": ('{"resourceType": "Observation", "status": "final"}', "wrong_type"),
    "no-resource-type": ('{"id": "p1"}', "wrong_type"),
    "an-array": ('[{"resourceType": "Patient"}]', "not_object"),
    "unterminated-string": ('{"resourceType": "Patient", "id": "[[[[[[[[[[', "not_json"),
    "not-a-string": (None, "empty"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_answer_is_refused_at_submit_and_graded_zero_with_a_clear_notice(name):
    text, code = HOSTILE[name]
    spec = copy.deepcopy(PATIENT_SPEC)
    with pytest.raises(AnswerRefused) as caught:
        kinds.validate_answer("fhir", spec, {"resource": text})
    assert caught.value.field == "resource"
    assert caught.value.message
    result = kinds.get_grader("fhir")(spec, {"resource": text})
    assert result.score == 0 and result.max_score == 1
    assert result.feedback["messages"][0]["code"] == f"fhir.{code}"
    assert notice_text(code, result.feedback["messages"][0]["params"])
    assert len(json.dumps(result.feedback)) < 1000  # nothing of the answer is echoed back
    assert spec == PATIENT_SPEC  # nothing left behind


def test_the_text_limits_trigger_before_json_is_parsed(monkeypatch):
    def explode(*args, **kwargs):
        raise AssertionError("json.loads ran on a hostile text")

    monkeypatch.setattr(source.json, "loads", explode)
    for name in ("deep-100k", "fan-out-1m", "fan-out-within-size", "laughs-14", "10-mb", "lone-surrogate", "nul"):
        text, code = HOSTILE[name]
        with pytest.raises(source.Refused) as caught:
            source.load(text)
        assert caught.value.code == code


def test_invalid_utf8_bytes_are_refused():
    for data in (b'{"resourceType": "Patient", "id": "\xff"}', b"\xc3\x28", b"\xed\xa0\x80", b"\x00" * 10):
        with pytest.raises(source.Refused) as caught:
            source.load_bytes(data)
        assert caught.value.code in ("encoding", "nul")
    assert source.load_bytes('\ufeff{"a": "é"}'.encode()) == {"a": "é"}
    with pytest.raises(source.Refused) as caught:
        source.load_bytes(b" " * (11 * 1024 * 1024))
    assert caught.value.code == "too_large"


def test_an_unknown_resource_type_inside_a_bundle_is_a_failure_by_path_not_a_crash():
    bundle = json.loads(RIGHT_ANSWER["resource"])
    bundle["entry"][1]["resource"]["resourceType"] = "Rencontre"
    bundle["entry"][2]["resource"]["contained"] = [{"resourceType": "Coding", "code": "x"}]
    result = kinds.get_grader("fhir")(SPEC, {"resource": json.dumps(bundle)})
    assert result.score == 0 and result.feedback["valid"] is False
    assert [(f["path"], f["code"]) for f in result.feedback["failures"][:2]] == [
        ("Bundle.entry[1].resource.resourceType", "unknown_type"),
        ("Bundle.entry[2].resource.contained[0].resourceType", "unknown_type"),
    ]


def test_a_bundle_whose_references_point_outside_scores_zero_and_names_each_reference():
    spec = {"resource_type": "Bundle", "resolve_references": True, "reference_answer": RIGHT_ANSWER["resource"]}
    kinds.validate_spec("fhir", spec)
    bundle = json.loads(RIGHT_ANSWER["resource"])
    bundle["entry"][1]["resource"]["subject"]["reference"] = "http://evil.example/fhir/Patient/p1"
    bundle["entry"][2]["resource"]["encounter"]["reference"] = "Encounter/ailleurs"
    result = kinds.get_grader("fhir")(spec, {"resource": json.dumps(bundle)})
    assert (result.score, result.max_score) == (0.0, 1.0)
    assert [(f["path"], f["params"]["reference"]) for f in result.feedback["failures"]] == [
        ("Bundle.entry[1].resource.subject.reference", "http://evil.example/fhir/Patient/p1"),
        ("Bundle.entry[2].resource.encounter.reference", "Encounter/ailleurs"),
    ]
    bundle["entry"][2]["resource"]["encounter"]["reference"] = "urn:uuid:encounter-e1"  # a fullUrl resolves
    bundle["entry"][1]["resource"]["subject"]["reference"] = "Patient/p1"
    assert kinds.get_grader("fhir")(spec, {"resource": json.dumps(bundle)}).score == 1.0


def test_try_grader_refuses_an_answer_file_with_a_lone_surrogate_with_a_zero(tmp_path, capsys):
    import yaml

    (tmp_path / "a.yaml").write_text(yaml.safe_dump({"kind": "fhir", "spec": PATIENT_SPEC}), encoding="utf-8")
    (tmp_path / "answer.json").write_text(
        '{"resource": "{\\"resourceType\\": \\"Patient\\", \\"id\\": \\"\\udc80\\"}"}'
    )
    call_command("try_grader", str(tmp_path / "a.yaml"), str(tmp_path / "answer.json"))
    out = json.loads(capsys.readouterr().out)
    assert out["score"] == 0 and out["feedback"]["messages"][0]["code"] == "fhir.encoding"


def test_an_honest_answer_still_passes_after_the_hostile_ones():
    for text, _code in HOSTILE.values():
        kinds.get_grader("fhir")(PATIENT_SPEC, {"resource": text})
    kinds.validate_answer("fhir", SPEC, RIGHT_ANSWER)
    result = kinds.get_grader("fhir")(SPEC, RIGHT_ANSWER)
    assert result.score == result.max_score == 8.0


@pytest.mark.django_db
def test_a_hostile_submission_is_refused_and_nothing_is_stored():
    from grading import services
    from grading.models import Submission
    from tests.grading.helpers import learner_for, make_assignment

    assignment = make_assignment("fhir", SPEC, points=8)
    learner = learner_for(assignment)
    for name in ("10-mb", "deep-100k", "lone-surrogate"):
        with pytest.raises(services.SubmissionRefused) as caught:
            services.submission_create(user=learner, assignment=assignment, answer={"resource": HOSTILE[name][0]})
        assert caught.value.field == "resource"
    assert not Submission.objects.exists()

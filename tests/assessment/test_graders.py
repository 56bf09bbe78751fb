"""The graders as pure functions of (spec, answer): quiz types, flags, essays, and code through
the real sandbox (no database)."""

import pytest

from assessment import kinds
from assessment.kinds.code import grader as code
from assessment.kinds.flag import grader as flag
from assessment.kinds.quiz import grader as quiz
from assessment.sandbox import checker
from tests.grading.helpers import CODE_SPEC, ESSAY_SPEC, PANDAS_SPEC

QUIZ = {
    "questions": [
        {"id": "s", "type": "single", "prompt": "?", "points": 1, "choices": [{"id": "a", "text": "A"},
         {"id": "b", "text": "B"}], "answer": ["a"], "feedback": {"correct": "Yes", "incorrect": "No"}},
        {"id": "m", "type": "multiple", "prompt": "?", "points": 2, "partial_credit": True,
         "choices": [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}, {"id": "c", "text": "C"},
                     {"id": "d", "text": "D"}], "answer": ["a", "c"]},
        {"id": "n", "type": "numeric", "prompt": "?", "points": 1, "value": 3.5, "tolerance": 0.05},
        {"id": "t", "type": "text", "prompt": "?", "points": 1, "accepted": ["pseudonymisation", "pseudonymization"]},
    ]
}  # fmt: skip


def test_quiz_grades_each_question_type_and_gives_per_question_feedback():
    result = kinds.get_grader("quiz")(QUIZ, {"s": ["a"], "m": ["a", "c"], "n": "3,52", "t": "  Pseudonymisation "})
    assert (result.score, result.max_score) == (5.0, 5.0)
    assert result.feedback["questions"][0]["feedback"] == "Yes"


def test_quiz_partial_credit_subtracts_wrong_choices_and_floors_at_zero():
    grade = kinds.get_grader("quiz")
    assert grade(QUIZ, {"s": ["b"], "m": ["a"], "n": "3.6", "t": "x"}).score == 1.0  # half of 2 points
    assert grade(QUIZ, {"s": ["b"], "m": ["a", "b"], "n": "3.6", "t": "x"}).score == 0.0
    assert grade(QUIZ, {"s": ["b"], "m": ["b", "d"], "n": "x", "t": "x"}).score == 0.0


def test_quiz_text_answers_are_normalized_for_case_accents_and_spaces():
    assert quiz.normalize("  Pséudo   Nymisation ") == quiz.normalize("pseudo nymisation")


@pytest.mark.parametrize(
    ("question", "path"),
    [
        ({"id": "n", "type": "numeric", "prompt": "?"}, "questions[0].value"),
        ({"id": "t", "type": "text", "prompt": "?", "accepted": []}, "questions[0].accepted"),
        ({"id": "x", "type": "essay", "prompt": "?"}, "questions[0].type"),
    ],
)
def test_quiz_spec_errors_name_the_field(question, path):
    with pytest.raises(kinds.SpecError) as exc:
        kinds.validate_spec("quiz", {"questions": [question]})
    assert exc.value.path == path


def test_flag_is_stored_hashed_and_compared_in_constant_time():
    spec = kinds.prepare_spec("flag", {"flag": "FLAG{abc}"})
    assert "flag" not in spec and spec["flag_hash"].startswith("sha256$")
    assert "FLAG{abc}" not in str(spec)
    grade = kinds.get_grader("flag")
    assert grade(spec, {"flag": " FLAG{abc} "}).score == 1.0
    assert grade(spec, {"flag": "flag{abc}"}).score == 0.0
    insensitive = kinds.prepare_spec("flag", {"flag": "FLAG{abc}", "case_sensitive": False})
    assert grade(insensitive, {"flag": "flag{ABC}"}).score == 1.0
    assert kinds.public_spec("flag", spec) == {"case_sensitive": True}


def test_flag_hash_is_stable_for_export_reimport():
    spec = kinds.prepare_spec("flag", {"flag": "F"})
    assert kinds.prepare_spec("flag", spec) == spec
    assert flag.check_flag(spec, "F")


def test_essay_goes_to_review_and_rubric_is_validated():
    result = kinds.get_grader("essay")(ESSAY_SPEC, {"text": "one two three"})
    assert result.needs_review and result.max_score == 5.0
    with pytest.raises(kinds.SpecError) as exc:
        kinds.validate_spec("essay", {"rubric": {"criteria": [{"id": "c", "title": "T", "levels": []}]}})
    assert exc.value.path == "rubric.criteria[0].levels"


def test_checker_compares_floats_with_tolerance_and_types_strictly():
    assert checker.equal(0.30000000000000004, 0.3)
    assert not checker.equal(1, True)
    assert not checker.equal("1", 1)
    assert not checker.equal([1, 2], [1, 2, 3])
    df = {"__dataframe__": {"columns": ["a"], "data": [[1.0], [2.0]]}}
    assert checker.equal(df, {"__dataframe__": {"columns": ["a"], "data": [[1.0000000001], [2.0]]}})
    assert not checker.equal(df, {"__dataframe__": {"columns": ["b"], "data": [[1.0], [2.0]]}})


def test_checker_rejects_nan_and_ignores_malformed_or_unknown_lines():
    out = 'garbage\n{"id": "t1", "ok": true, "value": NaN}\n{"id": "zz", "ok": true, "value": 1}\n'
    results, _err = checker.parse_results(out, {"t1"})
    assert results == {}


def test_code_publish_computes_expected_outputs_in_the_sandbox():
    spec = kinds.prepare_spec("code", CODE_SPEC)
    assert spec["expected"] == {"t1": 3, "h1": 42, "h2": pytest.approx(0.3)}
    public = kinds.public_spec("code", spec)
    assert "expected" not in public and "hidden_tests" not in public and "reference_solution" not in public


def test_code_reference_solution_that_fails_is_refused_at_publish():
    with pytest.raises(kinds.SpecError) as exc:
        kinds.prepare_spec("code", {**CODE_SPEC, "reference_solution": "def solve(a, b):\n    return 1/0\n"})
    assert exc.value.path == "reference_solution" and "ZeroDivisionError" in exc.value.message


def test_code_grader_shows_public_results_and_only_pass_fail_for_hidden_tests():
    spec = kinds.prepare_spec("code", CODE_SPEC)
    result = code.grade(spec, {"code": "def solve(a, b):\n    return a + b if a < 10 else 0\n"})
    assert (result.score, result.max_score) == (2, 3)
    public, *hidden = result.feedback["tests"]
    assert public == {
        "id": "t1", "public": True, "passed": True, "status": "passed", "input": "[1, 2]", "expected": "3", "got": "3"
    }  # fmt: skip
    assert [set(h) for h in hidden] == [{"id", "public", "passed", "status"}] * 2
    assert [h["status"] for h in hidden] == ["failed", "passed"]


def test_code_grader_compares_pandas_dataframes():
    spec = kinds.prepare_spec("code", PANDAS_SPEC)
    right = "def solve(df):\n    return df.groupby('ward', as_index=False)['stay'].mean()\n"
    assert code.grade(spec, {"code": right}).score == 2
    wrong = "def solve(df):\n    return df.groupby('ward', as_index=False)['stay'].sum()\n"
    assert code.grade(spec, {"code": wrong}).score == 0

"""Everything learner code returns is data: whatever value it returns, raises or forges on the
harness's output, the checker and the code grader never raise, and the submission is graded,
with that test wrong. Through the real sandbox, the code grader and the grading service (so
that what is stored, in PostgreSQL text and jsonb, is storable too); plus property tests of
the checker on arbitrary JSON-ish lines."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assessment import kinds
from assessment.kinds import SpecError
from assessment.kinds.code import grader as code
from assessment.sandbox import checker
from grading import services
from grading.models import GradeRecord, Submission
from tests.grading.helpers import learner_for, make_assignment

# The reference returns floats; a hostile answer misbehaves on x == 1 (tests t1 and h1) only and
# answers t2 and h2 right: 2 of 4 tests pass, whatever it did on the other two.
FLOAT_SPEC = {
    "entrypoint": "solve",
    "reference_solution": "def solve(x):\n    return x / 4\n",
    "public_tests": [{"id": "t1", "args": [1]}, {"id": "t2", "args": [2]}],
    "hidden_tests": [{"id": "h1", "args": [1]}, {"id": "h2", "args": [3]}],
}
HONEST = {
    "float": "def solve(x):\n    return x / 4\n",
    "frame": "import pandas as pd\ndef solve(x):\n    return pd.DataFrame({'ward': ['A'], 'stay': [x / 4]})\n",
}
FRAME_SPEC = {**FLOAT_SPEC, "reference_solution": HONEST["frame"]}


def returning(expr: str, prelude: str = "", kind: str = "float") -> str:
    honest = HONEST[kind].split("def solve(x):\n")
    return f"{honest[0]}{prelude}\ndef solve(x):\n    if x == 1:\n        return {expr}\n{honest[1]}"


def raising(statement: str, prelude: str = "") -> str:
    return f"{prelude}\ndef solve(x):\n    if x == 1:\n        {statement}\n    return x / 4\n"


# Learner code can find the harness's own output (a pipe other than its stderr) and write lines
# to it before the harness does: the first line for an id wins, so these lines are what is read.
FORGER = """
import os
def _results_fd():
    mine = os.readlink('/proc/self/fd/2')
    for fd in range(3, 256):
        try:
            link = os.readlink(f'/proc/self/fd/{fd}')
        except OSError:
            continue
        if link.startswith('pipe:') and link != mine:
            return fd
_fd = _results_fd()
for _id in (b't1', b'h1'):
    os.write(_fd, b'{"id": "' + _id + b'", "ok": true, "value": ' + VALUE + b'}\\n')
"""


def forging(raw: str, kind: str = "float") -> str:
    # Wrong on x == 1 too, so that test is wrong whichever of the two lines for it is read.
    return f"VALUE = {raw.encode()!r}\n{FORGER}\n" + returning("-1", kind=kind)


DEEP = "def _deep(n):\n    v = 1\n    for _ in range(n):\n        v = [v]\n    return v\n"
UNPRINTABLE = "class E(Exception):\n    def __str__(self):\n        raise RuntimeError('no')\n"

HOSTILE_VALUES = {
    # returned, through the harness's strict conversion
    "huge_int": returning("10 ** 5000", "import sys\nsys.set_int_max_str_digits(0)"),
    "int_beyond_float_range": returning("10 ** 400"),
    "infinity": returning("float('inf')"),
    "nan": returning("float('nan')"),
    "float_marker": returning("{'__float__': 'inf'}"),
    "dict_with_int_keys": returning("{1: 2}"),
    "lone_surrogate": returning("'\\ud800'"),
    "nul_character": returning("'a\\x00b'"),
    "deep_nesting": returning("_deep(30)", DEEP),
    "huge_string": returning("'x' * 400000"),
    "dataframe_marker_not_a_frame": returning("{'__dataframe__': 1}"),
    "raises_nul_and_surrogate": raising("raise ValueError('\\x00\\ud800')"),
    "raises_unprintable_exception": raising("raise E()", UNPRINTABLE),
    "prints_nul_to_stderr_then_answers_wrong": raising("print('\\x00\\ud800', flush=True); return -1"),
    # forged on the harness's output, past its conversion
    "forged_huge_int": forging("9" * 5000),
    "forged_int_beyond_float_range": forging("9" * 400),
    "forged_float_overflow": forging("1e999"),
    "forged_negative_float_overflow": forging("-1e999"),
    "forged_deep_nesting": forging("[" * 30 + "]" * 30),
    "forged_deeper_than_the_parser": forging("[" * 100000 + "]" * 100000),
    "forged_lone_surrogate": forging('"\\ud800"'),
    "forged_surrogate_key": forging('{"\\udfff": 1}'),
    "forged_nul": forging('"\\u0000"'),
    "forged_float_marker_not_text": forging('{"__float__": 1}'),
    "forged_dataframe_marker": forging('{"__dataframe__": 1}'),
    "forged_dataframe_shape": forging('{"__dataframe__": {"columns": 1, "data": 2}}'),
    # against an expected DataFrame
    "frame_marker_not_a_frame": forging('{"__dataframe__": 1}', "frame"),
    "frame_columns_not_a_list": forging('{"__dataframe__": {"columns": "ward", "data": [["A", 0.25]]}}', "frame"),
    "frame_data_not_a_list": forging('{"__dataframe__": {"columns": ["ward", "stay"], "data": 5}}', "frame"),
    "frame_cell_beyond_float": forging(
        '{"__dataframe__": {"columns": ["ward", "stay"], "data": [["A", ' + "9" * 400 + "]]}}", "frame"
    ),
    "frame_with_extra_key": forging('{"__dataframe__": {"columns": [], "data": [], "index": []}}', "frame"),
    "frame_returned_as_int_keyed_dict": returning("{0: 1}", kind="frame"),
}


@pytest.fixture(scope="module")
def prepared():
    return {"float": kinds.prepare_spec("code", FLOAT_SPEC), "frame": kinds.prepare_spec("code", FRAME_SPEC)}


@pytest.mark.parametrize("name", sorted(HOSTILE_VALUES))
def test_a_hostile_value_is_a_wrong_answer_for_that_test_and_never_an_error(db, prepared, name):
    kind = "frame" if name.startswith("frame") else "float"
    source = HOSTILE_VALUES[name]
    result = code.grade(prepared[kind], {"code": source})  # the grader alone: no exception
    assert (result.score, result.max_score) == (2, 4), (name, result.feedback, result.staff_log[-2000:])

    assignment = make_assignment("code", FRAME_SPEC if kind == "frame" else FLOAT_SPEC, points=4)
    sub = Submission.objects.create(
        user=learner_for(assignment),
        assignment=assignment,
        version=assignment.current_version,
        attempt=1,
        answer={"code": source},
        max_score=4,
    )
    services.submission_grade(submission_id=sub.pk)
    sub.refresh_from_db()
    assert sub.status == Submission.Status.GRADED, sub.staff_log
    assert sub.score == 2
    assert [(t["id"], t["passed"]) for t in sub.feedback["tests"]] == [
        ("t1", False),
        ("t2", True),
        ("h1", False),
        ("h2", True),
    ]
    assert GradeRecord.objects.filter(submission=sub).count() == 1


def test_a_reference_solution_returning_text_that_cannot_be_stored_is_refused_at_publish():
    for value in ("'a\\x00b'", "'\\ud800'", "{'\\udfff': 1}"):
        with pytest.raises(SpecError) as exc:
            kinds.prepare_spec("code", {**FLOAT_SPEC, "reference_solution": f"def solve(x):\n    return {value}\n"})
        assert exc.value.path == "reference_solution", value


def test_a_tolerance_beyond_the_float_range_is_refused_in_the_spec():
    for tolerance in ({"rel": 10**400}, {"abs": float("inf")}, {"rel": float("nan")}):
        with pytest.raises(SpecError) as exc:
            code.validate_spec({**FLOAT_SPEC, "tolerance": tolerance})
        assert exc.value.path == "tolerance"


def storable(text: str) -> bool:
    """What PostgreSQL text and jsonb accept: valid UTF-8 (no lone surrogate), no NUL."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


ANY_CHAR = st.characters(codec=None, exclude_categories=())
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**300, max_value=10**1200)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(ANY_CHAR, max_size=20)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(ANY_CHAR, max_size=8), inner, max_size=4)
        | st.fixed_dictionaries({"__dataframe__": inner})
        | st.fixed_dictionaries({"__dataframe__": st.fixed_dictionaries({"columns": inner, "data": inner})})
        | st.fixed_dictionaries({"__float__": inner})
    ),
    max_leaves=16,
)
# Python values no JSON parse gives: non-text keys, tuples, sets, deep nesting.
odd_values = st.recursive(
    scalars | st.builds(object) | st.sets(st.integers(), max_size=3),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.tuples(inner, inner)
        | st.dictionaries(st.integers() | st.text(max_size=3) | st.none(), inner, max_size=3)
    ),
    max_leaves=12,
)


def _dumps(value) -> str:
    try:
        return json.dumps(value)
    except (ValueError, RecursionError):
        return "null"


ids = st.sampled_from(["t1", "t2", "h1", "zz"])
lines = st.one_of(
    json_values.map(_dumps),
    st.builds(
        lambda tid, ok, value, error: _dumps({"id": tid, "ok": ok, "value": value, "error": error}),
        ids,
        st.booleans() | st.none() | st.integers(),
        json_values,
        st.text(ANY_CHAR, max_size=10) | st.integers(),
    ),
    st.builds(lambda tid, value: f'{{"id": "{tid}", "ok": true, "value": {value}}}', ids, st.text(ANY_CHAR)),
    st.builds(lambda e: _dumps({"load_error": e}), st.text(ANY_CHAR, max_size=10) | st.integers()),
    st.integers(min_value=1, max_value=6000).map(lambda n: "9" * n),
    st.integers(min_value=1, max_value=3000).map(lambda n: "[" * n + "]" * n),
    st.text(ANY_CHAR, max_size=40),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(lines, max_size=8), json_values)
def test_parse_results_equal_and_preview_never_raise_on_any_line(stdout_lines, expected):
    results, load_error = checker.parse_results("\n".join(stdout_lines), {"t1", "t2", "h1"})
    assert load_error is None or (type(load_error) is str and storable(load_error))
    for result in results.values():
        if result["ok"]:
            assert type(checker.equal(expected, result["value"])) is bool
            assert type(checker.equal(result["value"], expected)) is bool
            shown = checker.preview(result["value"])
            assert type(shown) is str and storable(shown)
        else:
            assert storable(result["error"])


@settings(max_examples=300, deadline=None)
@given(odd_values, odd_values)
def test_equal_and_preview_never_raise_on_any_python_value(a, b):
    assert type(checker.equal(a, b)) is bool
    assert type(checker.equal(a, b, rel=0.0, abs_=0.0)) is bool
    shown = checker.preview(a)
    assert type(shown) is str and storable(shown)


def test_equal_compares_numbers_beyond_the_float_range_without_overflow():
    assert not checker.equal(0.25, 10**400)
    assert not checker.equal(10**400, 1.5)
    assert checker.equal(10**400, 10**400)
    assert checker.equal(float(2**1023), 2**1023)
    assert not checker.equal(1e308, 10**400)


def test_equal_on_a_value_deeper_than_any_parsed_result_says_false_instead_of_recursing():
    deep = []
    for _ in range(5000):
        deep = [deep]
    assert not checker.equal(deep, deep)

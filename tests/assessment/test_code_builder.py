"""The code assignment's builder (assessment/kinds/code/builder.py): the round trip with the spec
(the demo course's code assignments included), the rows' edit actions, arguments as JSON, CSV or
a course file, field errors in the page's language, and "check against the reference" through the
real sandbox (no database)."""

import json
from pathlib import Path

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from assessment import kinds
from assessment.kinds.base import BuilderContext, SpecError
from assessment.kinds.code import csvframe
from assessment.kinds.code.builder import Builder
from courses.archive import load_assignment_file
from tests.grading.helpers import CODE_SPEC, PANDAS_SPEC

ROOT = Path(__file__).resolve().parents[2]
DEMO = sorted(ROOT.glob("courses/demo/**/assignments/*.yaml"))
DEMO_CODE = [p for p in DEMO if load_assignment_file(p)["kind"] == "code"]

FRAME = {
    "__dataframe__": {
        "columns": ["id", "ward, floor", "stay", "note", "ok", "12"],
        "data": [
            ["P1", "A, 2", 3, 'he said "hi"', True, None],
            ["007", "", 2.0, "12", False, "x"],
            ["P3", None, 1e-06, "multi\nline", None, "true"],
        ],
    }
}

SPEC = {
    "entrypoint": "solve",
    "starter_code": "def solve(df, n):\n    ...\n",
    "reference_solution": (
        "def solve(df, n):\n    if isinstance(df, dict):\n        return len(df['a']) + n\n"
        "    return int(df['stay'].count()) + n\n"
    ),
    "public_tests": [
        {"id": "t1", "args": [FRAME, 1], "kwargs": {}},
        {"id": "t2", "args": [{"a": [1, 2.5, None, "x"]}], "kwargs": {"n": 2}},
    ],
    "hidden_tests": [{"id": "h1", "args": [FRAME, 0]}],
    "tolerance": {"rel": 1e-06, "abs": 0},
}


def post(spec: dict, **changes) -> dict:
    data = Builder.data_from_spec(spec)
    data.update(changes)
    return data


def valid(data: dict, context=None) -> Builder:
    builder = Builder(data=data, context=context or BuilderContext())
    assert builder.is_valid(), builder.errors.as_data()
    return builder


def test_the_demo_courses_have_code_assignments():
    assert len(DEMO_CODE) >= 2


@pytest.mark.parametrize("path", DEMO_CODE, ids=lambda p: p.name)
def test_round_trip_of_the_demo_code_assignments_keeps_keys_in_the_archive_order(path):
    spec = load_assignment_file(path)["spec"]
    data = Builder.data_from_spec(spec)
    assert data["t0_a0_mode"] == "csv"  # their DataFrames are offered as CSV
    out = valid(data).to_spec()
    assert out == spec
    assert json.dumps(out) == json.dumps(spec)  # same key order, same types


@pytest.mark.parametrize("spec", [SPEC, CODE_SPEC, PANDAS_SPEC], ids=["mixed", "code", "pandas"])
def test_round_trip_of_specs(spec):
    kinds.validate_spec("code", spec)
    out = valid(Builder.data_from_spec(spec)).to_spec()
    assert json.dumps(out) == json.dumps(spec)


def test_absent_optional_keys_stay_absent():
    spec = {
        "entrypoint": "f",
        "starter_code": "",
        "reference_solution": "def f():\n    return 1\n",
        "public_tests": [],
        "hidden_tests": [{"id": "only", "args": []}],
    }
    assert valid(Builder.data_from_spec(spec)).to_spec() == spec


def test_csv_round_trips_exactly_ints_floats_empty_cells_quoted_commas():
    text = csvframe.dump(FRAME)
    assert json.dumps(csvframe.parse(text)) == json.dumps(FRAME)
    parsed = csvframe.parse('a,b,c,d\n1,1.0,,"x, y"\r\n"2",2.50,"",-3\n')["__dataframe__"]
    assert parsed["data"] == [[1, 1.0, None, "x, y"], ["2", 2.5, "", -3]]
    assert [type(v) for v in parsed["data"][0]] == [int, float, type(None), str]
    assert Builder.data_from_spec(SPEC)["t0_a0_mode"] == "csv"


def test_a_frame_csv_cannot_carry_is_kept_as_json():
    nested = {"__dataframe__": {"columns": ["a"], "data": [[[1, 2]]]}}
    single_null = {"__dataframe__": {"columns": ["a"], "data": [[None]]}}  # a blank line in CSV
    spec = {**SPEC, "public_tests": [{"id": "t1", "args": [nested, single_null], "kwargs": {}}]}
    data = Builder.data_from_spec(spec)
    assert (data["t0_a0_mode"], data["t0_a1_mode"]) == ("json", "json")
    assert valid(data).to_spec() == spec


def test_browser_line_endings_are_normalized():
    data = post(SPEC, reference_solution="def solve(df, n):\r\n    return n\r\n")
    data["t0_a0_value"] = data["t0_a0_value"].replace("\n", "\r\n")
    spec = valid(data).to_spec()
    assert spec["reference_solution"] == "def solve(df, n):\n    return n\n"
    assert spec["public_tests"][0]["args"][0] == FRAME


def test_an_unbound_builder_shows_the_spec_or_a_starter():
    shown = Builder(spec=SPEC)
    assert shown["entrypoint"].value() == "solve" and shown["t2_visibility"].value() == "hidden"
    starter = Builder()
    assert starter["entrypoint"].value() == "solve" and starter["test_count"].value() == "1"


# -- edit actions ------------------------------------------------------------------------------


def act(data: dict, action: str, context=None) -> Builder:
    builder = Builder(data={**data, "builder_action": action}, context=context or BuilderContext())
    assert builder.edit_action() is True
    return builder


def resubmit(builder: Builder) -> dict:
    """What the browser posts back from an edited builder: its fields' values."""
    return {name: builder[name].value() for name in builder.fields}


def test_add_duplicate_delete_and_move_rows():
    data = post(SPEC)
    added = act(data, "add")
    assert not added.is_bound and added["test_count"].value() == "4"
    assert added["t3_id"].value() == "t3" and added["t3_kwargs"].value() == "{}"
    dup = act(data, "duplicate-0")
    spec = Builder(data=resubmit(dup))
    spec.is_valid()
    ids = [t["id"] for t in spec.to_spec()["public_tests"]]
    assert ids == ["t1", "t1_1", "t2"]
    moved = act(data, "down-0")
    assert [moved[f"t{i}_id"].value() for i in range(3)] == ["t2", "t1", "h1"]
    moved = act(data, "up-2")
    assert [moved[f"t{i}_id"].value() for i in range(3)] == ["t1", "h1", "t2"]
    deleted = act(data, "delete-1")
    assert [deleted[f"t{i}_id"].value() for i in range(2)] == ["t1", "h1"]
    arg = act(data, "addarg-1")
    assert arg["t1_argc"].value() == "2" and arg["t1_a1_value"].value() == ""
    arg = act(data, "delarg-0-0")
    assert arg["t0_argc"].value() == "1" and arg["t0_a0_value"].value() == "1"


def test_an_edit_keeps_what_was_typed_and_validates_nothing():
    data = post(SPEC, entrypoint="not valid!", t0_id="")
    edited = act(data, "add")
    assert edited["entrypoint"].value() == "not valid!" and edited.errors == {}
    html = render_to_string(Builder.template_name, {"builder": edited})
    assert 'role="alert"' not in html


@pytest.mark.parametrize("action", ["", "nope", "delete-99", "delete-x", "up", "delarg-0-9", "pick-0-0"])
def test_unknown_or_out_of_range_actions_change_nothing(action):
    data = post(SPEC)
    builder = Builder(data={**data, "builder_action": action})
    if builder.edit_action():
        assert resubmit(builder)["test_count"] == "3"
    assert valid(data).to_spec() == SPEC


def test_a_hostile_row_count_is_capped():
    data = post(SPEC, test_count="100000000", t0_argc="9999")
    builder = Builder(data=data)
    assert len(builder.rows()) <= 60 and len(builder.rows()[0]["args"]) <= 20
    assert not builder.is_valid()


@pytest.mark.parametrize(
    "junk",
    [
        {"test_count": "abc"},
        {"test_count": "-5"},
        {"test_count": "1e3"},
        {"t0_argc": "x"},
        {"t0_argc": "-1"},
        {"t0_a0_mode": "pickle"},
        {"t0_a0_value": "[" * 100_000},
        {"t0_a0_value": "a\x00b,c\n1,2\n"},
        {"t0_kwargs": '{"a": ' * 5000},
        {"tol_rel": "1" * 5000},
        {"tol_abs": "nan"},
        {"builder_action": "add-" + "9" * 5000},
        {"builder_action": "delarg-0--1"},
    ],
)
def test_hostile_posts_give_field_errors_never_an_exception(junk):
    data = {**post(SPEC), **junk}
    builder = Builder(data=data, context=CONTEXT)
    builder.edit_action()
    builder = Builder(data=data, context=CONTEXT)
    if builder.is_valid():
        kinds.validate_spec("code", builder.to_spec())
    render_to_string(Builder.template_name, {"builder": builder})


# -- arguments from course files -----------------------------------------------------------------

FILES = {"stays.csv": b"ward,stay\nA,3\nB,\n", "notes.txt": b"x", "latin.csv": "é".encode("latin-1")}
CONTEXT = BuilderContext(files=[(n, len(b)) for n, b in FILES.items()], read_file=FILES.get)


def test_a_course_csv_file_is_copied_into_the_argument():
    data = post(SPEC)
    builder = Builder(data=data, context=CONTEXT)
    choices = [c for c, _label in builder.fields["t0_a0_file"].choices]
    assert choices == ["", "stays.csv", "latin.csv"]  # only CSV files are offered
    picked = act({**data, "t0_a1_file": "stays.csv"}, "pick-0-1", CONTEXT)
    assert picked["t0_a1_mode"].value() == "csv" and picked["t0_a1_value"].value() == "ward,stay\nA,3\nB,\n"
    # Saving with a file selected copies it too, without the button.
    spec = valid({**data, "t0_a1_file": "stays.csv"}, CONTEXT).to_spec()
    assert spec["public_tests"][0]["args"][1] == {"__dataframe__": {"columns": ["ward", "stay"],
                                                                     "data": [["A", 3], ["B", None]]}}  # fmt: skip


def test_a_file_not_utf8_or_not_offered_is_a_field_error():
    bad = Builder(data=post(SPEC, t0_a0_file="latin.csv"), context=CONTEXT)
    assert not bad.is_valid() and "UTF-8" in bad.errors["t0_a0_file"][0]
    other = Builder(data=post(SPEC, t0_a0_file="notes.txt"), context=CONTEXT)
    assert not other.is_valid() and "t0_a0_file" in other.errors


# -- refusals, next to their field, in the page's language ------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"t1_id": "t1"}, "t1_id", "Test 1"),  # a duplicate test name
        ({"t0_a1_value": "[1, 2"}, "t0_a1_value", "line 1, column 6"),  # bad JSON, and where
        ({"t0_a1_value": "NaN"}, "t0_a1_value", "NaN"),
        ({"t0_a1_value": " "}, "t0_a1_value", "JSON"),
        ({"t0_a0_value": "a,b\n1,2,3\n"}, "t0_a0_value", "line 2 has 3 cells"),  # a bad CSV
        ({"t0_a0_value": 'a,b\n"1,2\n'}, "t0_a0_value", "never closed"),
        ({"t0_a0_value": 'a,b\n1"x,2\n'}, "t0_a0_value", "line 2"),
        ({"t0_a0_value": "a,a\n1,2\n"}, "t0_a0_value", "twice"),
        ({"t0_a0_value": "\n\n"}, "t0_a0_value", "empty"),
        ({"tol_rel": "-0.1"}, "tol_rel", "0 or more"),  # a negative tolerance
        ({"tol_abs": "abc"}, "tol_abs", "number"),
        ({"tol_abs": "inf"}, "tol_abs", "0 or more"),
        ({"t1_kwargs": "[1]"}, "t1_kwargs", "object"),
        ({"t1_kwargs": '{"a": "x\\u0000"}'}, "t1_kwargs", "NUL"),
        ({"t0_a1_value": '"\\ud800"'}, "t0_a1_value", "surrogate"),
        ({"t0_a0_value": "a\x00,b\n1,2\n"}, "t0_a0_value", "Null characters"),
        ({"t2_id": " "}, "t2_id", "name"),
        ({"entrypoint": "class"}, "entrypoint", "function"),
        ({"reference_solution": "  "}, "reference_solution", "reference solution"),
        ({"t0_visibility": "secret"}, "t0_visibility", "valid choice"),
    ],
)
def test_refusals_are_field_errors(changes, field, words):
    builder = Builder(data=post(SPEC, **changes))
    assert not builder.is_valid()
    assert list(builder.errors) == [field], builder.errors
    assert words in builder.errors[field][0]


def test_no_test_is_refused():
    builder = Builder(data=post(SPEC, test_count="0"))
    assert not builder.is_valid() and "test_count" in builder.errors
    html = render_to_string(Builder.template_name, {"builder": builder})
    assert 'role="alert"' in html and "Add at least one test." in html


def test_errors_are_in_the_page_language():
    with translation.override("fr"):
        builder = Builder(data=post(SPEC, t1_id="t1", tol_rel="-1", entrypoint="class"))
        assert not builder.is_valid()
        assert builder.errors["t1_id"][0] == "Le test 1 porte déjà ce nom."
        assert builder.errors["tol_rel"][0] == "Une tolérance vaut 0 ou plus."
    with translation.override("ar"):
        builder = Builder(data=post(SPEC, t0_a0_value="a,b\n1\n"))
        assert not builder.is_valid()
        assert "السطر 2" in builder.errors["t0_a0_value"][0]


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("public_tests[1].id", "t1_id"),
        ("public_tests[1].args", "t1_a0_value"),
        ("public_tests[0].kwargs", "t0_kwargs"),
        ("hidden_tests[0].id", "t2_id"),
        ("hidden_tests[0].args", "t2_a0_value"),
        ("hidden_tests[5].id", "test_count"),
        ("public_tests", "test_count"),
        ("tolerance", "tol_rel"),
        ("entrypoint", "entrypoint"),
        ("reference_solution", "reference_solution"),
    ],
)
def test_spec_error_paths_land_on_their_row_field(path, field):
    # Rows are shown in the builder's order, public and hidden mixed: the paths count per list.
    data = post(SPEC)
    builder = Builder(data=data)
    assert builder.is_valid()
    builder.add_spec_error(SpecError(path, "wrong here"))
    assert builder.errors[field] == ["wrong here"]


def test_spec_error_paths_follow_the_rows_visibility():
    data = post(SPEC, t0_visibility="hidden")  # rows: t1 hidden, t2 public, h1 hidden
    builder = Builder(data=data)
    assert builder.is_valid()
    assert [t["id"] for t in builder.to_spec()["hidden_tests"]] == ["t1", "h1"]
    builder.add_spec_error(SpecError("hidden_tests[1].id", "x"))
    builder.add_spec_error(SpecError("public_tests[0].id", "y"))
    assert builder.errors["t2_id"] == ["x"] and builder.errors["t1_id"] == ["y"]


def test_the_grader_messages_are_translated():
    with translation.override("fr"), pytest.raises(SpecError) as exc:
        kinds.validate_spec("code", {**SPEC, "hidden_tests": [{"id": "t1", "args": []}]})
    assert exc.value.path == "hidden_tests[0].id" and "t1" in exc.value.message
    assert exc.value.message != "two tests are named t1: give each test its own name"


# -- check against the reference, in the real sandbox ---------------------------------------------


def test_check_shows_the_outputs_the_learner_is_compared_with():
    builder = Builder(data={**post(SPEC), "builder_action": "check"})
    assert builder.edit_action() is True
    assert builder.errors == {}
    assert builder.check_results == [
        {"id": "t1", "public": True, "input": builder.check_results[0]["input"], "expected": "4"},
        {"id": "t2", "public": True, "input": '[{"a": [1, 2.5, null, "x"]}]', "expected": "6"},
        {"id": "h1", "public": False, "input": builder.check_results[2]["input"], "expected": "3"},
    ]  # fmt: skip
    html = render_to_string(Builder.template_name, {"builder": builder})
    assert "check-results" in html and "h1" in html


def test_check_of_a_reference_that_fails_a_test_is_an_error_on_the_reference():
    ref = "def solve(df, n):\n    return 1 // (n - 2)\n"
    builder = Builder(data={**post(SPEC, reference_solution=ref), "builder_action": "check"})
    assert builder.edit_action() is True
    assert builder.check_results is None
    assert list(builder.errors) == ["reference_solution"]
    assert "ZeroDivisionError" in builder.errors["reference_solution"][0]


def test_check_of_a_reference_that_does_not_load_is_an_error_on_the_reference():
    with translation.override("fr"):
        builder = Builder(data={**post(SPEC, reference_solution="def solve(:\n"), "builder_action": "check"})
        assert builder.edit_action() is True
        message = builder.errors["reference_solution"][0]
    assert "SyntaxError" in message and "the reference solution does not load" not in message


def test_check_of_an_invalid_builder_runs_nothing_and_shows_the_field_errors():
    builder = Builder(data={**post(SPEC, t0_a1_value="[1,"), "builder_action": "check"})
    assert builder.edit_action() is True
    assert builder.check_results is None and list(builder.errors) == ["t0_a1_value"]


# -- rendering ------------------------------------------------------------------------------


def test_template_labels_every_input_and_loads_the_editor():
    builder = Builder(spec=SPEC, context=CONTEXT)
    html = render_to_string(Builder.template_name, {"builder": builder})
    assert "vendor/codemirror6/editor.min.js" in html and "js/code_editor.js" in html
    for name, field in builder.fields.items():
        if not field.widget.is_hidden:
            assert f'for="id_{name}"' in html, name
    assert html.count('name="builder_action"') >= 10
    assert "<script>" not in html and "onclick" not in html

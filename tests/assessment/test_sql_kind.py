"""The SQL kind (assessment/kinds/sql): spec validation naming the field, the dataset built from
CSV (typed columns) or a script, the comparison of results (multiset or ordered, tolerance,
column names), grading through the real sandbox (right, wrong, hard-coded to the visible rows),
what the learner's page may see, the archive round trip, try_grader, and the notices in fr/ar."""

import copy
import json

import pytest
import yaml
from django.core.management import call_command
from django.template.loader import render_to_string
from django.utils import translation

from assessment import kinds
from assessment.kinds import AnswerRefused, SpecError
from assessment.kinds.sql import grader, harness
from courses import archive
from tests.assessment.sql_fixtures import HARD_CODED_ANSWER, RIGHT_ANSWER, SPEC, WRONG_ANSWER


@pytest.fixture(scope="module")
def prepared():
    return kinds.prepare_spec("sql", SPEC)


def with_(**changes) -> dict:
    spec = copy.deepcopy(SPEC)
    for key, value in changes.items():
        if value is None:
            spec.pop(key, None)
        else:
            spec[key] = value
    return spec


# --- validation ---------------------------------------------------------------------------------


def test_the_fixture_spec_is_valid():
    kinds.validate_spec("sql", SPEC)


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"dataset": None}, "dataset"),
        ({"dataset": {"tables": []}}, "dataset.tables"),
        ({"dataset": {"csv": "a\n1\n"}}, "dataset"),
        ({"dataset": {"tables": [{"name": "1bad", "csv": "a\n1\n"}]}}, "dataset.tables[0].name"),
        ({"dataset": {"tables": [{"name": "sqlite_x", "csv": "a\n1\n"}]}}, "dataset.tables[0].name"),
        ({"dataset": {"tables": [{"name": "t", "csv": "a\n1\n"}, {"name": "T", "csv": "a\n1\n"}]}},
         "dataset.tables[1].name"),
        ({"dataset": {"tables": [{"name": "t", "csv": "a b\n1\n"}]}}, "dataset.tables[0].csv"),
        ({"dataset": {"tables": [{"name": "t", "csv": "a,b\n1\n"}]}}, "dataset.tables[0].csv"),
        ({"dataset": {"tables": [{"name": "t", "csv": "x" * (2 * 1024 * 1024 + 1)}]}}, "dataset.tables"),
        ({"dataset": {"script": "DROP TABLE x"}}, "dataset.script"),
        ({"dataset": {"script": "CREATE TABLE t(a); PRAGMA writable_schema = 1;"}}, "dataset.script"),
        ({"dataset": {"script": "ATTACH DATABASE '/tmp/x' AS x"}}, "dataset.script"),
        ({"dataset": {"script": "CREATE TABLE t(a); INSERT INTO t SELECT load_extension('x');"}}, "dataset.script"),
        ({"dataset": {"script": "CREATE TABLE t(a); WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1"
                                " FROM r) INSERT INTO t SELECT x FROM r;"}}, "dataset.script"),
        ({"dataset": {"script": "-- nothing\n"}}, "dataset"),
        ({"hidden_dataset": {"tables": [{"name": "admissions", "csv": "id\n1\n"}]}}, "hidden_dataset"),
        ({"hidden_dataset": None, "reference_query": " "}, "reference_query"),
        ({"reference_query": "SELECT 1" + " " * 20_000}, "reference_query"),
        ({"order_matters": "yes"}, "order_matters"),
        ({"column_names_matter": 1}, "column_names_matter"),
        ({"tolerance": -1}, "tolerance"),
        ({"tolerance": 10**400}, "tolerance"),
        ({"starter_query": 3}, "starter_query"),
        ({"reference": "SELECT 1"}, "reference"),
    ],
)  # fmt: skip
def test_a_malformed_spec_is_refused_naming_its_field(changes, path):
    with pytest.raises(SpecError) as exc:
        kinds.validate_spec("sql", with_(**changes))
    assert exc.value.path == path, exc.value


def test_a_script_dataset_with_index_view_and_transaction_is_accepted():
    script = (
        "BEGIN TRANSACTION;\nCREATE TABLE sejours (id INTEGER PRIMARY KEY, service TEXT, jours REAL);\n"
        "INSERT INTO sejours VALUES (1, 'Urgences', 1.5), (2, upper('cardiologie'), 3);\n"
        "CREATE INDEX sejours_service ON sejours(service);\n"
        "CREATE VIEW longs AS SELECT * FROM sejours WHERE jours > 2;\nCOMMIT;\n"
    )
    kinds.validate_spec("sql", {"dataset": {"script": script}, "reference_query": "SELECT * FROM longs"})
    tables = grader.preview({"dataset": {"script": script}})
    assert [(t["name"], t["view"], t["row_count"]) for t in tables] == [("longs", True, 1), ("sejours", False, 2)]
    assert tables[1]["rows"][1] == ["2", "CARDIOLOGIE", "3.0"]


def test_csv_columns_are_typed_integer_real_or_text_and_empty_cells_are_null():
    columns, types, rows = harness.parse_csv("id,code,poids,note\n1,007,70.5,\n2,12,,ok\n", max_columns=50, table="t")
    assert columns == ["id", "code", "poids", "note"]
    assert types == ["INTEGER", "TEXT", "REAL", "TEXT"]  # a leading zero keeps an identifier as text
    assert rows == [[1, "007", 70.5, None], [2, "12", None, "ok"]]


# --- comparison ----------------------------------------------------------------------------------


def result(columns, rows):
    return {"columns": columns, "rows": rows}


def test_rows_compare_as_a_multiset_unless_order_matters():
    want = result(["a", "b"], [[1, "x"], [2, "y"], [2, "y"]])
    got = result(["A", "B"], [[2, "y"], [1, "x"], [2, "y"]])
    assert grader.compare(want, got, order_matters=False, column_names_matter=False, tol=0)["matched"]
    ordered = grader.compare(want, got, order_matters=True, column_names_matter=False, tol=0)
    assert not ordered["matched"] and ordered["shape_ok"]
    assert ordered["first_difference"] == {"row": 1, "expected": ["1", "x"], "got": ["2", "y"]}
    missing = result(["a", "b"], [[1, "x"], [2, "y"], [3, "y"]])
    out = grader.compare(want, missing, order_matters=False, column_names_matter=False, tol=0)
    assert out["shape_ok"] and not out["rows_ok"] and out["first_difference"]["row"] == 3


def test_floats_match_within_the_tolerance_and_ints_equal_floats():
    want = result(["m"], [[4.333333], [2.5], [1]])
    got = result(["m"], [[1.0], [4.33], [2.5000001]])
    assert grader.compare(want, got, order_matters=False, column_names_matter=False, tol=0.01)["matched"]
    assert not grader.compare(want, got, order_matters=False, column_names_matter=False, tol=1e-6)["matched"]


def test_column_names_compare_case_insensitively_only_when_they_matter():
    want, got = result(["Service", "n"], [["A", 1]]), result(["service", "total"], [["A", 1]])
    assert grader.compare(want, got, order_matters=False, column_names_matter=False, tol=0)["matched"]
    out = grader.compare(want, got, order_matters=False, column_names_matter=True, tol=0)
    assert not out["matched"] and not out["columns_ok"] and out["rows_ok"]
    same = result(["SERVICE", "N"], [["A", 1]])
    assert grader.compare(want, same, order_matters=False, column_names_matter=True, tol=0)["matched"]


def test_a_wrong_shape_is_reported_with_the_first_missing_row():
    want, got = result(["a"], [[1], [2]]), result(["a"], [[1]])
    out = grader.compare(want, got, order_matters=True, column_names_matter=False, tol=0)
    assert not out["shape_ok"] and out["first_difference"] == {"row": 2, "expected": ["2"], "got": None}


def test_null_text_and_numbers_sort_without_error():
    want = result(["v"], [[None], ["a"], [1], [2.5]])
    got = result(["v"], [["a"], [2.5], [None], [1]])
    assert grader.compare(want, got, order_matters=False, column_names_matter=False, tol=0)["matched"]


def test_the_harness_output_is_parsed_strictly():
    assert grader.parse_output('{"ok": true, "columns": ["a"], "rows": [[1], [null], ["x"], [2.5]]}\n')["ok"]
    bad_lines = [
        '{"ok": true, "columns": ["a"], "rows": [[1, 2]]}',
        '{"ok": true, "columns": ["a"], "rows": [[true]]}',
        '{"ok": true, "columns": ["a"], "rows": [[NaN]]}',
        '{"ok": false, "error": "made_up"}',
        "[1]",
        "",
    ]
    for bad in bad_lines:
        assert grader.parse_output(bad) is None, bad


# --- grading in the sandbox -----------------------------------------------------------------------


def test_prepare_spec_computes_the_expected_results_on_both_datasets(prepared):
    assert prepared["expected"]["public"] == {
        "columns": ["service", "admissions", "duree_moyenne"],
        "rows": [["Cardiologie", 3, 4.33], ["Maternite", 2, 2.5], ["Urgences", 1, 1.0]],
    }
    assert prepared["expected"]["hidden"]["rows"] == [
        ["Maternite", 1, 4.0],
        ["Pneumologie", 2, 7.0],
        ["Urgences", 1, 1.0],
    ]
    assert kinds.editable_spec("sql", prepared) == SPEC


def test_a_right_answer_scores_both_datasets(prepared):
    out = kinds.get_grader("sql")(prepared, RIGHT_ANSWER)
    assert (out.score, out.max_score) == (2, 2)
    assert out.feedback["public"]["matched"] and out.feedback["hidden"] == {"status": "matched"}
    assert "messages" not in out.feedback


def test_a_wrong_answer_scores_zero_and_shows_the_first_public_difference_only(prepared):
    out = kinds.get_grader("sql")(prepared, WRONG_ANSWER)
    assert (out.score, out.max_score) == (0, 2)
    public = out.feedback["public"]
    assert not public["shape_ok"] and public["expected_shape"] == [3, 3] and public["got_shape"] == [3, 2]
    assert public["first_difference"] == {
        "row": 2,
        "expected": ["Maternite", "2", "2.5"],
        "got": ["Maternite", "1", "3.0"],
    }
    assert out.feedback["hidden"] == {"status": "different"}
    assert out.feedback["messages"] == [{"code": "sql.public_different", "params": {}}]


def test_a_query_hard_coded_to_the_visible_rows_fails_the_hidden_dataset(prepared):
    out = kinds.get_grader("sql")(prepared, HARD_CODED_ANSWER)
    assert (out.score, out.max_score) == (1, 2)
    assert out.feedback["hidden"] == {"status": "different"}
    text = json.dumps(out.feedback)
    assert "Pneumologie" not in text and "7.0" not in text  # no hidden row, ever


def test_a_syntax_error_is_shown_with_sqlite_words_on_the_public_dataset_only(prepared):
    out = kinds.get_grader("sql")(prepared, {"query": "SELEC service FROM admissions"})
    assert out.score == 0
    assert out.feedback["messages"][0]["code"] == "sql.error_syntax"
    assert "syntax error" in out.feedback["messages"][0]["params"]["message"]
    assert out.feedback["hidden"] == {"status": "error"}
    assert "syntax" in out.staff_log


def test_a_spec_stored_without_expected_results_gets_them_at_grading(prepared):
    stored = {k: v for k, v in prepared.items() if k != "expected"}
    completed = kinds.complete_spec("sql", stored)
    assert completed["expected"] == prepared["expected"]
    assert kinds.complete_spec("sql", prepared) is None


def test_a_failing_reference_query_is_a_spec_error_on_it():
    with pytest.raises(SpecError) as exc:
        grader.checked_spec(with_(reference_query="SELECT nope FROM admissions"))
    assert exc.value.path == "reference_query" and "no such column" in exc.value.message


def test_public_spec_shows_the_public_tables_and_hides_answers_and_the_hidden_dataset(prepared):
    public = kinds.public_spec("sql", prepared)
    assert set(public) == {"tables", "has_hidden", "order_matters", "column_names_matter", "starter_query"}
    assert public["has_hidden"] and public["starter_query"] == SPEC["starter_query"]
    admissions = public["tables"][0]
    assert admissions["name"] == "admissions" and admissions["row_count"] == 6 and len(admissions["rows"]) == 5
    assert [c["name"] for c in admissions["columns"]][:3] == ["id", "patient_id", "service"]
    text = json.dumps(public)
    assert "Pneumologie" not in text and "ROUND" not in text and "4.33" not in text


def test_the_learner_page_sections_render(prepared):
    public = kinds.public_spec("sql", prepared)
    html = render_to_string("assessment/_sql_body.html", {"public": public})
    assert "admissions" in html and "Cardiologie" in html and "hidden variant" in html
    out = kinds.get_grader("sql")(prepared, WRONG_ANSWER)
    html = render_to_string("assessment/_sql_feedback.html", {"feedback": out.feedback})
    assert "First differing row: row 2" in html and "Hidden dataset: your result does not match." in html


# --- the answer, the archive, try_grader, the notices ---------------------------------------------


@pytest.mark.parametrize("query", ["", "   ", "SELECT 1" + " " * 20_000, "SELECT '\x00'", None])
def test_a_bad_answer_is_refused_on_the_query_field(query):
    with pytest.raises(AnswerRefused) as exc:
        kinds.validate_answer("sql", SPEC, {"query": query})
    assert exc.value.field == "query"


def test_the_learner_form_starts_from_the_starter_query_and_gives_the_answer():
    form = kinds.get("sql").learner_form(data={"query": "SELECT 1"}, spec=SPEC)
    assert form.is_valid() and form.answer() == {"query": "SELECT 1"}
    assert kinds.get("sql").learner_form(spec=SPEC)["query"].value() == SPEC["starter_query"]


def test_the_archive_round_trip_keeps_the_spec(prepared):
    editable = kinds.editable_spec("sql", prepared)
    assert archive.safe_load(archive._dump(editable).decode()) == SPEC
    assert yaml.safe_load(yaml.safe_dump(editable)) == SPEC


def _assignment_file(tmp_path):
    path = tmp_path / "sql.yaml"
    path.write_text(yaml.safe_dump({"format": "kafaat-assignment/1", "kind": "sql", "points": 10, "spec": SPEC}))
    return path


@pytest.mark.parametrize(("answer", "score"), [(RIGHT_ANSWER, 2), (WRONG_ANSWER, 0)])
def test_try_grader_grades_a_sql_answer(tmp_path, capsys, answer, score):
    path = tmp_path / "answer.yaml"
    path.write_text(yaml.safe_dump(answer))
    call_command("try_grader", str(_assignment_file(tmp_path)), str(path))
    out = json.loads(capsys.readouterr().out)
    assert out["kind"] == "sql" and out["score"] == score and out["max_score"] == 2


@pytest.mark.parametrize(
    ("lang", "words"),
    [("fr", ["requête", "lecture"]), ("ar", ["الاستعلام", "القراءة"])],
)
def test_notices_render_in_the_readers_language(lang, words):
    with translation.override(lang):
        texts = kinds.feedback_notices(
            {
                "messages": [
                    {"code": "sql.no_query"},
                    {"code": "sql.error_denied", "params": {"message": "x"}},
                    {"code": "sql.error_syntax", "params": {"message": 'near "SELEC"'}},
                ]
            }  # fmt: skip
        )
    assert len(texts) == 3 and 'near "SELEC"' in texts[2]
    assert all(any(w in t for t in texts) for w in words), texts

"""Hostile deid answers: fabricated rows (copies of a row to reach k, invented rows, invented
sensitive values, rows that generalize no source row), CSV bombs (a huge field, a quote bomb,
millions of rows, very many columns, 10 MB), wrong columns (a quasi-identifier missing, an extra
column, the sensitive column renamed, a direct identifier kept), and code that returns a
fabricated DataFrame, something else, or never returns. Each ends in a notice and score 0, fast,
with nothing left behind; an honest answer still passes after them."""

import time
from pathlib import Path

import pytest

from assessment import kinds
from assessment.sandbox import runner
from tests.assessment.deid_fixtures import REFERENCE_RELEASE, REFERENCE_SOLUTION, RIGHT_ANSWER, SPEC, TABLE

HEADER = "AGE,SEXE,CODE_POSTAL,DIAGNOSTIC\n"
SOURCE = [line.split(",") for line in TABLE.strip().splitlines()[1:]]
EXACT = [f"{r[2]},{r[3]},{r[4]},{r[6]}" for r in SOURCE]


def grade(answer: dict):
    return kinds.get_grader("deid")(SPEC, answer)


def codes(result) -> list[str]:
    return [m["code"] for m in result.feedback.get("messages", [])]


CSV_HOSTILE = {
    # Fabricated rows.
    "one_row_copied_to_reach_k": (HEADER + "\n".join([EXACT[0]] * 3 + EXACT[3:]) + "\n", "deid.untrue_copy"),
    "every_row_tripled": (HEADER + "\n".join(EXACT[:3] * 3) + "\n", "deid.untrue_copy"),
    "more_rows_than_the_source": (REFERENCE_RELEASE + "30-39,*,202**,Asthme\n", "deid.too_many_rows"),
    "an_invented_age": (REFERENCE_RELEASE.replace("40-49,*,201**,Asthme", "99,*,201**,Asthme"), "deid.untrue_cell"),
    "an_invented_diagnosis": (
        REFERENCE_RELEASE.replace("60-69,*,204**,Diabète", "60-69,*,204**,Grippe"),
        "deid.untrue_sensitive",
    ),  # fmt: skip
    "a_row_no_patient_has": (
        REFERENCE_RELEASE.replace("30-39,*,202**,Asthme", "60-69,*,202**,Asthme"),
        "deid.untrue_row",
    ),  # fmt: skip
    "generalized_copies_beyond_the_source": (
        REFERENCE_RELEASE.replace("40-49,*,201**,Hypertension", "30-39,*,202**,Hypertension"),
        "deid.untrue_copy",
    ),
    # CSV bombs.
    "long_cell": (HEADER + "x" * 5_000 + ",F,1,A\n", "deid.table_cell_too_long"),
    "huge_unquoted_field": (HEADER + "x" * 150_000 + ",F,1,A\n", "deid.table_malformed"),  # past csv's field limit
    "huge_quoted_field": (HEADER + '"' + "x" * 150_000 + '",F,1,A\n', "deid.table_malformed"),
    "quote_bomb": ('"' * 199_999, "deid.table_malformed"),
    "unclosed_quote": (HEADER + '"30-39,*,202**,Asthme\n' * 100, "deid.table_malformed"),
    "millions_of_rows": ("A\n" + "1\n" * 3_000_000, "deid.table_too_large"),
    "many_rows_under_the_size_cap": ("A\n" + "1\n" * 90_000, "deid.table_too_many_rows"),
    "very_many_columns": ("," * 150_000 + "\n", "deid.table_too_many_columns"),
    "ten_megabytes": (HEADER + (REFERENCE_RELEASE.split("\n", 1)[1]) * 40_000, "deid.table_too_large"),
    "ragged_rows": (HEADER + "30-39,*\n", "deid.table_ragged"),
    "duplicate_columns": ("AGE,AGE,SEXE,CODE_POSTAL,DIAGNOSTIC\n", "deid.table_duplicate_column"),
    "nul_bytes": (REFERENCE_RELEASE.replace("Asthme", "Ast\x00hme"), "deid.table_nul"),
    # Wrong columns.
    "a_quasi_identifier_missing": (
        "\n".join(",".join(line.split(",")[1:]) for line in REFERENCE_RELEASE.splitlines()),
        "deid.missing_column",
    ),  # fmt: skip
    "an_extra_column": ("\n".join(line + ",x" for line in REFERENCE_RELEASE.splitlines()), "deid.unknown_column"),
    "the_sensitive_column_renamed": (REFERENCE_RELEASE.replace("DIAGNOSTIC", "DIAG"), "deid.unknown_column"),
    "a_direct_identifier_kept": (
        "NOM," + REFERENCE_RELEASE.replace("\n", "\nAmina Benali,").removesuffix("Amina Benali,"),
        "deid.direct_identifier_kept",
    ),
    "an_unstorable_column_name": (REFERENCE_RELEASE.replace("DIAGNOSTIC", "DIAGNOSTIC,\ud800"), "deid.table_ragged"),
}


@pytest.mark.parametrize("name", sorted(CSV_HOSTILE))
def test_a_hostile_table_scores_zero_with_a_clear_notice(name):
    text, code = CSV_HOSTILE[name]
    started = time.monotonic()
    result = grade({"csv": text})
    assert result.score == 0, (name, result.feedback)
    assert code in codes(result), (name, result.feedback)
    assert kinds.feedback_notices(result.feedback), name  # words for it
    assert time.monotonic() - started < 5, name
    assert "\x00" not in str(result.feedback) and "\ud800" not in str(result.feedback)
    assert grade(RIGHT_ANSWER).score == 3


def test_an_unstorable_unknown_column_is_named_storably():
    text = "\n".join(line + ",x" for line in REFERENCE_RELEASE.replace("DIAGNOSTIC", "DIAGNOSTIC", 1).splitlines())
    text = text.replace("DIAGNOSTIC,x", "DIAGNOSTIC,\ud800", 1)
    result = grade({"csv": text})
    assert result.score == 0 and codes(result) == ["deid.unknown_column"]
    assert "\ud800" not in str(result.feedback)


@pytest.mark.parametrize("name", ["millions_of_rows", "ten_megabytes"])
def test_an_oversized_table_is_refused_on_the_csv_field_before_grading(name):
    with pytest.raises(kinds.AnswerRefused) as err:
        kinds.validate_answer("deid", SPEC, {"csv": CSV_HOSTILE[name][0]})
    assert err.value.field == "csv"


CODE_HOSTILE = {
    "returns_duplicated_rows": (
        "import pandas as pd\ndef release(df):\n    out = df.drop(columns=['NOM', 'CIN', 'SERVICE'])\n"
        "    return pd.concat([out.iloc[[0]]] * 3 + [out.iloc[3:]])\n",
        "deid.untrue_copy",
    ),
    "returns_invented_rows": (
        "import pandas as pd\ndef release(df):\n"
        "    return pd.DataFrame({'AGE': ['*'] * 9, 'SEXE': ['*'] * 9, 'CODE_POSTAL': ['*'] * 9,"
        " 'DIAGNOSTIC': ['Grippe'] * 9})\n",
        "deid.untrue_sensitive",
    ),
    "returns_no_dataframe": ("def release(df):\n    return 42\n", "deid.table_not_a_table"),
    "loops_forever": ("def release(df):\n    while True:\n        pass\n", "deid.limit"),
    "does_not_load": ("def release(df:\n", "deid.load_error"),
    "raises": ("def release(df):\n    return df['NOPE']\n", "deid.code_error"),
    "no_function": ("def other(df):\n    return df\n", "deid.missing_function"),
    "keeps_the_names": ("def release(df):\n    return df.drop(columns=['CIN'])\n", "deid.direct_identifier_kept"),
}


@pytest.fixture
def zygote_required(monkeypatch):
    """The zygote path, never the fallback to a fresh interpreter."""
    monkeypatch.setenv("KAFAAT_SANDBOX_ZYGOTE", "require")


@pytest.mark.usefixtures("zygote_required")
@pytest.mark.parametrize("name", sorted(CODE_HOSTILE))
def test_hostile_code_scores_zero_with_a_clear_notice_and_leaves_nothing(name, monkeypatch):
    source, code = CODE_HOSTILE[name]
    made = []  # this run's own directories (other checkouts may be running sandboxes at the same time)
    real = runner.tempfile.mkdtemp

    def mkdtemp(*args, **kwargs):
        made.append(Path(real(*args, **kwargs)))
        return str(made[-1])

    monkeypatch.setattr(runner.tempfile, "mkdtemp", mkdtemp)
    started = time.monotonic()
    result = grade({"code": source})
    assert result.score == 0, (name, result.feedback)
    assert code in codes(result), (name, result.feedback)
    assert kinds.feedback_notices(result.feedback), name
    assert time.monotonic() - started < 30, name
    assert made and all(runner.ROOT_DIR in p.parents and not p.exists() for p in made)


def test_an_honest_code_answer_still_passes_after_the_hostile_ones():
    assert grade({"code": REFERENCE_SOLUTION}).score == 3

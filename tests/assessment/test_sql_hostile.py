"""Hostile SQL queries against the real sandbox. Each ends with a score of 0 and a clear notice
(an error code the learner's page renders), leaves no run directory and no process behind, and
an honest query graded right after still scores full marks."""

# ruff: noqa: S608 - the queries are the hostile input under test

import time
from pathlib import Path

import pytest

from assessment import kinds
from assessment.sandbox import runner
from assessment.sandbox.runner import ROOT_DIR
from tests.assessment.sandbox_helpers import idle_zygote_processes, processes, slot_uids
from tests.assessment.sql_fixtures import RIGHT_ANSWER, SPEC

R = "WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r{where}) "
R10K = R.format(where=" WHERE x < 10000")

# name -> (query, the error code the public run must end with)
HOSTILE = {
    "recursive_cte_never_ends": (R.format(where="") + "SELECT count(*) FROM r", "time"),
    "recursive_cte_rows_forever": (R.format(where="") + "SELECT x FROM r", "too_many_rows"),
    "huge_cross_join": (R10K + "SELECT count(*) FROM r a, r b, r c, r d", "time"),
    # Hundreds of millions: 5 million once finished inside the time limit on this machine.
    "sort_of_millions": (R.format(where=" WHERE x < 500000000") + "SELECT x FROM r ORDER BY random() LIMIT 1", "time"),
    "attach": ("ATTACH DATABASE '/tmp/x.db' AS x", "denied"),
    "attach_memory": ("ATTACH ':memory:' AS m", "denied"),
    "load_extension": ("SELECT load_extension('/tmp/x')", "denied"),
    "insert": ("INSERT INTO admissions VALUES (999, 1, 'X', '2026-01-01', 1)", "denied"),
    "update": ("UPDATE admissions SET duree_sejour = 0", "denied"),
    "delete": ("DELETE FROM admissions", "denied"),
    "drop": ("DROP TABLE admissions", "denied"),
    "create": ("CREATE TABLE t AS SELECT * FROM admissions", "denied"),
    "create_temp": ("CREATE TEMP TABLE t (a)", "denied"),
    "vacuum_into": ("VACUUM INTO '/tmp/copy.db'", "denied"),
    "pragma_writable_schema": ("PRAGMA writable_schema = 1", "denied"),
    "pragma_query_only_off": ("PRAGMA query_only = 0", "denied"),
    "pragma_function": ("SELECT * FROM pragma_compile_options", "denied"),
    "transaction": ("BEGIN IMMEDIATE", "denied"),
    "several_statements": ("SELECT 1; DELETE FROM admissions", "several_statements"),
    "flood_ten_million_rows": (R.format(where=" WHERE x < 10000000") + "SELECT x FROM r", "too_many_rows"),
    "flood_zeroblob": ("SELECT zeroblob(100000000)", "too_long"),
    "flood_replace": ("SELECT replace(printf('%.*c', 900000, 'x'), 'x', 'xx')", "too_long"),
    "flood_group_concat": (R.format(where=" WHERE x < 1000000") + "SELECT group_concat(x) FROM r", "too_long"),
    "flood_wide_cells": (
        R.format(where=" WHERE x < 4000") + "SELECT printf('%.*c', 9000, 'x') FROM r", "output_too_large"
    ),
    "flood_many_columns": ("SELECT " + ", ".join(f"{i} AS c{i}" for i in range(60)), "too_many_columns"),
    "not_a_query": ("-- only a comment", "not_a_query"),
}  # fmt: skip


@pytest.fixture(scope="module")
def spec():
    return kinds.prepare_spec("sql", SPEC)


def grade(spec, query: str):
    return kinds.get_grader("sql")(spec, {"query": query})


@pytest.fixture
def run_dirs(monkeypatch):
    """The run directories this test's sandbox runs made (other checkouts' runs share ROOT_DIR)."""
    made = []
    real = runner.tempfile.mkdtemp

    def mkdtemp(*args, **kwargs):
        made.append(Path(real(*args, **kwargs)))
        return str(made[-1])

    monkeypatch.setattr(runner.tempfile, "mkdtemp", mkdtemp)
    return made


@pytest.fixture(autouse=True)
def zygote_required(monkeypatch):
    """The zygote path, never the fallback to a fresh interpreter."""
    monkeypatch.setenv("KAFAAT_SANDBOX_ZYGOTE", "require")


def live_sandbox_processes():
    """Processes of the slot uids, but for this process's idle zygotes (each its own three)."""
    uids, zygotes = set(slot_uids()), idle_zygote_processes()
    return [p for p in processes() if p.uid in uids and p.state != "Z" and p.pid not in zygotes]


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_query_scores_zero_with_a_clear_notice_and_leaves_nothing(spec, name, run_dirs):
    query, error = HOSTILE[name]
    started = time.monotonic()
    result = grade(spec, query)
    assert result.score == 0, (name, result.feedback)
    assert result.feedback["public"].get("error") == error, result.feedback
    notices = kinds.feedback_notices(result.feedback)
    assert notices and notices[0].startswith("Public dataset:"), notices
    assert result.feedback["hidden"]["status"] in ("error", "time_limit")
    assert time.monotonic() - started < 30  # a bound on harm, not a speed claim
    assert len(run_dirs) == 2 and all(ROOT_DIR in d.parents and not d.exists() for d in run_dirs)
    assert live_sandbox_processes() == []


def test_a_printf_past_the_length_limit_gives_null_so_a_wrong_result(spec):
    result = grade(spec, "SELECT printf('%.*c', 100000000, 'x')")
    assert result.score == 0 and result.feedback["public"]["got_shape"] == [1, 1]
    assert result.feedback["messages"] == [{"code": "sql.public_different", "params": {}}]


def test_the_dataset_is_a_fresh_copy_and_an_honest_query_still_passes(spec):
    # Nothing a hostile query tried survives into the next run, and the data is unchanged.
    grade(spec, "DELETE FROM admissions")
    result = grade(spec, RIGHT_ANSWER["query"])
    assert (result.score, result.max_score) == (2, 2)
    assert grade(spec, "SELECT count(*) FROM admissions").feedback["public"]["got_shape"] == [1, 1]


def test_sqlite_master_can_be_read_but_shows_only_the_public_dataset(spec):
    result = grade(spec, "SELECT name, sql FROM sqlite_master")
    assert result.score == 0 and result.feedback["public"]["got_shape"][1] == 2
    assert "hidden" not in str(result.feedback["public"]).lower()

"""The kind registry: every assignment kind is one folder of assessment/kinds/, which gives all of
its parts, and assessment stands on kernel alone (no models, no other app)."""

import ast
from pathlib import Path

import pytest
from django.apps import apps

from assessment import kinds
from courses.models import Assignment

ASSESSMENT = Path(kinds.__file__).resolve().parent.parent
OTHER_APPS = {"accounts", "analytics", "certificates", "config", "courses", "grading", "integrations", "learning",
              "privacy", "tests"}  # fmt: skip


def test_every_assignment_kind_is_registered_by_its_folder_and_nothing_else():
    assert set(kinds.KINDS) == set(Assignment.Kind.values)
    for name, kind in kinds.KINDS.items():
        assert kind.name == name
        assert (ASSESSMENT / "kinds" / name / "__init__.py").is_file()


@pytest.mark.parametrize("name", sorted(kinds.KINDS))
def test_a_kind_gives_its_spec_and_answer_rules_grader_and_learner_form(name):
    kind = kinds.get(name)
    assert callable(kind.grade) and callable(kind.validate_spec) and callable(kind.validate_answer)
    assert hasattr(kind.learner_form, "answer")


def test_an_unknown_kind_is_a_grader_error_and_has_no_derived_keys():
    with pytest.raises(kinds.GraderError, match="no grader"):
        kinds.get("oral-exam")
    assert kinds.editable_spec("oral-exam", {"a": 1}) == {"a": 1}
    assert kinds.editable_spec("code", {"expected": {"t1": 1}, "entrypoint": "f"}) == {"entrypoint": "f"}


def test_an_answer_in_the_wrong_shape_is_refused_on_its_field():
    with pytest.raises(kinds.AnswerRefused) as exc:
        kinds.validate_answer("flag", {}, {"flag": "  "})
    assert exc.value.field == "flag"
    with pytest.raises(kinds.AnswerRefused) as exc:
        kinds.validate_answer("quiz", {}, ["not", "a", "mapping"])
    assert exc.value.field == "answer"


def test_assessment_has_no_models_and_imports_no_other_app():
    assert not list(apps.get_app_config("assessment").get_models())
    found = []
    for path in ASSESSMENT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            found += [f"{path.relative_to(ASSESSMENT)}: {n}" for n in names if n.split(".")[0] in OTHER_APPS]
    assert found == []


def test_the_kinds_that_run_learner_code_go_to_the_sandbox_queue(monkeypatch):
    # A SQL query and a de-identification script are learner code: only a worker whose sandbox
    # passed its self-test may take them (a released CSV goes there too: one queue per kind).
    from grading import services, tasks

    assert {name for name in kinds.KINDS if kinds.uses_sandbox(name)} == {"code", "sql", "deid"}
    sent = []
    monkeypatch.setattr(services, "enqueue", lambda task, *args: sent.append(task.name) or True)
    for name in ("sql", "deid", "fhir", "quiz"):
        services.enqueue_grading(submission_id=1, kind=name)
    assert sent == [tasks.submission_grade_code.name] * 2 + [tasks.submission_grade.name] * 2

"""The quiz builder (assessment/kinds/quiz/builder.py): a spec opened and saved unchanged is the
same spec (and the same archive bytes), row operations re-render without saving, impossible
questions are refused on their own field, and the grader's new keys (explanation, shuffle
options, draws from a bank)."""

import copy
import json
import re
from pathlib import Path

import pytest
import yaml
from django.urls import reverse
from django.utils import translation

from assessment import kinds
from assessment.kinds.base import BuilderContext, SpecError
from assessment.kinds.quiz import grader
from assessment.kinds.quiz.builder import Builder
from courses.archive import _dump
from grading import services
from grading.models import Submission
from tests.factories import QUIZ_SPEC
from tests.grading.helpers import learner_for, make_assignment

DEMO = Path(__file__).resolve().parents[2] / "courses" / "demo"


def _demo_quizzes():
    out = []
    for path in sorted(DEMO.rglob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(doc, dict) and doc.get("kind") == "quiz":
            out.append(pytest.param(doc["spec"], id=path.stem))
    return out


DEMO_QUIZZES = _demo_quizzes()

# Canonical specs: keys in the order the archive writes them.
CANONICAL = {
    "factories": QUIZ_SPEC,
    "every type": {
        "questions": [
            {"id": "s", "type": "single", "prompt": "?", "points": 1, "choices": [{"id": "a", "text": "A"},
             {"id": "b", "text": "B"}], "answer": ["a"], "feedback": {"correct": "Yes", "incorrect": "No"}},
            {"id": "m", "type": "multiple", "prompt": "Which?", "points": 2, "partial_credit": True,
             "choices": [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}, {"id": "c", "text": "C"}],
             "answer": ["a", "c"], "explanation": "A and C are both right."},
            {"id": "n", "type": "numeric", "prompt": "Rate?", "points": 1.5, "value": 3.5, "tolerance": 0.05},
            {"id": "i", "type": "numeric", "prompt": "Count?", "value": 12},
            {"id": "t", "type": "text", "prompt": "Word?", "points": 0,
             "accepted": ["pseudonymisation", "pseudonymization"], "feedback": {"incorrect": "See module 2."}},
        ]
    },
    "draws and options": {
        "questions": [{"id": "q1", "type": "text", "prompt": "CNDP?", "accepted": ["CNDP"]}],
        "draws": [{"tag": "law-09-08", "count": 2, "points": 1}, {"tag": "medical-secrecy", "count": 1, "points": 2.5}],
        "shuffle_questions": True,
        "shuffle_choices": True,
    },
}  # fmt: skip

# Valid specs that are not canonical: they survive an unchanged save all the same.
QUIRKY = {
    "no type, multi-line prompt": {
        "questions": [{"id": "x", "prompt": "Line one\nline two\n", "choices": [{"id": "a", "text": "Yes"},
                      {"id": "b", "text": "No"}], "answer": ["b"]}]
    },
    "only draws": {"draws": [{"tag": "law-09-08", "count": 3, "points": 1}]},
    "explicit false and empty": {
        "questions": [{"id": "q1", "type": "multiple", "prompt": "P", "partial_credit": False,
                       "choices": [{"id": "z", "text": "1"}, {"id": "y", "text": "2"}], "answer": ["z", "y"],
                       "feedback": {"correct": "", "incorrect": "No"}, "explanation": ""}],
        "shuffle_questions": False,
    },
    "float points and unknown keys": {
        "questions": [{"id": "q1", "type": "numeric", "prompt": "P", "points": 2.0, "value": 1e-05,
                       "tolerance": 0, "hint": "kept"}],
        "note": "kept too",
    },
}  # fmt: skip


def _post(spec, **changes):
    data = Builder.data_from_spec(spec)
    data.update(changes)
    return data


def _saved(data, **kwargs):
    form = Builder(data=data, **kwargs)
    assert form.is_valid(), form.errors
    return form.to_spec()


# --- round trip ---------------------------------------------------------------------------------


def test_the_demo_course_has_quizzes_to_round_trip():
    assert len(DEMO_QUIZZES) >= 10


@pytest.mark.parametrize("spec", [*DEMO_QUIZZES, *CANONICAL.values(), *QUIRKY.values()])
def test_a_spec_saved_unchanged_is_the_same_spec(spec):
    kinds.validate_spec("quiz", spec)
    assert _saved(Builder.data_from_spec(spec)) == spec


@pytest.mark.parametrize("spec", [*DEMO_QUIZZES, *CANONICAL.values()])
def test_the_fields_alone_write_the_canonical_spec_and_the_same_archive_bytes(spec):
    # without the hidden originals, the spec comes from the visible fields only
    data = {k: v for k, v in Builder.data_from_spec(spec).items() if not k.endswith("orig")}
    assert _dump(_saved(data)) == _dump(spec)


def test_an_unbound_builder_shows_the_spec_it_is_given():
    form = Builder(spec=QUIZ_SPEC)
    html = str(form)
    assert 'value="Count again."' in html and "2 + 2 ?" in html
    assert [q.id.value() for q in form.question_views] == ["q1", "q2"]


def test_a_new_builder_starts_with_one_single_choice_question():
    form = Builder()
    assert [(q.id.value(), q.type.value()) for q in form.question_views] == [("q1", "single")]


def test_a_changed_field_is_written_and_the_other_keys_kept():
    spec = QUIRKY["no type, multi-line prompt"]
    data = _post(spec, **{"quiz-q0-c1-correct": "", "quiz-q0-c0-correct": "on"})
    data.pop("quiz-q0-c1-correct")
    out = _saved(data)
    assert out["questions"][0]["answer"] == ["a"]
    assert "type" not in out["questions"][0] and out["questions"][0]["prompt"] == "Line one\nline two\n"


def test_changing_the_type_drops_the_keys_of_the_old_type():
    spec = {"questions": [{"id": "q1", "type": "single", "prompt": "P", "choices": [{"id": "a", "text": "A"},
            {"id": "b", "text": "B"}], "answer": ["a"]}]}  # fmt: skip
    out = _saved(_post(spec, **{"quiz-q0-type": "numeric", "quiz-q0-value": "2,5", "quiz-q0-tolerance": "0.1"}))
    assert out == {"questions": [{"id": "q1", "type": "numeric", "prompt": "P", "value": 2.5, "tolerance": 0.1}]}


def test_new_choices_get_the_next_free_letter_and_blank_rows_are_ignored():
    data = _post(
        QUIZ_SPEC, **{"quiz-q0-c2-text": "6", "quiz-q0-c2-id": "", "quiz-q0-c3-text": "  ", "quiz-q0-c3-id": ""}
    )
    out = _saved(data)
    assert out["questions"][0]["choices"] == [
        {"id": "a", "text": "4"},
        {"id": "b", "text": "5"},
        {"id": "c", "text": "6"},
    ]


def test_draws_are_written_from_their_rows_with_the_courses_tags():
    context = BuilderContext(tags=[("law-09-08", "Loi 09-08", 12)])
    form = Builder(spec=QUIZ_SPEC, context=context)
    assert ("law-09-08", "Loi 09-08 (law-09-08): 12 in the bank") in form.fields["d0-tag"].choices
    data = _post(QUIZ_SPEC, **{"quiz-d0-tag": "law-09-08", "quiz-d0-count": "3", "quiz-d0-points": "2"})
    data["quiz-shuffle_choices"] = "on"
    out = _saved(data, context=context)
    assert out["draws"] == [{"tag": "law-09-08", "count": 3, "points": 2}]
    assert out["shuffle_choices"] is True and "shuffle_questions" not in out
    assert list(out) == ["questions", "draws", "shuffle_choices"]


TAMPERED = ["not json", "[1, 2]", '{"points": NaN}', "[" * 5000]


@pytest.mark.parametrize(
    "orig",
    [
        *TAMPERED,
        '{"type": ["single"], "choices": 3, "answer": {"a": 1}, "feedback": [1]}',
        '{"type": "single", "choices": [{"id": [1]}, {"id": "a", "text": {"x": 1}}], "points": {"a": 1}}',
    ],
)
def test_a_tampered_hidden_original_of_a_question_is_ignored_not_a_crash(orig):
    assert _saved(_post(QUIZ_SPEC, **{"quiz-q0-orig": orig})) == QUIZ_SPEC


@pytest.mark.parametrize("orig", [*TAMPERED, '{"draws": 3, "shuffle_questions": [1]}'])
def test_a_tampered_hidden_original_of_the_quiz_is_ignored_not_a_crash(orig):
    assert _saved(_post(QUIZ_SPEC, **{"quiz-orig": orig})) == QUIZ_SPEC


def test_posted_rows_out_of_order_or_with_gaps_are_read_in_order():
    data = Builder.data_from_spec(QUIZ_SPEC)
    moved = {k.replace("quiz-q1-", "quiz-q7-"): v for k, v in data.items()}
    out = _saved(moved)
    assert out == QUIZ_SPEC


# --- row operations -----------------------------------------------------------------------------


def _act(spec, action):
    form = Builder(data=_post(spec, builder_action=action))
    assert form.edit_action() is True
    return form


def _ids(form):
    return [q.id.value() for q in form.question_views]


def test_no_builder_action_is_no_edit():
    assert Builder(data=_post(QUIZ_SPEC)).edit_action() is False


@pytest.mark.parametrize(
    ("action", "ids"),
    [
        ("add:numeric", ["q1", "q2", "q3"]),
        ("dup:0", ["q1", "q3", "q2"]),
        ("del:0", ["q2"]),
        ("up:1", ["q2", "q1"]),
        ("down:0", ["q2", "q1"]),
        ("up:0", ["q1", "q2"]),
        ("down:1", ["q1", "q2"]),
        ("del:9", ["q1", "q2"]),
        ("nonsense", ["q1", "q2"]),
    ],
)
def test_row_operations_reorder_and_keep_the_question_ids(action, ids):
    assert _ids(_act(QUIZ_SPEC, action)) == ids


def test_an_edit_re_renders_the_rows_without_errors_and_saves_nothing():
    form = _act(QUIZ_SPEC, "add:text")
    assert not form.is_bound and form.errors == {}
    html = str(form)
    assert 'role="alert"' not in html
    assert form.question_views[2].type.value() == "text" and form.question_views[2].points.value() == "1"


def test_a_duplicate_is_the_same_question_under_a_new_id():
    form = _act(QUIZ_SPEC, "dup:0")
    out = _saved(Builder.data_from_spec({}) | _values_as_data(form))
    first, dup = out["questions"][0], out["questions"][1]
    assert dup["id"] == "q3" and {**dup, "id": "q1"} == first


def _values_as_data(form):
    """What the browser posts back for an unbound form (its initial values)."""
    data = {}
    for name, field in form.fields.items():
        value = form.get_initial_for_field(field, name)
        if value is True:
            data[form.add_prefix(name)] = "on"
        elif value not in (False, None):
            data[form.add_prefix(name)] = value
    return data


def test_moves_keep_the_answers_with_their_question():
    form = _act(QUIZ_SPEC, "down:0")
    out = _saved(_values_as_data(form))
    assert [q["id"] for q in out["questions"]] == ["q2", "q1"]
    assert out["questions"][1] == QUIZ_SPEC["questions"][0]


# --- refusals -----------------------------------------------------------------------------------


def _errors(data, **kwargs):
    form = Builder(data=data, **kwargs)
    assert not form.is_valid()
    return form.errors


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"quiz-q0-c0-correct": None}, "q0-choices"),  # no correct option
        ({"quiz-q0-c1-correct": "on"}, "q0-choices"),  # a single choice with two correct
        ({"quiz-q0-c1-text": ""}, "q0-choices"),  # fewer than two choices
        ({"quiz-q0-type": "numeric"}, "q0-value"),  # a numeric with no value
        ({"quiz-q0-type": "numeric", "quiz-q0-value": "3", "quiz-q0-tolerance": "-0.5"}, "q0-tolerance"),
        ({"quiz-q0-type": "numeric", "quiz-q0-value": "abc"}, "q0-value"),
        ({"quiz-q0-type": "text"}, "q0-accepted"),  # no accepted answer
        ({"quiz-q0-type": "text", "quiz-q0-accepted": " \n \n"}, "q0-accepted"),
        ({"quiz-q0-prompt": "  "}, "q0-prompt"),
        ({"quiz-q0-points": "many"}, "q0-points"),
        ({"quiz-q0-points": "100000"}, "q0-points"),
        ({"quiz-q0-type": "essay"}, "q0-type"),
        ({"quiz-d0-tag": "law-09-08", "quiz-d0-count": "0"}, "d0-count"),
        ({"quiz-d0-tag": "law-09-08", "quiz-d0-count": "1.5"}, "d0-count"),
        ({"quiz-d0-count": "2"}, "d0-tag"),
        ({"quiz-d0-tag": "Not a slug!", "quiz-d0-count": "2"}, "d0-tag"),
    ],
)
def test_an_impossible_question_is_refused_on_its_own_field(changes, field):
    data = Builder.data_from_spec(QUIZ_SPEC)
    for key, value in changes.items():
        if value is None:
            data.pop(key)
        else:
            data[key] = value
    assert field in _errors(data)


def test_an_empty_quiz_is_refused():
    data = _post(QUIZ_SPEC, builder_action="del:0")
    form = Builder(data=data)
    form.edit_action()
    data = _values_as_data(form) | {"builder_action": "del:0"}
    form = Builder(data=data)
    form.edit_action()
    assert "questions" in _errors(_values_as_data(form))


def test_a_refused_save_re_renders_the_message_next_to_the_field_as_an_alert():
    data = Builder.data_from_spec(QUIZ_SPEC)
    data.pop("quiz-q0-c0-correct")
    form = Builder(data=data)
    assert not form.is_valid()
    html = str(form)
    assert re.search(
        r'<div class="errors" role="alert" id="id_quiz-q0-choices-errors">.*Tick the correct choice', html, re.S
    )
    assert 'value="Count again."' in html  # what was typed is kept


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("questions[1].answer", "q1-choices"),
        ("questions[1].choices", "q1-choices"),
        ("questions[0].tolerance", "q0-tolerance"),
        ("questions[0].id", "q0-prompt"),
        ("questions[0].feedback", "q0-feedback_correct"),
        ("spec.questions[1].points", "q1-points"),
        ("questions[7].points", "questions"),
        ("questions", "questions"),
        ("draws[0].count", "d0-count"),
        ("draws", "draws"),
        ("shuffle_choices", "shuffle_choices"),
        ("", None),
    ],
)
def test_a_spec_error_lands_on_the_builder_field_its_path_names(path, field):
    form = Builder(data=Builder.data_from_spec(QUIZ_SPEC))
    assert form.is_valid()
    form.add_spec_error(SpecError(path, "the bank has only 2 questions"))
    assert form.errors[field or "__all__"] == ["the bank has only 2 questions"]


def test_field_errors_are_in_the_pages_language():
    data = Builder.data_from_spec(QUIZ_SPEC)
    data.pop("quiz-q0-c0-correct")
    with translation.override("fr"):
        errors = Builder(data=data).errors
    assert errors["q0-choices"] == ["Cochez le bon choix."]


def test_every_input_has_a_label():
    html = str(Builder(spec=CANONICAL["every type"], context=BuilderContext(tags=[("law-09-08", "Loi", 3)])))
    ids = re.findall(r'<(?:input|select|textarea)(?![^>]*type="hidden")[^>]*id="([^"]+)"', html)
    assert ids and all(f'for="{i}"' in html for i in ids)


# --- the grader's new keys ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "path"),
    [
        ({"questions": []}, "questions"),
        ({}, "questions"),
        ({"draws": []}, "questions"),
        ({"draws": [{"tag": "Loi 09", "count": 1, "points": 1}]}, "draws[0].tag"),
        ({"draws": [{"tag": "law", "count": 0, "points": 1}]}, "draws[0].count"),
        ({"draws": [{"tag": "law", "count": True, "points": 1}]}, "draws[0].count"),
        ({"draws": [{"tag": "law", "count": 1, "points": -1}]}, "draws[0].points"),
        ({"draws": {"tag": "law"}}, "draws"),
        ({**QUIZ_SPEC, "shuffle_questions": "yes"}, "shuffle_questions"),
        ({"questions": [{**QUIZ_SPEC["questions"][0], "explanation": 3}]}, "questions[0].explanation"),
    ],
)
def test_quiz_spec_refuses_bad_draws_options_and_explanations(spec, path):
    with pytest.raises(SpecError) as exc:
        grader.validate_spec(spec)
    assert exc.value.path == path


def test_the_explanation_is_not_shown_before_grading():
    spec = copy.deepcopy(QUIZ_SPEC)
    spec["questions"][0]["explanation"] = "The answer is 4."
    assert "explanation" not in grader.public_spec(spec)["questions"][0]


def test_a_quiz_of_draws_only_is_valid_and_its_public_spec_has_no_questions():
    spec = {"draws": [{"tag": "law-09-08", "count": 2, "points": 1}]}
    grader.validate_spec(spec)
    assert grader.public_spec(spec) == {"questions": []}


def test_the_grader_puts_each_questions_explanation_in_its_feedback():
    spec = copy.deepcopy(QUIZ_SPEC)
    spec["questions"][0]["explanation"] = "Two and two make four."
    result = grader.grade(spec, {"q1": ["b"], "q2": ["a", "c"]})
    assert [q["explanation"] for q in result.feedback["questions"]] == ["Two and two make four.", ""]
    assert json.loads(json.dumps(result.feedback)) == result.feedback


def test_a_spec_message_is_translated():
    with translation.override("fr"), pytest.raises(SpecError) as exc:
        grader.validate_spec({"questions": [{"id": "n", "type": "numeric", "prompt": "?"}]})
    assert exc.value.message == "une question numérique a besoin d'un nombre comme valeur"


@pytest.mark.django_db
def test_the_learner_sees_the_explanation_on_the_graded_submission(client):
    spec = copy.deepcopy(QUIZ_SPEC)
    spec["questions"][0]["explanation"] = "Two and two make four."
    assignment = make_assignment("quiz", spec)
    user = learner_for(assignment)
    sub = Submission.objects.create(
        user=user,
        assignment=assignment,
        version=assignment.current_version,
        attempt=1,
        answer={"q1": ["b"], "q2": ["a"]},
        max_score=2,
    )
    services.submission_grade(submission_id=sub.pk)
    client.force_login(user)
    response = client.get(reverse("grading:submission", args=[sub.pk]))
    assert response.status_code == 200
    assert "Two and two make four." in response.content.decode()

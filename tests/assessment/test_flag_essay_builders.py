"""The flag and essay builders: exact round trips (every valid spec, the demo course's included),
row operations without JavaScript, and refusals shown on the field they concern."""

import re
from pathlib import Path

import pytest
import yaml
from django import forms

from assessment import kinds
from assessment.kinds import BuilderContext, SpecError
from assessment.kinds.essay.builder import Builder as EssayBuilder
from assessment.kinds.flag import grader as flag_grader
from assessment.kinds.flag.builder import Builder as FlagBuilder

DEMO = Path(__file__).resolve().parents[2] / "courses" / "demo" / "courses"


def _demo_specs(kind: str) -> list[dict]:
    found = []
    for path in sorted(DEMO.glob("*/assignments/*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        if doc["kind"] == kind:
            found.append(doc["spec"])
    assert found, f"the demo course has no {kind}"
    return found


FLAG_SPECS = [
    *_demo_specs("flag"),
    {"flag": "FLAG{a}"},
    {"flag": " spaced ", "case_sensitive": False},
    flag_grader.prepare_spec({"flag": "FLAG{stored}"}),
    flag_grader.prepare_spec({"flag": "flag{lower}", "case_sensitive": False, "max_wrong_per_hour": 3}),
    {
        "flag_hash": flag_grader.hash_flag("x"),
        "case_sensitive": True,
        "max_wrong_per_hour": 5,
        "artifacts": ["auth.log", "dump.pcap"],
        "hints": [{"text": "Look at\nthe last lines.", "after_wrong": 2}, {"text": "svc-…", "after_wrong": 5}],
    },
    {"flag": "F", "artifacts": [], "hints": []},
    {"flag": "F", "hints": [{"text": "t", "after_wrong": 0, "note": "kept"}], "x-unknown": {"a": [1]}},
]

# Four criteria of three levels (0, 3, 5): the row operations below move, add and delete them.
FOUR_CRITERIA = {
    "rubric": {
        "criteria": [
            {"id": cid, "title": title, "description": "",
             "levels": [{"id": a, "title": a.title(), "points": 0}, {"id": b, "title": b.title(), "points": 3},
                        {"id": c, "title": c.title(), "points": 5}]}
            for cid, title, (a, b, c) in [
                ("qualification", "Qualification of the data and roles", ("missing", "partial", "complete")),
                ("ground", "Legal ground and consent", ("missing", "partial", "complete")),
                ("safeguards", "Security, secrecy and rights", ("missing", "partial", "complete")),
                ("writing", "Structure and sources", ("weak", "fair", "strong")),
            ]
        ]
    },
    "min_words": 400,
    "max_words": 900,
}  # fmt: skip
SINGLE_LEVEL = {"rubric": {"criteria": [{"id": "c", "title": "T", "levels": [{"id": "l", "title": "", "points": 1}]}]}}

ESSAY_SPECS = [
    *_demo_specs("essay"),
    FOUR_CRITERIA,
    SINGLE_LEVEL,
    {
        "rubric": {
            "criteria": [
                {
                    "id": "c1",
                    "title": " Padded ",
                    "description": "",
                    "levels": [
                        {"id": "a", "title": "Weak", "points": 0, "description": "Misses the point."},
                        {"id": "b", "title": "Good", "points": 2.5, "description": "", "extra": True},
                    ],
                    "weight": 2,
                }
            ],
            "note": "rubric key kept",
        },
        "min_words": 0,
        "max_words": None,
        "x-unknown": 1,
    },
]


@pytest.mark.parametrize("spec", FLAG_SPECS)
def test_a_flag_spec_comes_back_unchanged_through_the_builder(spec):
    kinds.validate_spec("flag", spec)
    builder = FlagBuilder(data=FlagBuilder.data_from_spec(spec))
    assert builder.is_valid(), builder.errors
    assert builder.to_spec() == spec


@pytest.mark.parametrize("spec", ESSAY_SPECS)
def test_an_essay_spec_comes_back_unchanged_through_the_builder(spec):
    kinds.validate_spec("essay", spec)
    builder = EssayBuilder(data=EssayBuilder.data_from_spec(spec))
    assert builder.is_valid(), builder.errors
    assert builder.to_spec() == spec
    assert list(builder.to_spec()) == list(spec)  # keys in the order the archive writes them


def test_both_kinds_name_their_builder():
    assert kinds.get("flag").builder is FlagBuilder
    assert kinds.get("essay").builder is EssayBuilder


def _posted(builder_cls, unbound) -> dict:
    """What a browser posts for an unbound builder: every field's shown value."""
    data = {}
    for name, field in unbound.fields.items():
        value = unbound[name].value()
        key = unbound.add_prefix(name)
        if isinstance(field, forms.BooleanField):
            if value:
                data[key] = "on"
        elif value is not None:
            data[key] = value if isinstance(value, list) else str(value)
    return data


# --- flag ---------------------------------------------------------------------------------------


def test_a_new_flag_needs_its_flag_on_the_flag_field():
    builder = FlagBuilder(data=_posted(FlagBuilder, FlagBuilder()))
    assert not builder.is_valid()
    assert list(builder.errors) == ["flag"]


def test_a_new_flag_writes_its_settings_out():
    data = {**_posted(FlagBuilder, FlagBuilder()), "builder-flag": "FLAG{new}"}
    builder = FlagBuilder(data=data)
    assert builder.is_valid(), builder.errors
    assert builder.to_spec() == {"flag": "FLAG{new}", "case_sensitive": True, "max_wrong_per_hour": 10}


def test_editing_a_stored_flag_keeps_its_hash_unless_a_new_flag_is_typed():
    stored = flag_grader.prepare_spec({"flag": "FLAG{old}"})
    unbound = FlagBuilder(spec=stored)
    assert "FLAG{old}" not in str(unbound) and 'value="FLAG' not in str(unbound)
    assert "kept as it is unless you type a new one" in str(unbound)
    kept = FlagBuilder(data=_posted(FlagBuilder, unbound))
    assert kept.is_valid() and kept.to_spec() == stored
    retyped = FlagBuilder(data={**_posted(FlagBuilder, unbound), "builder-flag": "FLAG{new}"})
    assert retyped.is_valid()
    prepared = flag_grader.prepare_spec(retyped.to_spec())
    assert flag_grader.check_flag(prepared, "FLAG{new}") and not flag_grader.check_flag(prepared, "FLAG{old}")


def test_case_sensitivity_cannot_change_without_typing_the_flag_again():
    stored = flag_grader.prepare_spec({"flag": "FLAG{Old}"})
    data = _posted(FlagBuilder, FlagBuilder(spec=stored))
    data.pop("builder-case_sensitive")
    builder = FlagBuilder(data=data)
    assert not builder.is_valid() and list(builder.errors) == ["case_sensitive"]
    builder = FlagBuilder(data={**data, "builder-flag": "FLAG{Old}"})
    assert builder.is_valid() and builder.to_spec()["case_sensitive"] is False


def test_attached_files_are_chosen_from_the_course_files():
    context = BuilderContext(files=[("auth.log", 120), ("dump.pcap", 4096)])
    page = str(FlagBuilder(spec={"flag": "F"}, context=context))
    assert "auth.log" in page and "dump.pcap" in page
    data = {**FlagBuilder.data_from_spec({"flag": "F"}), "builder-artifacts": ["dump.pcap"]}
    builder = FlagBuilder(data=data, context=context)
    assert builder.is_valid(), builder.errors
    assert builder.to_spec()["artifacts"] == ["dump.pcap"]


def test_a_file_removed_from_the_course_still_shows_as_attached_and_is_named_so():
    page = str(FlagBuilder(spec={"flag": "F", "artifacts": ["gone.log"]}, context=BuilderContext(files=[])))
    assert "gone.log" in page and "no longer among" in page


def test_hints_are_added_moved_and_deleted_with_buttons_and_nothing_else_changes():
    spec = {"flag": "F", "hints": [{"text": "one", "after_wrong": 1}, {"text": "two", "after_wrong": 4}]}
    data = FlagBuilder.data_from_spec(spec)

    def after(action, **typed):
        builder = FlagBuilder(data={**data, "builder_action": action})
        assert builder.edit_action() and not builder.is_bound
        again = FlagBuilder(data={**_posted(FlagBuilder, builder), **typed})
        assert again.is_valid(), again.errors
        return again.to_spec()

    assert after("up_hint-1")["hints"] == [spec["hints"][1], spec["hints"][0]]
    assert after("delete_hint-0")["hints"] == [spec["hints"][1]]
    added = after("add_hint", **{"builder-hint-2-text": "three"})
    assert added["hints"] == [*spec["hints"], {"text": "three", "after_wrong": 7}]
    assert after("down_hint-1") == spec  # the last row cannot go down
    assert not FlagBuilder(data=data).edit_action()


def test_an_empty_hint_is_refused_on_its_own_field():
    data = {**FlagBuilder.data_from_spec({"flag": "F", "hints": [{"text": "a", "after_wrong": 1}]}),
            "builder-hint-0-text": "  "}  # fmt: skip
    builder = FlagBuilder(data=data)
    assert not builder.is_valid() and list(builder.errors) == ["hint-0-text"]
    assert 'role="alert"' in str(builder)
    both = FlagBuilder(data={**data, "builder-max_wrong_per_hour": "0"})
    assert not both.is_valid() and set(both.errors) == {"hint-0-text", "max_wrong_per_hour"}


@pytest.mark.parametrize(
    "path,field",
    [("flag_hash", "flag"), ("max_wrong_per_hour", "max_wrong_per_hour"), ("artifacts[0]", "artifacts"),
     ("hints[1].after_wrong", "hint-1-after_wrong"), ("hints[0]", "hint-0-text"), ("elsewhere", "__all__")],
)  # fmt: skip
def test_flag_spec_errors_land_on_the_field_their_path_names(path, field):
    spec = {"flag": "F", "hints": [{"text": "a", "after_wrong": 1}, {"text": "b", "after_wrong": 2}]}
    builder = FlagBuilder(data=FlagBuilder.data_from_spec(spec))
    assert builder.is_valid()
    builder.add_spec_error(SpecError(path, "wrong here"))
    assert builder.errors[field] == ["wrong here"]


def test_locked_hints_are_never_in_the_public_spec():
    spec = {"flag": "F", "artifacts": ["a.log"], "hints": [{"text": "secret hint", "after_wrong": 2}]}
    assert "secret hint" not in repr(kinds.public_spec("flag", flag_grader.prepare_spec(spec)))
    assert flag_grader.unlocked_hints(spec, wrong=1) == []
    assert flag_grader.unlocked_hints(spec, wrong=2) == ["secret hint"]
    assert flag_grader.next_hint_after(spec, wrong=1) == 1


@pytest.mark.parametrize(
    "spec,path",
    [({"flag": "F", "hints": [{"text": "", "after_wrong": 1}]}, "hints[0].text"),
     ({"flag": "F", "hints": [{"text": "a", "after_wrong": -1}]}, "hints[0].after_wrong"),
     ({"flag": "F", "hints": "a"}, "hints"),
     ({"flag": "F", "artifacts": ["a.log", "a.log"]}, "artifacts[1]"),
     ({"flag": "F", "artifacts": ["../etc/passwd"]}, "artifacts[0]")],
)  # fmt: skip
def test_the_flag_grader_refuses_bad_hints_and_artifacts_naming_the_path(spec, path):
    with pytest.raises(SpecError) as exc:
        kinds.validate_spec("flag", spec)
    assert exc.value.path == path


# --- essay --------------------------------------------------------------------------------------


def test_a_new_essay_builder_offers_a_criterion_with_levels_and_every_input_has_a_label():
    page = str(EssayBuilder())
    ids = set(re.findall(r'<(?:input|textarea)(?![^>]*type="hidden")[^>]*id="([^"]+)"', page))
    assert ids and all(f'for="{i}"' in page for i in ids), ids - set(re.findall(r'for="([^"]+)"', page))


def test_a_new_rubric_needs_a_criterion_title():
    builder = EssayBuilder(data=_posted(EssayBuilder, EssayBuilder()))
    assert not builder.is_valid() and list(builder.errors) == ["c0-title"]


def test_a_rubric_with_no_level_no_criterion_or_min_above_max_is_refused_on_its_field():
    base = EssayBuilder.data_from_spec(FOUR_CRITERIA)
    cases = [({"builder-c1-levels": "0"}, "c1-levels"), ({"builder-criteria": "0"}, "criteria"),
             ({"builder-c2-title": " "}, "c2-title"), ({"builder-min_words": "1000"}, "min_words"),
             ({"builder-c0-l1-points": "-1"}, "c0-l1-points")]  # fmt: skip
    for change, field in cases:
        builder = EssayBuilder(data={**base, **change})
        assert not builder.is_valid()
        assert list(builder.errors) == [field], (change, builder.errors)


def test_a_rubric_worth_nothing_is_refused_by_the_grader_on_the_criteria():
    data = EssayBuilder.data_from_spec(SINGLE_LEVEL)
    builder = EssayBuilder(data={**data, "builder-c0-l0-points": "0"})
    assert not builder.is_valid() and list(builder.errors) == ["criteria"]


def test_criteria_and_levels_are_added_moved_and_deleted_keeping_their_ids():
    demo = FOUR_CRITERIA
    data = EssayBuilder.data_from_spec(demo)

    def after(action):
        builder = EssayBuilder(data={**data, "builder_action": action})
        assert builder.edit_action() and not builder.is_bound and not builder.errors
        again = EssayBuilder(data=_posted(EssayBuilder, builder))
        return again, again.is_valid()

    criteria = demo["rubric"]["criteria"]
    again, valid = after("up_criterion-1")
    assert valid and [c["id"] for c in again.to_spec()["rubric"]["criteria"]][:2] == [
        criteria[1]["id"],
        criteria[0]["id"],
    ]
    again, valid = after("delete_level-0-2")
    assert valid and again.to_spec()["rubric"]["criteria"][0]["levels"] == criteria[0]["levels"][:2]
    again, valid = after("down_level-3-0")
    assert valid and [lv["id"] for lv in again.to_spec()["rubric"]["criteria"][3]["levels"]] == [
        "fair",
        "weak",
        "strong",
    ]
    again, valid = after("add_level-0")
    assert valid and again.to_spec()["rubric"]["criteria"][0]["levels"][3]["points"] == 6
    again, valid = after("add_criterion")
    assert not valid and list(again.errors) == ["c4-title"]  # the new criterion waits for its title
    named = EssayBuilder(data={**_posted(EssayBuilder, again), "builder-c4-title": "New"})
    assert named.is_valid(), named.errors
    new = named.to_spec()["rubric"]["criteria"][4]
    assert new["id"] not in {c["id"] for c in criteria} and [lv["points"] for lv in new["levels"]] == [0, 1, 2]
    again, valid = after("delete_criterion-3")
    assert valid and [c["id"] for c in again.to_spec()["rubric"]["criteria"]] == [c["id"] for c in criteria[:3]]


@pytest.mark.parametrize(
    "path,field",
    [("rubric.criteria", "criteria"), ("rubric.criteria[1].title", "c1-title"), ("rubric.criteria[1].id", "c1-title"),
     ("rubric.criteria[0].levels", "c0-levels"), ("rubric.criteria[0].levels[1].points", "c0-l1-points"),
     ("rubric.criteria[0].levels[1].id", "c0-l1-title"), ("max_words", "max_words"),
     ("rubric.criteria[9].title", "__all__")],
)  # fmt: skip
def test_essay_spec_errors_land_on_the_field_their_path_names(path, field):
    builder = EssayBuilder(data=EssayBuilder.data_from_spec(FOUR_CRITERIA))
    assert builder.is_valid()
    builder.add_spec_error(SpecError(path, "wrong here"))
    assert builder.errors[field] == ["wrong here"]


def test_a_level_descriptor_that_is_not_text_is_refused():
    spec = {"rubric": {"criteria": [{"id": "c", "title": "T", "levels": [{"id": "l", "title": "", "points": 1,
                                                                           "description": 3}]}]}}  # fmt: skip
    with pytest.raises(SpecError) as exc:
        kinds.validate_spec("essay", spec)
    assert exc.value.path == "rubric.criteria[0].levels[0].description"


# --- through the course: an unchanged edit is no new version and exports the same bytes ----------


@pytest.mark.parametrize("kind", ["flag", "essay"])
def test_saving_the_builder_unchanged_keeps_the_version_and_the_archive_bytes(db, kind):
    from courses import archive, services
    from courses.models import Assignment, CourseFile
    from tests.factories import CourseFactory, ModuleFactory

    course = CourseFactory(code=f"round-{kind}")
    module = ModuleFactory(course=course, position=1)
    assignment = Assignment.objects.create(course=course, module=module, title=kind, kind=kind, slug=kind)
    spec = _demo_specs(kind)[0]
    for name in spec.get("artifacts", []):
        CourseFile.objects.create(course=course, name=name, content=b"log\n", size=4, content_kind="log")
    services.assignment_version_create(assignment=assignment, spec=spec)
    assignment.refresh_from_db()
    before = archive.course_export(course=course)
    builder_cls = kinds.get(kind).builder
    editable = services.editable_spec(kind=kind, spec=assignment.current_version.spec)
    builder = builder_cls(data=builder_cls.data_from_spec(editable))
    assert builder.is_valid(), builder.errors
    version = services.assignment_spec_apply(assignment=assignment, spec=builder.to_spec(), prompt_markdown="")
    assert version.pk == assignment.current_version_id and version.number == 1
    assert archive.course_export(course=course) == before


def test_the_model_answer_is_edited_in_the_builder_and_never_reaches_the_learner():
    builder = EssayBuilder()  # a new essay: an empty model answer field, labelled
    assert 'name="essay-model_answer"' in str(builder) or "model_answer" in builder.fields
    spec = {**ESSAY_SPECS[0], "model_answer": "Une réponse modèle."}
    posted = EssayBuilder.data_from_spec(spec)
    posted[f"{EssayBuilder(data=posted).prefix}-model_answer"] = "Une autre réponse modèle."
    edited = EssayBuilder(data=posted)
    assert edited.is_valid(), edited.errors
    assert edited.to_spec()["model_answer"] == "Une autre réponse modèle."
    assert "model_answer" not in kinds.public_spec("essay", edited.to_spec())
    with pytest.raises(SpecError) as exc:
        kinds.validate_spec("essay", {**spec, "model_answer": ["not text"]})
    assert exc.value.path == "model_answer"

"""The deid kind: spec validation naming the field, the metrics against small tables computed by
hand, the grader's right, wrong and partial releases, truthfulness, the public spec, the archive
round trip, try_grader on a YAML file, and the notices in French and Arabic."""

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from assessment import kinds
from assessment.kinds import SpecError
from assessment.kinds.deid import grader, metrics, table
from courses import archive
from tests.assessment.deid_fixtures import REFERENCE_RELEASE, RIGHT_ANSWER, SPEC, TABLE, WRONG_ANSWER

# --- the spec -----------------------------------------------------------------------------------


def test_the_fixture_spec_is_valid():
    kinds.validate_spec("deid", SPEC)


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"table": ""}, "table"),
        ({"table": "A,A\n1,2\n"}, "table"),
        ({"table": "A,B\n1\n"}, "table"),
        ({"table": "NOM,AGE\n"}, "table"),
        ({"direct_identifiers": ["PRENOM"]}, "direct_identifiers[0]"),
        ({"direct_identifiers": "NOM"}, "direct_identifiers"),
        ({"quasi_identifiers": []}, "quasi_identifiers"),
        ({"quasi_identifiers": ["CODE_POSTAL", "AGE"]}, "quasi_identifiers"),
        ({"quasi_identifiers": ["NOM", "AGE"]}, "quasi_identifiers"),
        ({"sensitive": "AGE"}, "sensitive"),
        ({"sensitive": "GROUPE"}, "sensitive"),
        ({"k": 1}, "k"),
        ({"k": 10}, "k"),
        ({"k": True}, "k"),
        ({"l": 6}, "l"),
        ({"max_loss": 1.5}, "max_loss"),
        ({"max_loss": "0.5"}, "max_loss"),
        ({"answer_mode": "pdf"}, "answer_mode"),
        ({"entrypoint": "1release"}, "entrypoint"),
        ({"reference_release": ""}, "reference_release"),
        ({"reference_release": TABLE}, "reference_release"),  # keeps NOM: not a valid release
        ({"reference_release": REFERENCE_RELEASE.replace("30-39,*,202**", "30-39,F,202**", 1)}, "reference_release"),
        ({"reference_solution": 3}, "reference_solution"),
        ({"extra": 1}, "extra"),
    ],
)
def test_a_malformed_spec_names_its_field(change, path):
    with pytest.raises(SpecError) as err:
        kinds.validate_spec("deid", {**SPEC, **change})
    assert err.value.path == path, err.value


def test_the_table_is_capped_in_rows_columns_and_size():
    many_rows = "A,B\n" + "1,x\n" * (table.MAX_ROWS + 1)
    wide = ",".join(f"c{i}" for i in range(table.MAX_COLUMNS + 1)) + "\n"
    for text, code in ((many_rows, "too_many_rows"), (wide, "too_many_columns"), ("A\n" + "x" * 300, "cell_too_long"),
                       ("A\n" + "1\n" * 150_000, "too_large"), ('A\n"open', "malformed")):  # fmt: skip
        with pytest.raises(table.TableError) as err:
            table.parse(text)
        assert err.value.code == code


def test_public_spec_shows_the_working_table_and_hides_the_references():
    public = kinds.public_spec("deid", SPEC)
    assert "reference_release" not in public and "reference_solution" not in public
    assert public["table"] == TABLE and public["row_count"] == 9
    assert {c["name"]: c["role"] for c in public["columns"]}["NOM"] == "direct"
    assert {c["name"]: c["role"] for c in public["columns"]}["DIAGNOSTIC"] == "sensitive"
    assert "REFERENCE" not in json.dumps(public) and "202**" not in json.dumps(public)


def test_the_archive_round_trip_keeps_the_spec():
    kinds.validate_spec("deid", SPEC)
    editable = kinds.editable_spec("deid", SPEC)
    assert archive.safe_load(archive._dump(editable).decode()) == SPEC


# --- the metrics, against hand-computed tables ---------------------------------------------------

SMALL = {
    "table": "ID,AGE,VILLE,DIAG\n1,20,Rabat,A\n2,24,Rabat,B\n3,30,Salé,A\n4,40,Fès,C\n",
    "direct_identifiers": ["ID"],
    "quasi_identifiers": ["AGE", "VILLE"],
    "sensitive": "DIAG",
    "k": 2,
    "l": 2,
    "max_loss": 0.5,
    "answer_mode": "csv",
    "entrypoint": "release",
}


def _measure(csv_text: str, spec=SMALL) -> dict:
    report = grader.evaluate_csv(spec, csv_text)
    assert not report.fatal, report.fatal
    return report.measures


def test_metrics_of_a_small_release_match_the_hand_computation():
    # Classes: (20-29, Rabat) rows 1-2 with A, B; ({Salé, Fès} is the set, [30, 40] the interval) rows 3-4 with A, C.
    m = _measure('AGE,VILLE,DIAG\n20-29,Rabat,A\n20-29,Rabat,B\n"[30, 40]","{Salé, Fès}",A\n"[30, 40]",Salé|Fès,C\n')
    # AGE range 20..40 = 20: 20-29 -> 9/20 = 0.45 (twice); [30, 40] -> 10/20 = 0.5 (twice).
    # VILLE has 3 values: Rabat -> 0 (twice); a set of 2 -> (2-1)/(3-1) = 0.5 (twice).
    # loss = (0.45*2 + 0.5*2 + 0 + 0.5*2) / 8 = 2.9 / 8 = 0.3625
    assert m["loss"] == 0.3625 and m["suppressed_share"] == 0
    # The two set spellings differ as text, so they are two classes of one row each.
    assert m["k"] == 1 and m["classes"] == 3
    m = _measure('AGE,VILLE,DIAG\n20-29,Rabat,A\n20-29,Rabat,B\n"[30, 40]",*,A\n"[30, 40]",*,C\n')
    assert (m["k"], m["l"], m["classes"]) == (2, 2, 2)
    # (0.45*2 + 0.5*2 + 0 + 0 + 1 + 1) / 8 = 3.9 / 8 = 0.4875; suppressed 2 / 8.
    assert m["loss"] == 0.4875 and m["suppressed_share"] == 0.25


def test_a_row_left_out_counts_as_suppressed_cells():
    m = _measure("AGE,VILLE,DIAG\n*,*,A\n*,*,B\n*,*,A\n")
    assert (m["k"], m["l"], m["rows_released"]) == (3, 2, 3)
    assert m["loss"] == 1.0 and m["suppressed_share"] == 1.0


def test_masks_open_intervals_and_the_distinct_l_of_each_class():
    spec = {**SMALL, "table": "ID,CP,AGE,DIAG\n1,20250,61,A\n2,20230,70,A\n3,10100,30,B\n4,10170,45,B\n",
            "quasi_identifiers": ["CP", "AGE"], "l": 1}  # fmt: skip
    m = _measure("CP,AGE,DIAG\n202**,60+,A\n202**,60+,A\n101**,30-49,B\n101**,30-49,B\n", spec)
    assert (m["k"], m["l"]) == (2, 1)
    # CP: 4 values, each mask covers 2 -> 1/3. AGE range 30..70 = 40: 60+ -> (70-60)/40 = 0.25; 30-49 -> 19/40.
    assert m["loss"] == round((4 / 3 + 0.25 * 2 + 19 / 40 * 2) / 8, 4)
    assert m["smallest_class"]["size"] == 2


def test_generalization_forms_cover_the_source_values_they_say():
    col = metrics.Column(["20", "24", "30", "40"])
    assert col.read("20-29")[0] == 0b0011 and col.read("[20, 30)")[0] == 0b0011
    assert col.read("(20, 30]")[0] == 0b0110 and col.read("30+")[0] == 0b1100
    assert col.read("*")[0] == 0b1111 and col.read("")[1] == 1.0
    assert col.read("50-59")[0] == 0 and col.read("2*")[0] == 0b0011 and col.read("2**")[0] == 0
    assert col.read("{20, 40}")[0] == 0b1001 and col.read("19")[0] == 0


def test_the_matching_finds_a_perfect_assignment_when_greedy_would_not():
    # Row 0 covers sources {0, 1}, row 1 only {0}: the most constrained goes first, or the path is re-routed.
    assert metrics.match([0b11, 0b01]).ok
    assert metrics.match([0b01, 0b11, 0b110]).ok
    bad = metrics.match([0b01, 0b01])
    assert not bad.ok and bad.reason == "copy"
    assert metrics.match([0b01, 0]).reason == "none"


# --- grading ------------------------------------------------------------------------------------


def test_the_right_release_scores_three_and_names_the_smallest_class():
    result = kinds.get_grader("deid")(SPEC, RIGHT_ANSWER)
    assert (result.score, result.max_score) == (3, 3)
    fb = result.feedback
    assert fb["kind"] == "deid" and fb["k"] == 3 and fb["l"] == 3 and fb["loss"] == 0.4868
    assert fb["smallest_class"] == {"values": {"AGE": "30-39", "SEXE": "*", "CODE_POSTAL": "202**"}, "size": 3,
                                    "distinct": 3}  # fmt: skip
    assert fb["messages"] == [{"code": "deid.targets_met", "params": {}}]


def test_the_source_without_its_identifiers_scores_zero_with_how_far_it_is():
    result = kinds.get_grader("deid")(SPEC, WRONG_ANSWER)
    assert result.score == 0 and result.feedback["k"] == 1 and result.feedback["loss"] == 0
    codes = [m["code"] for m in result.feedback["messages"]]
    assert codes == ["deid.k_missed", "deid.l_missed", "deid.k_first"]
    assert result.feedback["messages"][0]["params"] == {"k": 1, "target": 3, "short": 2}


def test_a_release_that_meets_k_but_spends_too_much_scores_partly():
    release = "AGE,SEXE,CODE_POSTAL,DIAGNOSTIC\n" + "".join(
        f"*,*,*,{line.split(',')[-1]}\n" for line in TABLE.strip().splitlines()[1:]
    )
    result = kinds.get_grader("deid")(SPEC, {"csv": release})
    assert result.score == 2 and result.feedback["loss"] == 1.0
    assert [m["code"] for m in result.feedback["messages"]] == ["deid.loss_over"]


def test_a_direct_identifier_fully_suppressed_may_stay():
    lines = REFERENCE_RELEASE.strip().splitlines()
    release = "NOM," + lines[0] + "\n" + "".join(f"*,{line}\n" for line in lines[1:])
    assert kinds.get_grader("deid")(SPEC, {"csv": release}).score == 3


def test_an_answer_in_a_mode_the_spec_does_not_take_is_no_answer():
    result = kinds.get_grader("deid")({**SPEC, "answer_mode": "code"}, RIGHT_ANSWER)
    assert result.score == 0 and result.feedback["messages"][0]["code"] == "deid.no_answer"


def test_validate_answer_refuses_empty_and_both_on_their_field():
    for answer, field in (({"csv": " "}, "csv"), ({"csv": "a", "code": "b"}, "csv"), ({}, "csv")):
        with pytest.raises(kinds.AnswerRefused) as err:
            kinds.validate_answer("deid", SPEC, answer)
        assert err.value.field == field
    with pytest.raises(kinds.AnswerRefused) as err:
        kinds.validate_answer("deid", {**SPEC, "answer_mode": "code"}, {"csv": "x"})
    assert err.value.field == "code"
    kinds.validate_answer("deid", SPEC, RIGHT_ANSWER)


def test_the_learner_form_gives_the_answer_of_the_chosen_mode():
    form_class = kinds.get("deid").learner_form
    form = form_class(data={"mode": "csv", "csv": "A\n1\n"}, spec=SPEC)
    assert form.is_valid() and form.answer() == {"csv": "A\n1\n"}
    form = form_class(data={"mode": "code", "code": "def release(df):\n    return df\n"}, spec=SPEC)
    assert form.is_valid() and form.answer() == {"code": "def release(df):\n    return df\n"}
    form = form_class(spec={**SPEC, "answer_mode": "csv"})
    assert list(form.fields) == ["csv"]
    assert "def release(df)" in form_class(spec=SPEC)["code"].value() and "'NOM', 'CIN'" in form_class(spec=SPEC)[
        "code"].value()  # fmt: skip


def test_code_that_makes_the_reference_release_scores_three_in_the_sandbox():
    result = kinds.get_grader("deid")(SPEC, {"code": SPEC["reference_solution"]})
    assert result.score == 3, result.feedback
    assert result.feedback["smallest_class"]["size"] == 3


# --- notices, in the reader's language -----------------------------------------------------------


def test_notices_render_in_french_and_arabic():
    feedback = kinds.get_grader("deid")(SPEC, WRONG_ANSWER).feedback
    with translation.override("fr"):
        fr = kinds.feedback_notices(feedback)
    with translation.override("ar"):
        ar = kinds.feedback_notices(feedback)
    with translation.override("en"):
        en = kinds.feedback_notices(feedback)
    assert len(fr) == len(ar) == 3
    assert "k-anonymity" in en[0]
    assert fr[0] != en[0] and "k-anonymat" in fr[0]
    assert ar[0] != en[0] and any("\u0600" <= ch <= "\u06ff" for ch in ar[0])


def test_every_notice_code_has_words():
    from assessment.kinds.deid import messages

    codes = (
        "no_answer unknown_column missing_column direct_identifier_kept too_many_rows untrue_cell untrue_sensitive"
        " untrue_row untrue_copy k_missed l_missed loss_over targets_met k_first missing_function load_error"
        " code_error no_result table_empty table_ragged"
    ).split()
    params = dict(column="X", released=3, source=2, row=1, value="v", k=1, target=2, short=1, l=1, loss=0.5,
                  max=0.4, over=0.1, name="f", error="E", line=2, got=1, want=2)  # fmt: skip
    for code in codes:
        assert messages.notice_text(code, params), code
    assert messages.notice_text("unknown", {}) == "" and messages.notice_text("k_missed", {}) == ""


# --- try_grader ----------------------------------------------------------------------------------


def _try(tmp_path, answer: dict) -> dict:
    doc = {"format": "kafaat-assignment/1", "kind": "deid", "title": "Admissions", "points": 6,
           "spec": kinds.editable_spec("deid", SPEC)}  # fmt: skip
    (tmp_path / "deid.yaml").write_bytes(archive._dump(doc))
    (tmp_path / "answer.json").write_text(json.dumps(answer), encoding="utf-8")
    out = io.StringIO()
    call_command("try_grader", str(tmp_path / "deid.yaml"), str(tmp_path / "answer.json"), stdout=out)
    return json.loads(out.getvalue())


def test_try_grader_grades_a_right_and_a_wrong_release(tmp_path):
    right = _try(tmp_path, RIGHT_ANSWER)
    assert right["kind"] == "deid" and right["score"] == 3 and right["points"] == 6
    wrong = _try(tmp_path, WRONG_ANSWER)
    assert wrong["score"] == 0 and wrong["feedback"]["k"] == 1


def test_try_grader_names_the_field_of_a_bad_spec(tmp_path):
    doc = {"format": "kafaat-assignment/1", "kind": "deid", "spec": {**SPEC, "k": 1}}
    (tmp_path / "bad.yaml").write_bytes(archive._dump(doc))
    (tmp_path / "answer.json").write_text(json.dumps(RIGHT_ANSWER), encoding="utf-8")
    with pytest.raises(CommandError, match="field spec.k"):
        call_command("try_grader", str(tmp_path / "bad.yaml"), str(tmp_path / "answer.json"), stdout=io.StringIO())


# --- the learner's page --------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_learner_page_shows_roles_preview_targets_and_both_answer_fields(client):
    import lxml.html
    from django.urls import reverse

    from tests.factories import CourseFactory
    from tests.grading.helpers import learner_for, make_assignment
    from tests.twofactor import login_with_2fa

    assignment = make_assignment("deid", SPEC, course=CourseFactory(language="fr"))
    login_with_2fa(client, learner_for(assignment))
    url = reverse("courses:assignment", kwargs={"code": assignment.course.code, "pk": assignment.pk})
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    doc = lxml.html.fromstring(response.content)
    (section,) = doc.xpath("//section[@class='deid']")
    roles = {tr.xpath("./td[1]")[0].text_content(): tr.xpath("./td[2]")[0].text_content()
             for tr in section.xpath(".//table[@class='deid-roles']/tbody/tr")}  # fmt: skip
    assert roles["NOM"].startswith("Direct identifier") and roles["DIAGNOSTIC"].startswith("Sensitive")
    assert len(section.xpath(".//table[@class='deid-preview']/tbody/tr")) == 9
    assert "(k = 3)" in section.text_content() and "202**" not in response.content.decode()
    assert doc.xpath("//textarea[@name='csv']") and doc.xpath("//textarea[@name='code']")
    assert doc.xpath("//input[@name='mode'][@value='code']")


def test_the_feedback_template_shows_measured_against_target_and_the_smallest_class():
    from django.template.loader import render_to_string

    feedback = kinds.get_grader("deid")(SPEC, WRONG_ANSWER).feedback
    with translation.override("en"):
        html = render_to_string("assessment/_deid_feedback.html", {"feedback": feedback, "language": "fr"})
    assert "deid-measures" in html and "≥ 3" in html and "CODE_POSTAL = 20230" in html
    assert "Smallest class (1 row)" in html

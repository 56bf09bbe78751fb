"""Question banks: their pages, their checks, the snapshot a quiz version freezes at publish time,
the per-attempt draw, and their place in the course archive."""

import dataclasses
import io
import zipfile

import pytest
from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessment import kinds
from assessment.kinds.quiz.attempt import attempt_spec
from courses import archive, banks, services
from courses.models import Assignment, Competency, Course, QuestionBank
from kernel.errors import ApplicationError, PermissionDenied
from tests.factories import CourseFactory, ModuleFactory, UserFactory, make_quiz
from tests.twofactor import login_with_2fa

FIXED = {
    "id": "f1",
    "type": "single",
    "prompt": "Fixed question",
    "choices": [{"id": "a", "text": "yes"}, {"id": "b", "text": "no"}],
    "answer": ["a"],
}


def bank_question(i: int) -> dict:
    return {
        "id": f"b{i}",
        "type": "single",
        "prompt": f"Bank question {i}",
        "choices": [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}, {"id": "c", "text": "C"}],
        "answer": ["a" if i % 2 == 0 else "b"],
    }


def quiz_spec(count=3, tag="triage", points=2, **options):
    return {"questions": [FIXED], "draws": [{"tag": tag, "count": count, "points": points}], **options}


@pytest.fixture
def setup(db):
    course = CourseFactory(code="bank-1", status="draft")
    module = ModuleFactory(course=course, position=1)
    instructor, other = UserFactory(), UserFactory()
    course.instructors.add(instructor)
    CourseFactory(code="bank-other").instructors.add(other)
    competency = Competency.objects.create(code="triage", name="Triage")
    bank = QuestionBank.objects.create(
        course=course, competency=competency, questions=[bank_question(i) for i in range(10)]
    )
    return {"course": course, "module": module, "instructor": instructor, "other": other, "competency": competency,
            "bank": bank}  # fmt: skip


def _quiz(setup, spec=None, **fields):
    return make_quiz(module=setup["module"], spec=spec or quiz_spec(), **fields)


# --- the service and its checks ---------------------------------------------------------------


def test_a_bank_question_is_checked_by_the_quiz_rules_and_nothing_is_saved(setup):
    bad = [bank_question(0), {**bank_question(1), "answer": ["z"]}]
    with pytest.raises(ApplicationError) as exc:
        banks.question_bank_save(user=setup["instructor"], course=setup["course"], competency=setup["competency"],
                                 questions=bad)  # fmt: skip
    assert exc.value.field == "questions[1].answer"
    setup["bank"].refresh_from_db()
    assert len(setup["bank"].questions) == 10


def test_another_instructor_cannot_save_a_bank(setup):
    with pytest.raises(PermissionDenied):
        banks.question_bank_save(user=setup["other"], course=setup["course"], competency=setup["competency"],
                                 questions=[bank_question(0)])  # fmt: skip


# --- publish time -------------------------------------------------------------------------------


def test_publishing_a_quiz_freezes_the_drawn_bank_and_the_snapshot_is_never_authored(setup):
    quiz = _quiz(setup)
    stored = quiz.current_version.spec
    assert stored["pools"] == {"triage": [bank_question(i) for i in range(10)]}
    assert "pools" not in services.editable_spec(kind="quiz", spec=stored)
    # The bank changes: the published version keeps what it froze.
    banks.question_bank_save(user=setup["instructor"], course=setup["course"], competency=setup["competency"],
                             questions=[bank_question(i) for i in range(4)])  # fmt: skip
    quiz.current_version.refresh_from_db()
    assert len(quiz.current_version.spec["pools"]["triage"]) == 10


def test_an_authored_pools_key_is_replaced_by_the_bank(setup):
    quiz = _quiz(setup, spec={**quiz_spec(), "pools": {"triage": [bank_question(99)]}})
    assert len(quiz.current_version.spec["pools"]["triage"]) == 10


def test_a_draw_larger_than_its_bank_is_refused_on_its_count(setup):
    with pytest.raises(ApplicationError) as exc:
        _quiz(setup, spec=quiz_spec(count=11))
    assert exc.value.field == "spec.draws[0].count"
    assert "10" in exc.value.message and "11" in exc.value.message


def test_two_draws_on_one_tag_count_together(setup):
    spec = {"questions": [FIXED], "draws": [{"tag": "triage", "count": 6}, {"tag": "triage", "count": 5}]}
    with pytest.raises(ApplicationError) as exc:
        _quiz(setup, spec=spec)
    assert exc.value.field.startswith("spec.draws[")


@pytest.mark.parametrize(
    "draws,field",
    [
        ([{"tag": "nowhere", "count": 1}], "spec.draws[0].tag"),
        ([{"tag": "triage", "count": 0}], "spec.draws[0].count"),
        ([{"tag": "triage", "count": "3"}], "spec.draws[0].count"),
        ([{"tag": "triage", "count": True}], "spec.draws[0].count"),
        ([{"tag": "triage", "count": 1, "points": -1}], "spec.draws[0].points"),
        ([{"count": 1}], "spec.draws[0].tag"),
        (["triage"], "spec.draws[0]"),
        ("triage", "spec.draws"),
    ],
)
def test_a_malformed_draw_is_a_field_error(setup, draws, field):
    with pytest.raises(ApplicationError) as exc:
        _quiz(setup, spec={"questions": [FIXED], "draws": draws})
    assert exc.value.field == field


def test_a_bank_of_another_course_is_not_drawn_from(setup):
    elsewhere = ModuleFactory(course=CourseFactory(code="bank-3"), position=1)
    with pytest.raises(ApplicationError) as exc:
        make_quiz(module=elsewhere, spec=quiz_spec())
    assert exc.value.field == "spec.draws[0].tag"


def test_saving_an_unchanged_quiz_after_its_bank_changed_freezes_the_new_bank(setup):
    setup["course"].status = "published"
    setup["course"].save()
    quiz = _quiz(setup)
    before = quiz.current_version
    args = {"user": setup["instructor"], "assignment": quiz, "prompt_markdown": "", "settings": {"title": "Quiz"}}
    services.assignment_update(spec=quiz_spec(), **args)
    quiz.refresh_from_db()
    assert quiz.current_version_id == before.pk  # nothing changed: no new version
    banks.question_bank_save(user=setup["instructor"], course=setup["course"], competency=setup["competency"],
                             questions=[bank_question(i) for i in range(5)])  # fmt: skip
    services.assignment_update(spec=quiz_spec(), **args)
    quiz.refresh_from_db()
    assert quiz.current_version.number == before.number + 1
    assert len(quiz.current_version.spec["pools"]["triage"]) == 5
    before.refresh_from_db()
    assert len(before.spec["pools"]["triage"]) == 10


def test_saving_a_bank_brings_the_quizzes_drawing_from_it_up_to_date_and_answered_versions_keep_theirs(setup):
    from grading.models import Submission

    setup["course"].status = "published"
    setup["course"].save()
    quiz, other = _quiz(setup), _quiz(setup, spec={"questions": [FIXED]}, title="No draws")
    answered = quiz.current_version
    Submission.objects.create(user=UserFactory(), assignment=quiz, version=answered, attempt=1, answer={})
    other_version = other.current_version_id
    new_questions = [bank_question(i) for i in range(4)]
    updated = services.question_bank_update(
        user=setup["instructor"], course=setup["course"], competency=setup["competency"], questions=new_questions
    )
    quiz.refresh_from_db()
    other.refresh_from_db()
    assert updated == [quiz]
    assert quiz.current_version.number == answered.number + 1
    assert quiz.current_version.spec["pools"]["triage"] == new_questions
    answered.refresh_from_db()
    assert len(answered.spec["pools"]["triage"]) == 10  # the answered version keeps its draw
    assert other.current_version_id == other_version  # a quiz not drawing from it is left alone
    # Saved again unchanged: nothing to bring up to date.
    assert (
        services.question_bank_update(
            user=setup["instructor"], course=setup["course"], competency=setup["competency"], questions=new_questions
        )
        == []
    )


def test_a_draft_quiz_nobody_answered_is_brought_up_to_date_in_place(setup):
    quiz = _quiz(setup)
    version = quiz.current_version_id
    services.question_bank_update(user=setup["instructor"], course=setup["course"], competency=setup["competency"],
                                  questions=[bank_question(i) for i in range(3)])  # fmt: skip
    quiz.refresh_from_db()
    assert quiz.current_version_id == version
    assert len(quiz.current_version.spec["pools"]["triage"]) == 3


def test_a_bank_left_smaller_than_a_quiz_draws_is_refused_naming_the_quiz_and_nothing_changes(setup):
    quiz = _quiz(setup, spec=quiz_spec(count=5), title="Exam")
    version = quiz.current_version_id
    with pytest.raises(ApplicationError) as exc:
        services.question_bank_update(user=setup["instructor"], course=setup["course"],
                                      competency=setup["competency"], questions=[bank_question(0)])  # fmt: skip
    assert exc.value.field == "questions" and "Exam" in exc.value.message and "5" in exc.value.message
    setup["bank"].refresh_from_db()
    quiz.refresh_from_db()
    assert len(setup["bank"].questions) == 10 and quiz.current_version_id == version
    assert len(quiz.current_version.spec["pools"]["triage"]) == 10


def test_the_assignment_form_shows_a_too_large_draw_on_the_spec_field(client, setup):
    login_with_2fa(client, setup["instructor"])
    url = reverse("courses:author-assignment-new", kwargs={"code": "bank-1", "module_pk": setup["module"].pk})
    data = {"title": "Drawn", "kind": "quiz", "points": "10", "pass_percent": "50", "late_penalty_per_day": "0",
            "spec_text": archive._dump(quiz_spec(count=12)).decode()}  # fmt: skip
    response = client.post(url, data)
    assert response.status_code == 400
    assert "draws[0].count" in response.context["source"].errors["spec_text"][0]
    assert not Assignment.objects.filter(course=setup["course"]).exists()


# --- the attempt's questions ------------------------------------------------------------------


def _ids(spec):
    return [q["id"] for q in spec["questions"]]


def test_an_attempt_draws_its_questions_with_the_draws_points_and_the_same_seed_gives_the_same(setup):
    stored = _quiz(setup).current_version.spec
    spec = attempt_spec(stored, "1:2:1")
    assert spec == attempt_spec(stored, "1:2:1")
    assert "pools" not in spec and "draws" not in spec
    assert _ids(spec)[0] == "f1" and len(spec["questions"]) == 4
    drawn = spec["questions"][1:]
    assert all(q["id"].startswith("triage:b") and q["points"] == 2 for q in drawn)
    assert len({q["id"] for q in drawn}) == 3
    assert len({tuple(_ids(attempt_spec(stored, f"1:{n}:1"))) for n in range(6)}) > 1


def test_two_draws_on_one_tag_never_draw_the_same_question(setup):
    draws = [{"tag": "triage", "count": 5}, {"tag": "triage", "count": 5}]
    stored = _quiz(setup, spec={"questions": [FIXED], "draws": draws}).current_version.spec
    for n in range(5):
        ids = _ids(attempt_spec(stored, f"seed-{n}"))
        assert len(ids) == 11 and len(set(ids)) == 11


def test_shuffling_changes_the_order_not_the_questions_nor_the_choice_ids(setup):
    stored = _quiz(setup, spec=quiz_spec(shuffle_questions=True, shuffle_choices=True)).current_version.spec
    orders, choice_orders = set(), set()
    for n in range(8):
        spec = attempt_spec(stored, f"s{n}")
        orders.add(_ids(spec).index("f1"))
        for q in spec["questions"]:
            assert {c["id"] for c in q["choices"]} == {
                c["id"] for c in (FIXED if q["id"] == "f1" else bank_question(0))["choices"]
            }
            choice_orders.add(tuple(c["id"] for c in q["choices"]))
    assert len(orders) > 1 and len(choice_orders) > 1


def test_a_quiz_without_draws_nor_shuffle_answers_its_stored_spec(setup):
    quiz = make_quiz(module=setup["module"])
    assert kinds.attempt_spec("quiz", quiz.current_version.spec, "x") == quiz.current_version.spec


# --- the pages ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role,status", [("anonymous", 302), ("learner", 403), ("other", 403), ("instructor", 200)])
@pytest.mark.parametrize("name", ["courses:author-banks", "courses:author-bank-edit"])
def test_only_the_courses_editors_open_its_banks(client, setup, role, status, name):
    users = {"anonymous": None, "learner": UserFactory(), "other": setup["other"], "instructor": setup["instructor"]}
    if users[role] is not None:
        login_with_2fa(client, users[role])
    kwargs = {"code": "bank-1"} if name == "courses:author-banks" else {"code": "bank-1", "tag": "triage"}
    assert client.get(reverse(name, kwargs=kwargs)).status_code == status


def test_the_outline_links_to_the_banks_which_list_tags_with_their_counts(client, setup):
    login_with_2fa(client, setup["instructor"])
    outline = client.get(reverse("courses:author-outline", kwargs={"code": "bank-1"})).content.decode()
    assert reverse("courses:author-banks", kwargs={"code": "bank-1"}) in outline
    page = client.get(reverse("courses:author-banks", kwargs={"code": "bank-1"}))
    assert [(b.competency.code, len(b.questions)) for b in page.context["banks"]] == [("triage", 10)]
    assert reverse("courses:author-bank-edit", kwargs={"code": "bank-1", "tag": "triage"}) in page.content.decode()


def test_choosing_a_tag_opens_its_bank_and_an_unknown_one_is_a_field_error(client, setup):
    Competency.objects.create(code="privacy", name="Privacy")
    login_with_2fa(client, setup["instructor"])
    url = reverse("courses:author-banks", kwargs={"code": "bank-1"})
    response = client.get(url, {"tag": "privacy"})
    assert response.status_code == 302
    assert response["Location"] == reverse("courses:author-bank-edit", kwargs={"code": "bank-1", "tag": "privacy"})
    bad = client.get(url, {"tag": "nope"})
    assert bad.status_code == 400 and bad.context["tag_form"].errors["tag"]
    assert 'role="alert"' in bad.content.decode()


def test_an_unknown_competency_has_no_bank_page(client, setup):
    login_with_2fa(client, setup["instructor"])
    assert client.get(reverse("courses:author-bank-edit", kwargs={"code": "bank-1", "tag": "nope"})).status_code == 404


def test_a_new_bank_is_saved_from_yaml(client, setup):
    Competency.objects.create(code="privacy", name="Privacy")
    login_with_2fa(client, setup["instructor"])
    url = reverse("courses:author-bank-edit", kwargs={"code": "bank-1", "tag": "privacy"})
    assert "questions:" in client.get(url, {"mode": "source"}).context["form"].initial["questions_text"]
    text = archive._dump({"questions": [bank_question(1), bank_question(2)]}).decode()
    response = client.post(url, {"questions_text": text})
    assert response.status_code == 302
    assert QuestionBank.objects.get(course=setup["course"], competency__code="privacy").questions == [
        bank_question(1),
        bank_question(2),
    ]


@pytest.mark.parametrize("mode", ["source", "builder"])
def test_the_bank_page_names_the_quiz_a_too_small_bank_would_break_and_says_which_quizzes_it_updated(
    client, setup, mode
):
    _quiz(setup, spec=quiz_spec(count=3), title="Exam")
    login_with_2fa(client, setup["instructor"])
    url = reverse("courses:author-bank-edit", kwargs={"code": "bank-1", "tag": "triage"})

    def post(questions):
        if mode == "source":
            return client.post(url, {"questions_text": archive._dump({"questions": questions}).decode()})
        builder = kinds.get("quiz").builder
        return client.post(url, builder.data_from_spec({"questions": questions}))

    response = post([bank_question(0)])
    assert response.status_code == 400
    assert "Exam" in response.content.decode() and 'role="alert"' in response.content.decode()
    assert len(QuestionBank.objects.get(pk=setup["bank"].pk).questions) == 10
    response = post([bank_question(i) for i in range(3)])
    assert response.status_code == 302
    shown = [str(m) for m in client.get(response.url).context["messages"]]
    assert any("Exam" in m and "draws from these questions" in m for m in shown), shown


@pytest.mark.parametrize(
    "text,expected",
    [
        ("questions: [\n", "Line"),
        ("- id: q1\n", "one key, questions"),
        ("questions: []\ndraws: []\n", "one key, questions"),
        ("questions:\n- id: q1\n  type: single\n  choices: [{id: a, text: A}, {id: b, text: B}]\n  answer: [z]\n",
         "questions[0].answer"),
        ("questions: []\n", "questions"),
        ("questions: 3\n", "questions"),
    ],
)  # fmt: skip
def test_a_bad_bank_is_a_field_error_and_nothing_changes(client, setup, text, expected):
    login_with_2fa(client, setup["instructor"])
    url = reverse("courses:author-bank-edit", kwargs={"code": "bank-1", "tag": "triage"})
    response = client.post(url, {"questions_text": text})
    assert response.status_code == 400
    errors = response.context["form"].errors["questions_text"]
    assert expected in errors[0]
    assert 'role="alert"' in response.content.decode()
    setup["bank"].refresh_from_db()
    assert len(setup["bank"].questions) == 10


def test_another_instructor_cannot_post_a_bank_nor_delete_it(client, setup):
    login_with_2fa(client, setup["other"])
    edit = reverse("courses:author-bank-edit", kwargs={"code": "bank-1", "tag": "triage"})
    assert client.post(edit, {"questions_text": "questions: []"}).status_code == 403
    delete = reverse("courses:author-bank-delete", kwargs={"code": "bank-1", "tag": "triage"})
    assert client.post(delete).status_code == 403
    assert QuestionBank.objects.filter(pk=setup["bank"].pk).exists()


def test_deleting_a_bank_keeps_the_published_snapshot(client, setup):
    quiz = _quiz(setup)
    login_with_2fa(client, setup["instructor"])
    delete = reverse("courses:author-bank-delete", kwargs={"code": "bank-1", "tag": "triage"})
    response = client.post(delete, {"confirm": "on"})
    assert response.status_code == 302
    assert not QuestionBank.objects.filter(course=setup["course"]).exists()
    quiz.current_version.refresh_from_db()
    assert len(quiz.current_version.spec["pools"]["triage"]) == 10
    assert (
        client.get(reverse("courses:author-bank-delete", kwargs={"code": "bank-1", "tag": "triage"})).status_code == 405
    )


class FakeBuilder(forms.Form):
    """The Builder contract (assessment.kinds.base) in its smallest form: one field per question
    prompt would do; here the questions travel as the YAML of the spec."""

    template_name = "courses/author/banks/_fake_builder.html"
    source = forms.CharField(widget=forms.Textarea)

    def __init__(self, data=None, files=None, *, spec=None, context=None):
        super().__init__(data, files)
        self.context = context
        self.fields["source"].initial = archive._dump(spec or {"questions": []}).decode()

    def edit_action(self):
        return self.data.get("builder_action") == "add"

    def to_spec(self):
        return archive.safe_load(self.cleaned_data["source"])

    def add_spec_error(self, exc):
        self.add_error("source", f"{exc.path}: {exc.message}")


def test_the_quiz_builder_edits_the_bank_when_the_quiz_kind_has_one(client, setup, monkeypatch, tmp_path, settings):
    (tmp_path / "courses" / "author" / "banks").mkdir(parents=True)
    (tmp_path / "courses" / "author" / "banks" / "_fake_builder.html").write_text(
        '<label for="{{ form.source.auto_id }}">Source</label>{{ form.source }}{{ form.source.errors }}'
    )
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]
    monkeypatch.setitem(kinds.KINDS, "quiz", dataclasses.replace(kinds.KINDS["quiz"], builder=FakeBuilder))
    login_with_2fa(client, setup["instructor"])
    url = reverse("courses:author-bank-edit", kwargs={"code": "bank-1", "tag": "triage"})
    page = client.get(url)
    assert page.status_code == 200 and isinstance(page.context["form"], FakeBuilder)
    assert page.context["form"].context.tags == [("triage", "Triage", 10)]
    assert client.post(url, {"source": "questions: []", "builder_action": "add"}).status_code == 200
    bad = client.post(url, {"source": "questions:\n- id: x\n  type: nope\n"})
    assert bad.status_code == 400 and "questions[0].type" in bad.context["form"].errors["source"][0]
    good = client.post(url, {"source": archive._dump({"questions": [bank_question(7)]}).decode()})
    assert good.status_code == 302
    setup["bank"].refresh_from_db()
    assert setup["bank"].questions == [bank_question(7)]


# --- the archive --------------------------------------------------------------------------------


def _files(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {name: zf.read(name).decode() for name in zf.namelist()}


def _rezip(files: dict[str, str]) -> bytes:
    return archive.zip_files({k: v.encode() for k, v in files.items()})


def _delete(course):
    Assignment.objects.filter(course=course).update(current_version=None)
    Course.objects.filter(pk=course.pk).delete()


def test_banks_travel_in_the_archive_byte_stable_and_the_quiz_draws_from_them_on_import(setup):
    quiz = _quiz(setup)
    quiz.slug = "drawn"
    quiz.save()
    first = archive.course_export(course=setup["course"])
    files = _files(first)
    assert "banks/triage.yaml" in files and "format: kafaat-bank/1" in files["banks/triage.yaml"]
    assert "code: triage" in files["course.yaml"]
    assert "pools" not in files["assignments/drawn.yaml"] and "draws" in files["assignments/drawn.yaml"]
    _delete(setup["course"])
    imported = archive.course_import(data=first)
    assert archive.course_export(course=imported) == first
    assert len(imported.question_banks.get().questions) == 10
    version = imported.assignments.get(slug="drawn").current_version
    assert len(version.spec["pools"]["triage"]) == 10
    # Importing the same archive again (update) changes nothing.
    archive.course_import(data=first, update=True)
    assert imported.assignments.get(slug="drawn").current_version_id == version.pk
    assert archive.course_export(course=imported) == first


def test_an_update_import_replaces_and_removes_banks(setup):
    first = archive.course_export(course=setup["course"])
    files = _files(first)
    files["banks/triage.yaml"] = archive._dump({"format": "kafaat-bank/1", "tag": "triage",
                                                "questions": [bank_question(3)]}).decode()  # fmt: skip
    archive.course_import(data=_rezip(files), update=True)
    setup["bank"].refresh_from_db()
    assert setup["bank"].questions == [bank_question(3)]
    del files["banks/triage.yaml"]
    archive.course_import(data=_rezip(files), update=True)
    assert not QuestionBank.objects.filter(course=setup["course"]).exists()


@pytest.mark.parametrize(
    "change,match",
    [
        (lambda t: t.replace("- a\n", "- z\n", 1), r"banks/triage.yaml, field questions\[0\].answer"),
        (lambda t: t.replace("tag: triage", "tag: privacy"), r"banks/triage.yaml, field tag"),
        (lambda t: t.replace("kafaat-bank/1", "kafaat-bank/9"), r"banks/triage.yaml, field format"),
        (lambda t: t.replace("questions:", "questions: 3\nx:"), r"banks/triage.yaml"),
        (lambda t: t + "  - [\n", r"banks/triage.yaml, line"),
    ],
)
def test_a_broken_bank_names_its_file_and_field_and_nothing_is_imported(setup, change, match):
    files = _files(archive.course_export(course=setup["course"]))
    _delete(setup["course"])
    files["banks/triage.yaml"] = change(files["banks/triage.yaml"])
    with pytest.raises(archive.ArchiveError, match=match):
        archive.course_import(data=_rezip(files))
    assert not Course.objects.filter(code="bank-1").exists()


def test_a_bank_on_a_competency_course_yaml_does_not_list_is_refused(setup):
    files = _files(archive.course_export(course=setup["course"]))
    _delete(setup["course"])
    files["banks/other.yaml"] = files["banks/triage.yaml"].replace("tag: triage", "tag: other")
    with pytest.raises(archive.ArchiveError, match=r"banks/other.yaml, field tag"):
        archive.course_import(data=_rezip(files))


def test_an_archive_quiz_drawing_more_than_its_bank_names_the_assignment_file(setup):
    quiz = _quiz(setup)
    quiz.slug = "drawn"
    quiz.save()
    files = _files(archive.course_export(course=setup["course"]))
    _delete(setup["course"])
    files["assignments/drawn.yaml"] = files["assignments/drawn.yaml"].replace("count: 3", "count: 30")
    with pytest.raises(archive.ArchiveError, match=r"assignments/drawn.yaml, field spec.draws\[0\].count"):
        archive.course_import(data=_rezip(files))
    assert not Course.objects.filter(code="bank-1").exists()


def test_the_bank_list_costs_the_same_queries_for_one_bank_or_six(client, setup):
    login_with_2fa(client, setup["instructor"])
    url = reverse("courses:author-banks", kwargs={"code": "bank-1"})
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    for i in range(5):
        competency = Competency.objects.create(code=f"extra-{i}", name=f"Extra {i}")
        QuestionBank.objects.create(course=setup["course"], competency=competency, questions=[bank_question(i)])
    with CaptureQueriesContext(connection) as six:
        page = client.get(url)
    assert len(page.context["banks"]) == 6
    assert len(six) == len(one)


def test_an_import_by_another_instructor_keeps_the_name_of_a_competency_a_bank_uses(client, setup):
    """triage is used by bank-1's bank only: the other instructor's own course cannot rename it."""
    theirs = CourseFactory(code="bank-theirs", status="draft")
    theirs.instructors.add(setup["other"])
    ModuleFactory(course=theirs, position=1)
    files = _files(archive.course_export(course=theirs))
    files["course.yaml"] = files["course.yaml"].replace(
        "competencies: []", "competencies:\n- code: triage\n  name: Renamed\n  description: ''"
    )
    assert "name: Renamed" in files["course.yaml"]
    login_with_2fa(client, setup["other"])
    upload = SimpleUploadedFile("a.zip", _rezip(files), content_type="application/zip")
    response = client.post(reverse("courses:author-import"), {"archive": upload, "update": "on"})
    assert response.status_code == 302
    setup["competency"].refresh_from_db()
    assert setup["competency"].name == "Triage"

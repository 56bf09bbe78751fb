"""A quiz that draws from a question bank: each attempt has its own questions, decided by its seed,
the same on the learner's page, at submission, on the worker and at every regrade."""

import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from courses import banks
from courses.models import Competency, QuestionBank
from grading import attempts, services
from grading.models import Submission
from tests.factories import CourseFactory, ModuleFactory, UserFactory, enroll, make_quiz
from tests.processes import wait_for

FIXED = {
    "id": "f1",
    "type": "single",
    "prompt": "Fixed question",
    "choices": [{"id": "a", "text": "yes"}, {"id": "b", "text": "no"}],
    "answer": ["a"],
}


def bank_question(i: int) -> dict:
    # The right choice depends on the question: only the drawn questions' keys score.
    return {
        "id": f"b{i}",
        "type": "single",
        "prompt": f"Bank question number {i}",
        "choices": [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}],
        "answer": ["a" if i % 2 == 0 else "b"],
    }


SPEC = {"questions": [FIXED], "draws": [{"tag": "triage", "count": 3, "points": 2}]}


def _drawn_quiz():
    course = CourseFactory()
    competency = Competency.objects.create(code="triage", name="Triage")
    QuestionBank.objects.create(course=course, competency=competency, questions=[bank_question(i) for i in range(10)])
    return make_quiz(module=ModuleFactory(course=course, position=1), spec=SPEC, points=7)


def _learner(quiz):
    learner = UserFactory()
    enroll(learner, quiz.course)
    client = Client()
    client.force_login(learner)
    return learner, client


def _page_ids(client, quiz) -> list[str]:
    """The question ids of the learner's form, in the page's order."""
    response = client.get(reverse("courses:assignment", kwargs={"code": quiz.course.code, "pk": quiz.pk}))
    assert response.status_code == 200
    return list(dict.fromkeys(re.findall(r'name="q_([^"]+)"', response.content.decode())))


def _right_answer(question_id: str) -> dict:
    if question_id == "f1":
        return ["a"]
    number = int(question_id.split(":b", 1)[1])
    return ["a" if number % 2 == 0 else "b"]


def _post_right_answers(client, quiz, ids):
    data = {f"q_{qid}": _right_answer(qid)[0] for qid in ids}
    return client.post(reverse("courses:assignment", kwargs={"code": quiz.course.code, "pk": quiz.pk}), data)


@pytest.fixture
def quiz(db):
    return _drawn_quiz()


def test_learners_get_different_draws_from_a_bank_of_ten(quiz):
    draws = set()
    for _ in range(4):
        _learner_, client = _learner(quiz)
        ids = _page_ids(client, quiz)
        assert ids[0] == "f1" and len(ids) == 4 and all(i.startswith("triage:b") for i in ids[1:])
        draws.add(frozenset(ids))
    assert len(draws) > 1  # 120 draws of 3 among 10: four learners all alike is (1/120)**3


def test_an_attempt_shows_the_same_questions_on_every_reload_and_is_graded_on_exactly_those(quiz):
    learner, client = _learner(quiz)
    ids = _page_ids(client, quiz)
    assert _page_ids(client, quiz) == ids == _page_ids(client, quiz)
    expected = attempts.attempt_spec(kind="quiz", version=quiz.current_version, user_id=learner.pk, attempt=1)
    assert [q["id"] for q in expected["questions"]] == ids
    response = _post_right_answers(client, quiz, ids)
    assert response.status_code == 302
    sub = Submission.objects.get(user=learner, assignment=quiz)
    assert sub.attempt == 1 and set(sub.answer) == set(ids)
    services.submission_grade(submission_id=sub.pk)
    sub.refresh_from_db()
    assert sub.status == Submission.Status.GRADED
    assert sub.score == Decimal("7.00")  # 1 fixed point + 3 drawn questions at the draw's 2 points
    assert [q["id"] for q in sub.feedback["questions"]] == ids
    assert [q["out_of"] for q in sub.feedback["questions"]] == [1.0, 2.0, 2.0, 2.0]


def test_the_next_attempt_gets_the_questions_of_its_own_seed(quiz):
    learner, client = _learner(quiz)
    first = _page_ids(client, quiz)
    _post_right_answers(client, quiz, first)
    second = _page_ids(client, quiz)
    spec = attempts.attempt_spec(kind="quiz", version=quiz.current_version, user_id=learner.pk, attempt=2)
    assert second == [q["id"] for q in spec["questions"]]
    seeds = {
        frozenset(q["id"] for q in attempts.attempt_spec(kind="quiz", version=quiz.current_version,
                                                        user_id=learner.pk, attempt=n)["questions"])
        for n in range(1, 6)
    }  # fmt: skip
    assert len(seeds) > 1  # attempts may differ


def test_answering_another_draws_questions_is_refused_and_stores_nothing(quiz):
    learner, client = _learner(quiz)
    mine = set(_page_ids(client, quiz))
    others = [f"triage:b{i}" for i in range(10) if f"triage:b{i}" not in mine][:3]
    response = _post_right_answers(client, quiz, ["f1", *others])
    assert response.status_code == 400  # the form of this attempt lacks its drawn questions
    with pytest.raises(services.SubmissionRefused):
        services.submission_create(
            user=learner, assignment=quiz, answer={qid: _right_answer(qid) for qid in ["f1", *others]}
        )
    assert not Submission.objects.filter(user=learner).exists()


def test_a_regrade_grades_the_same_questions_even_after_the_bank_changed(quiz):
    learner, client = _learner(quiz)
    ids = _page_ids(client, quiz)
    _post_right_answers(client, quiz, ids)
    sub = Submission.objects.get(user=learner)
    services.submission_grade(submission_id=sub.pk)
    teacher = UserFactory()
    quiz.course.instructors.add(teacher)
    banks.question_bank_delete(user=UserFactory(is_staff=True), course=quiz.course,
                               competency=Competency.objects.get(code="triage"))  # fmt: skip
    job = services.regrade_start(user=UserFactory(is_staff=True), assignment=quiz, submission=sub)
    for item in job.items.all():
        services.regrade_item_run(item_id=item.pk)
    sub.refresh_from_db()
    assert list(sub.grades.values_list("source", "score")) == [("auto", Decimal("7")), ("regrade", Decimal("7"))]


def test_the_submission_page_shows_the_prompts_of_the_attempts_questions(quiz):
    learner, client = _learner(quiz)
    ids = _page_ids(client, quiz)
    _post_right_answers(client, quiz, ids)
    sub = Submission.objects.get(user=learner)
    services.submission_grade(submission_id=sub.pk)
    page = client.get(reverse("grading:submission", kwargs={"pk": sub.pk})).content.decode()
    for qid in ids[1:]:
        assert f"Bank question number {qid.split(':b')[1]}" in page
    fragment = client.get(reverse("grading:submission-status", kwargs={"pk": sub.pk})).content.decode()
    assert "Fixed question" in fragment


@pytest.mark.worker
def test_a_real_worker_grades_the_drawn_questions_of_the_attempt(worker):
    quiz = _drawn_quiz()
    learner, client = _learner(quiz)
    ids = _page_ids(client, quiz)
    assert _post_right_answers(client, quiz, ids).status_code == 302
    sub = Submission.objects.get(user=learner)
    wait_for(lambda: Submission.objects.get(pk=sub.pk).status == "graded", timeout=60, message="grading")
    sub.refresh_from_db()
    assert sub.score == Decimal("7.00")
    assert [q["id"] for q in sub.feedback["questions"]] == ids

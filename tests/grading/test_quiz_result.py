"""A quiz result that teaches: each question with the learner's answer, right or wrong, its
explanation; the score, pass or fail against the pass mark, the attempts left and the way back to
the lesson; the right answers only once the policy allows (no attempt left, or past the due date)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from grading import selectors, services
from tests.factories import LessonFactory, ModuleFactory, UserFactory, enroll, make_quiz

pytestmark = pytest.mark.django_db

SPEC = {
    "questions": [
        {"id": "q1", "type": "single", "prompt": "Which law protects personal data in Morocco?", "points": 1,
         "choices": [{"id": "a", "text": "Law 09-08"}, {"id": "b", "text": "Law 31-08"}], "answer": ["a"],
         "explanation": "Law 09-08 (2009) created the CNDP."},
        {"id": "q2", "type": "numeric", "prompt": "How many days to notify?", "points": 1, "value": 3,
         "tolerance": 0},
        {"id": "q3", "type": "text", "prompt": "The authority's acronym?", "points": 1, "accepted": ["CNDP"]},
    ]
}  # fmt: skip


@pytest.fixture
def world(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    module = ModuleFactory(course__status="published", course__code="privacy-1")
    lesson = LessonFactory(module=module, position=1, title="Law 09-08 in practice")
    learner = UserFactory()
    enroll(learner, module.course)
    client.force_login(learner)
    return {"module": module, "lesson": lesson, "learner": learner}


def submit(learner, quiz, answer):
    sub = services.submission_create(user=learner, assignment=quiz, answer=answer)
    services.submission_grade(submission_id=sub.pk)
    sub.refresh_from_db()
    return sub


def page(client, sub) -> str:
    return client.get(reverse("grading:submission", args=[sub.pk])).content.decode()


def test_the_result_repeats_each_question_with_the_answer_given_and_says_what_is_next(client, world):
    quiz = make_quiz(module=world["module"], spec=SPEC, title="Law quiz", attempts_allowed=3, points=3,
                     pass_threshold=Decimal("0.7"))  # fmt: skip
    sub = submit(world["learner"], quiz, {"q1": ["b"], "q2": "3", "q3": "ANRT"})
    html = page(client, sub)
    assert "Which law protects personal data in Morocco?" in html
    assert "Your answer: <span" in html and "Law 31-08</span>" in html  # the option's text, not its id
    assert "Law 09-08 (2009) created the CNDP." in html  # the explanation
    assert "ANRT</span>" in html
    assert 'data-passed="no"' in html and "(pass mark: 70 %)" in html
    assert 'data-attempts-left="2"' in html
    lesson_url = reverse("courses:lesson", args=["privacy-1", world["lesson"].pk])
    assert f'href="{lesson_url}"' in html
    # Attempts are left: no right answer is given away.
    assert "Right answer:" not in html and "The right answers are shown once" in html


def test_the_right_answers_appear_after_the_last_attempt(client, world):
    quiz = make_quiz(module=world["module"], spec=SPEC, attempts_allowed=2, points=3)
    submit(world["learner"], quiz, {"q1": ["b"], "q2": "4", "q3": "x"})
    last = submit(world["learner"], quiz, {"q1": ["b"], "q2": "4", "q3": "CNDP"})
    html = page(client, last)
    assert 'data-attempts-left="0"' in html
    assert html.count("Right answer:") == 2  # q1 and q2; q3 was right
    assert "Right answer: <span" in html and "Law 09-08</span>" in html


def test_the_right_answers_appear_after_the_due_date_and_never_with_unlimited_attempts_and_no_date(client, world):
    unlimited = make_quiz(module=world["module"], spec=SPEC)
    html = page(client, submit(world["learner"], unlimited, {"q1": ["b"], "q2": "1", "q3": "x"}))
    assert "Attempts: unlimited" in html and "Right answer:" not in html
    dated = make_quiz(module=world["module"], spec=SPEC, due_at=timezone.now() + timedelta(days=1))
    sub = submit(world["learner"], dated, {"q1": ["b"], "q2": "1", "q3": "x"})
    assert "Right answer:" not in page(client, sub)
    dated.due_at = timezone.now() - timedelta(minutes=1)
    dated.save()
    assert "Right answer:" in page(client, sub)


def test_a_passed_quiz_says_so(client, world):
    quiz = make_quiz(module=world["module"], spec=SPEC, points=3)
    html = page(client, submit(world["learner"], quiz, {"q1": ["a"], "q2": "3,0", "q3": " cndp "}))
    assert 'data-passed="yes"' in html and "Your answer:" in html


def test_the_reveal_rule():
    quiz = make_quiz(spec=SPEC, attempts_allowed=2)
    assert not selectors.answers_revealed(assignment=quiz, attempts_used=1)
    assert selectors.answers_revealed(assignment=quiz, attempts_used=2)
    quiz.attempts_allowed, quiz.due_at = None, timezone.now()
    assert selectors.answers_revealed(assignment=quiz, attempts_used=1, now=quiz.due_at + timedelta(seconds=1))
    assert not selectors.answers_revealed(assignment=quiz, attempts_used=1, now=quiz.due_at - timedelta(seconds=1))

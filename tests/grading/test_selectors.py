"""'This submission passed' and 'each learner's latest graded attempt' have one definition each
(grading.selectors): the SQL and the Python forms agree at the pass mark's edges."""

from decimal import Decimal

import pytest
from django.urls import reverse

from grading import selectors
from grading.models import Submission
from grading.services import latest_graded_refresh
from tests.factories import UserFactory, enroll, make_quiz

pytestmark = pytest.mark.django_db


def _submission(user, assignment, attempt, *, status="graded", score=None, max_score=Decimal("10")):
    sub = Submission.objects.create(
        user=user,
        assignment=assignment,
        version=assignment.current_version,
        attempt=attempt,
        answer={},
        status=status,
        score=score,
        max_score=max_score,
    )
    latest_graded_refresh(pairs=[(user.pk, assignment.pk)])  # as grade_record would
    return sub


@pytest.mark.parametrize(
    ("status", "score", "passed"),
    [
        ("graded", Decimal("6.00"), True),  # exactly at 10 x 0.6
        ("graded", Decimal("5.99"), False),
        ("graded", Decimal("10.00"), True),
        ("graded", None, False),
        ("needs_review", Decimal("10.00"), False),  # a score without a final grade is no pass
        ("failed", Decimal("10.00"), False),
    ],
)
def test_passed_is_the_same_rule_in_sql_and_in_python(status, score, passed):
    quiz = make_quiz(pass_threshold=Decimal("0.6"), points=10)
    learner = UserFactory()
    enroll(learner, quiz.course)
    sub = _submission(learner, quiz, 1, status=status, score=score)

    assert selectors.submission_passed(sub) is passed
    assert Submission.objects.filter(selectors.passed_q(), pk=sub.pk).exists() is passed
    assert (selectors.passed_assignment_ids(user=learner, course=quiz.course) == {quiz.pk}) is passed


def test_a_course_is_complete_once_every_required_assignment_passed():
    first = make_quiz(pass_threshold=Decimal("0.5"), points=10)
    second = make_quiz(course=first.course, pass_threshold=Decimal("0.5"), points=10)
    make_quiz(course=first.course, is_required=False)
    learner = UserFactory()
    enroll(learner, first.course)
    _submission(learner, first, 1, score=Decimal("5"))
    _submission(learner, second, 1, score=Decimal("4.99"))
    assert not selectors.course_is_complete(user_id=learner.pk, course_id=first.course_id)

    _submission(learner, second, 2, score=Decimal("5"))
    assert selectors.course_is_complete(user_id=learner.pk, course_id=first.course_id)


def test_latest_graded_attempt_skips_later_attempts_not_graded_yet_and_survives_later_filters():
    quiz = make_quiz()
    learner, other = UserFactory(), UserFactory()
    graded_1 = _submission(learner, quiz, 1, score=Decimal("2"))
    graded_2 = _submission(learner, quiz, 2, score=Decimal("3"))
    queued_3 = _submission(learner, quiz, 3, status="queued")
    other_1 = _submission(other, quiz, 1, score=Decimal("9"))

    latest_graded = selectors.latest_graded_per_learner(Submission.objects.filter(assignment=quiz))
    assert set(latest_graded.values_list("pk", flat=True)) == {graded_2.pk, other_1.pk}
    # A filter added afterwards narrows the rows; it never makes an older attempt the latest.
    assert not latest_graded.filter(pk=graded_1.pk).exists()

    latest = selectors.latest_per_learner(Submission.objects.filter(assignment=quiz))
    assert set(latest.values_list("pk", flat=True)) == {queued_3.pk, other_1.pk}


def test_the_course_page_shows_the_assignments_grading_counts_as_passed(client):
    passed = make_quiz(pass_threshold=Decimal("0.5"), points=10, title="Passed quiz")
    make_quiz(course=passed.course, title="Open quiz")
    learner = UserFactory()
    enroll(learner, passed.course)
    _submission(learner, passed, 1, score=Decimal("5"))
    client.force_login(learner)

    response = client.get(reverse("courses:detail", kwargs={"code": passed.course.code}))

    assert response.status_code == 200
    progress = response.context["progress"]
    assert progress["passed_assignment_ids"] == {passed.pk}
    assert (progress["assignments_passed"], progress["assignments_total"]) == (1, 2)

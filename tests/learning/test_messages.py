"""A notification's score reads as the reader writes numbers, like every other score on the site:
"7,50 / 10,00" in French and Arabic, "7.50 / 10.00" in English, on the page and in the e-mail. The
score is stored as a plain decimal string and formatted when shown, so rows stored before read the
same way."""

from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone, translation

from grading.models import GradeRecord, Submission
from learning import services
from learning.messages import notification_text
from learning.models import Notification
from tests.factories import UserFactory, make_quiz

pytestmark = pytest.mark.django_db


def a_graded_submission(user, *, score: str = "7.50"):
    quiz = make_quiz(title="CSV quiz", points=10, attempts_allowed=1)
    sub = Submission.objects.create(
        user=user, assignment=quiz, version=quiz.current_version, attempt=1, answer={}, status="graded",
        score=Decimal(score), max_score=Decimal("10.00"), graded_at=timezone.now(), feedback={},
    )  # fmt: skip
    GradeRecord.objects.create(submission=sub, score=sub.score, max_score=sub.max_score, source="auto")
    return sub


@pytest.mark.parametrize(
    "lang, expected", [("fr", "7,50 / 10,00"), ("ar", "7,50 / 10,00"), ("en", "7.50 / 10.00")]
)  # fmt: skip
def test_the_notifications_page_writes_the_score_as_the_submission_page_does(client, lang, expected):
    user = UserFactory()
    sub = a_graded_submission(user)
    services.notification_for_submission(submission=sub)
    client.force_login(user)

    notifications = client.get(reverse("learning:notifications"), HTTP_ACCEPT_LANGUAGE=lang)
    submission = client.get(reverse("grading:submission", args=[sub.pk]), HTTP_ACCEPT_LANGUAGE=lang)

    assert notifications.status_code == submission.status_code == 200
    assert expected in notifications.text
    score, max_score = expected.split(" / ")
    assert score in submission.text and max_score in submission.text
    assert 'data-score="7.50"' in submission.text  # for scripts and tests: never localized
    # Stored once, language-free: the reader's language is applied when the text is shown.
    assert Notification.objects.get(user=user).params["score"] == "7.50"


def test_the_graded_email_writes_the_score_in_the_learners_language(django_capture_on_commit_callbacks):
    user = UserFactory(preferred_language="fr", email="fr@example.org")
    sub = a_graded_submission(user, score="9.5")
    with translation.override("en"):  # whoever grades, the learner reads French
        n = services.notification_for_submission(submission=sub)

    assert services.notification_email_send(notification_id=n.pk) is True
    assert "9,5 / 10,00" in mail.outbox[0].body


def test_a_row_stored_before_reads_in_the_readers_language_and_odd_values_as_stored():
    params = {"assignment": "Quiz", "score": "10.00", "max_score": "20.00"}
    with translation.override("fr"):
        assert notification_text("graded", params) == "Quiz a été noté : 10,00 / 20,00."
    with translation.override("en"):
        assert notification_text("graded", params) == "Quiz was graded: 10.00 / 20.00."
        assert notification_text("graded", {"assignment": "Quiz", "score": "None", "max_score": "n/a"}) == (
            "Quiz was graded: None / n/a."
        )
        assert notification_text("graded", {"assignment": "Quiz"}) == "Quiz was graded:  / ."

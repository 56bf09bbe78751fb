"""The learner's pages: dashboard, path progress per competency, grade history, notifications
and their preferences, and the interface language."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from courses.models import Competency
from grading.models import GradeRecord, Submission
from learning import selectors, services
from learning.models import Notification, NotificationSetting
from tests.factories import CourseFactory, LessonFactory, ModuleFactory, PathFactory, UserFactory, add_to_path, enroll
from tests.factories import make_quiz as _make_quiz

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


def make_quiz(**kw):
    return _make_quiz(**kw)


def graded(user, assignment, score, attempt=1, feedback=None):
    sub = Submission.objects.create(
        user=user, assignment=assignment, version=assignment.current_version, attempt=attempt, answer={},
        status="graded", score=Decimal(score), max_score=assignment.points, graded_at=timezone.now(),
        feedback=feedback or {"questions": [{"id": "q1", "correct": True, "feedback": "Well reasoned."}]},
    )  # fmt: skip
    GradeRecord.objects.create(submission=sub, score=sub.score, max_score=sub.max_score, source="auto")
    return sub


def learner_with_courses(n: int):
    user = UserFactory()
    path = PathFactory()
    for i in range(n):
        module = ModuleFactory()
        add_to_path(path, module.course, i + 1)
        LessonFactory(module=module, title=f"Lesson {i}")
        quiz = make_quiz(module=module, title=f"Quiz {i}", points=10, due_at=timezone.now() + timedelta(days=3))
        enroll(user, module.course)
        graded(user, quiz, "10.00" if i % 2 else "2.00")
    return user, path


def test_dashboard_shows_progress_next_step_deadlines_and_recent_grades(client):
    user = UserFactory()
    module = ModuleFactory(course=CourseFactory(title="Python for health data"))
    LessonFactory(module=module, title="Reading CSV files")
    done = make_quiz(module=module, title="Quiz one", points=10)
    make_quiz(module=module, title="Quiz two", points=10, due_at=timezone.now() + timedelta(days=2))
    enroll(user, module.course)
    graded(user, done, "9.00")
    client.force_login(user)

    page = client.get(reverse("learning:dashboard"))

    assert page.status_code == 200
    text = page.text
    assert "Python for health data" in text and 'value="50"' in text  # one of two required passed
    assert "Reading CSV files" in text  # next thing to do: the unread lesson
    assert "Quiz two" in text.split('id="h-deadlines"')[1]
    assert "9.00 / 10.00" in text


def test_dashboard_is_the_landing_page_after_login(client):
    user = UserFactory(email="landing@example.org")
    r = client.post(reverse("accounts:login"), {"username": user.email, "password": "correct horse battery"})
    assert r.status_code == 302 and r.url == reverse("learning:dashboard")


@pytest.mark.parametrize(
    "page", ["learning:dashboard", "learning:grades", "learning:notifications", "certificates:list"]
)
def test_learner_pages_run_a_constant_number_of_queries(client, django_assert_num_queries, page):
    counts = []
    for n in (2, 6):
        user, _path = learner_with_courses(n)
        client.force_login(user)
        client.get(reverse(page))  # warm the session/user caches
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse(page)).status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts


def test_path_progress_counts_passed_assignments_per_competency(client, django_assert_num_queries):
    user = UserFactory()
    path = PathFactory()
    privacy, stats = (
        Competency.objects.create(code="privacy", name="Privacy"),
        Competency.objects.create(code="stats", name="Statistics"),
    )
    path.competencies.add(privacy, stats)
    module = ModuleFactory()
    add_to_path(path, module.course, 1)
    quizzes = [make_quiz(module=module, title=f"Q{i}", points=10) for i in range(4)]
    for q in quizzes[:2]:
        q.competencies.add(privacy)
    for q in quizzes[2:]:
        q.competencies.add(stats)
    enroll(user, module.course)
    graded(user, quizzes[0], "10.00")
    graded(user, quizzes[2], "1.00")  # below the pass mark: not counted

    rows = selectors.path_progress(user=user, path=path)
    assert [(r.competency.code, r.passed, r.total, r.percent) for r in rows] == [
        ("privacy", 1, 2, 50),
        ("stats", 0, 2, 0),
    ]
    client.force_login(user)
    page = client.get(reverse("learning:path-progress", args=[path.code]))
    assert page.status_code == 200
    assert "<svg" in page.text and 'role="img"' in page.text and "<table" in page.text
    assert 'width="300"' in page.text  # half of the 600-unit bar


def test_chart_bars_grow_from_the_right_in_arabic(client):
    rows = [selectors.CompetencyProgress(competency=Competency(name="x"), total=4, passed=1)]
    assert selectors.chart(rows, rtl=True)["bars"][0]["x"] == 450
    assert selectors.chart(rows, rtl=False)["bars"][0]["x"] == 0


def test_grade_history_lists_every_attempt_with_its_feedback(client):
    user = UserFactory()
    quiz = make_quiz(points=10, title="Risk quiz")
    enroll(user, quiz.course)
    graded(
        user,
        quiz,
        "3.00",
        attempt=1,
        feedback={"questions": [{"id": "q1", "correct": False, "feedback": "Reread 2.1"}]},
    )
    graded(user, quiz, "10.00", attempt=2)
    other = UserFactory()
    enroll(other, quiz.course)
    graded(other, quiz, "7.00")
    client.force_login(user)

    page = client.get(reverse("learning:grades"))

    assert "Risk quiz" in page.text and "Reread 2.1" in page.text and "Well reasoned." in page.text
    assert "3.00 / 10.00" in page.text and "10.00 / 10.00" in page.text
    assert "7.00" not in page.text  # someone else's attempt


def test_graded_and_needs_revision_notifications_follow_the_learners_choices():
    user = UserFactory()
    quiz = make_quiz(points=10, attempts_allowed=3)
    passed = graded(user, quiz, "10.00")
    failed = graded(user, quiz, "2.00", attempt=2)

    assert services.notification_for_submission(submission=passed).kind == "graded"
    assert services.notification_for_submission(submission=failed).kind == "needs_revision"

    services.notification_settings_update(user=user, choices={"graded": (False, False)})
    third = graded(user, quiz, "10.00", attempt=3)
    assert services.notification_for_submission(submission=third) is None


def test_notification_email_is_sent_once_in_the_learners_language(django_capture_on_commit_callbacks):
    user = UserFactory(preferred_language="fr", email="fr@example.org")
    n = services.notification_create(user=user, kind="certificate", params={"name": "Cybersécurité"}, url="/x")

    assert services.notification_email_send(notification_id=n.pk) is True
    assert services.notification_email_send(notification_id=n.pk) is False
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["fr@example.org"]
    assert "Cybersécurité" in message.body and "certificat" in (message.subject + message.body).lower()


def test_email_only_when_the_learner_keeps_it_on():
    user = UserFactory()
    services.notification_settings_update(user=user, choices={"certificate": (True, False)})
    n = services.notification_create(user=user, kind="certificate", params={"name": "X"})
    assert n.on_page and not n.by_email
    assert services.notification_email_send(notification_id=n.pk) is False and not mail.outbox


def test_deadline_reminder_once_per_learner_for_assignments_due_within_48_hours():
    soon, later = timezone.now() + timedelta(hours=20), timezone.now() + timedelta(hours=72)
    module = ModuleFactory()
    due_soon = make_quiz(module=module, title="Due soon", due_at=soon, points=10)
    make_quiz(module=module, title="Due later", due_at=later)
    waiting, done = UserFactory(), UserFactory()
    enroll(waiting, module.course)
    enroll(done, module.course)
    graded(done, due_soon, "10.00")

    assert services.deadline_reminders_send() == 1
    assert services.deadline_reminders_send() == 0
    reminder = Notification.objects.get(kind="deadline")
    assert reminder.user == waiting and reminder.params["assignment"] == "Due soon"


def test_notification_page_lists_notifications_and_saves_choices(client):
    user = UserFactory()
    services.notification_create(user=user, kind="certificate", params={"name": "Data governance"}, url="/c")
    client.force_login(user)

    page = client.get(reverse("learning:notifications"))
    assert "Data governance" in page.text

    r = client.post(reverse("learning:notifications"), {"graded-page": "on", "deadline-email": "on"})
    assert r.status_code == 302
    saved = {s.kind: (s.on_page, s.by_email) for s in NotificationSetting.objects.filter(user=user)}
    assert saved == {
        "graded": (True, False),
        "needs_revision": (False, False),
        "deadline": (False, True),
        "certificate": (False, False),
    }
    client.post(reverse("learning:notifications-read"))
    assert not Notification.objects.filter(user=user, read_at__isnull=True).exists()


def test_learner_pages_need_a_login(client):
    for name in ("learning:dashboard", "learning:grades", "learning:notifications"):
        r = client.get(reverse(name))
        assert r.status_code == 302 and "/accounts/login/" in r.url


def test_language_comes_from_the_browser_and_arabic_is_right_to_left(client):
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="ar")
    assert '<html lang="ar" dir="rtl">' in page.text
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.8")
    assert '<html lang="en" dir="ltr">' in page.text


def test_switched_language_is_remembered_on_the_user_for_their_next_browser(client):
    user = UserFactory(preferred_language="")
    client.force_login(user)
    client.post(reverse("set_language"), {"language": "ar", "next": "/"}, HTTP_ACCEPT_LANGUAGE="en")
    user.refresh_from_db()
    assert user.preferred_language == "ar"

    from django.test import Client

    fresh = Client()  # another browser: no language cookie, an English Accept-Language
    fresh.force_login(user)
    page = fresh.get(reverse("learning:dashboard"), HTTP_ACCEPT_LANGUAGE="en")
    assert '<html lang="ar" dir="rtl">' in page.text


def test_a_language_switch_refused_for_a_missing_csrf_token_changes_nothing():
    import re

    from django.conf import settings
    from django.test import Client

    user = UserFactory(preferred_language="fr")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    page = browser.get(reverse("learning:dashboard"), HTTP_ACCEPT_LANGUAGE="fr")
    browser.cookies.pop(settings.LANGUAGE_COOKIE_NAME, None)  # a browser that has no language cookie

    refused = browser.post(reverse("set_language"), {"language": "ar", "next": "/"})
    assert refused.status_code == 403
    assert settings.LANGUAGE_COOKIE_NAME not in refused.cookies
    user.refresh_from_db()
    assert user.preferred_language == "fr"

    # The same switch with the page's token is accepted, and then remembered on the account.
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    accepted = browser.post(reverse("set_language"), {"language": "ar", "next": "/", "csrfmiddlewaretoken": token})
    assert accepted.status_code == 302 and accepted.cookies[settings.LANGUAGE_COOKIE_NAME].value == "ar"
    user.refresh_from_db()
    assert user.preferred_language == "ar"


def test_a_language_switch_to_an_unknown_language_changes_nothing(client):
    user = UserFactory(preferred_language="fr")
    client.force_login(user)
    client.post(reverse("set_language"), {"language": "xx", "next": "/"})
    user.refresh_from_db()
    assert user.preferred_language == "fr"


def test_every_page_names_its_own_icon_so_browsers_never_ask_for_a_missing_favicon(client):
    """Without a declared icon, browsers request /favicon.ico, a 404 that shows as a console error
    on every page."""
    from django.contrib.staticfiles import finders

    page = client.get(reverse("courses:catalogue")).content.decode()
    href = re.search(r'<link rel="icon" href="/static/([^"]+)"', page)
    assert href and finders.find(href.group(1))


def test_grade_history_names_each_test_and_a_hidden_one_with_its_status_only(client):
    user = UserFactory()
    quiz = make_quiz(points=10, title="Code")
    enroll(user, quiz.course)
    tests = [
        {"id": "sum_of_two", "public": True, "passed": True, "status": "passed"},
        {"id": "secret_h1", "public": False, "passed": False, "status": "time_limit"},
        {"id": "old_row", "public": True, "passed": False},  # stored before statuses existed
    ]
    graded(user, quiz, "5.00", feedback={"tests": tests, "passed": 1, "total": 3})
    client.force_login(user)

    page = client.get(reverse("learning:grades"), HTTP_ACCEPT_LANGUAGE="fr").text

    assert "sum_of_two : réussi" in page and "old_row : échoué" in page
    assert "secret_h1 (test caché) : temps dépassé" in page  # its name and status, nothing of its run
    assert "• :" not in page and "> :" not in page

"""The learner's way through a course: the outline beside each lesson with its done state,
previous and next across lessons and assignments, "mark as done" moving on, and the course page's
Start / Continue button going to the first unfinished step."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from courses.models import LessonProgress
from grading.models import GradeRecord, Submission
from tests.factories import LessonFactory, ModuleFactory, UserFactory, enroll, make_quiz

pytestmark = pytest.mark.django_db


@pytest.fixture
def course(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    one = ModuleFactory(course__code="flow-1", course__status="published", course__language="fr", position=1,
                        title="Bases")  # fmt: skip
    two = ModuleFactory(course=one.course, position=2, title="Suite")
    lessons = [LessonFactory(module=one, position=1, title="L1"), LessonFactory(module=one, position=2, title="L2"),
               LessonFactory(module=two, position=1, title="L3")]  # fmt: skip
    quiz = make_quiz(module=one, title="Quiz 1", points=10)
    learner = UserFactory()
    enroll(learner, one.course)
    client.force_login(learner)
    return {"course": one.course, "lessons": lessons, "quiz": quiz, "learner": learner}


def lesson_url(lesson):
    return reverse("courses:lesson", args=[lesson.module.course.code, lesson.pk])


def test_a_lesson_shows_the_outline_with_done_states_and_its_previous_and_next(client, course):
    l1, l2, l3 = course["lessons"]
    LessonProgress.objects.create(user=course["learner"], lesson=l1, completed_at=timezone.now())
    html = client.get(lesson_url(l2)).content.decode()
    start = html.index('class="course-outline"')
    outline = html[start : html.index("</nav>", start)]
    assert [t for t in ("L1", "L2", "L3", "Quiz 1", "Bases", "Suite") if t not in outline] == []
    assert outline.count('class="badge ok"') == 1  # L1 done, the others not
    assert 'aria-current="page" lang="fr" dir="ltr">L2<' in outline
    assert f'rel="prev" href="{lesson_url(l1)}"' in html
    quiz_url = reverse("courses:assignment", args=["flow-1", course["quiz"].pk])
    assert f'rel="next" href="{quiz_url}"' in html  # after a module's lessons come its assignments
    assert 'lang="fr" dir="ltr"' in html[html.index("<article") :]


def test_mark_as_done_moves_on_to_the_next_step_and_the_last_one_back_to_the_course(client, course):
    l1, l2, l3 = course["lessons"]
    response = client.post(lesson_url(l2), {"done": "1"})
    assert response.url == reverse("courses:assignment", args=["flow-1", course["quiz"].pk])
    response = client.post(lesson_url(l3), {"done": "1"})
    assert response.url == reverse("courses:detail", args=["flow-1"])
    assert LessonProgress.objects.filter(user=course["learner"], completed_at__isnull=False).count() == 2
    # Marking as not done stays on the lesson.
    assert client.post(lesson_url(l3), {"done": "0"}).url == lesson_url(l3)


def test_the_course_page_says_start_then_continue_to_the_first_unfinished_step(client, course):
    l1, l2, l3 = course["lessons"]
    detail = reverse("courses:detail", args=["flow-1"])
    html = client.get(detail).content.decode()
    assert f'href="{lesson_url(l1)}">Start</a>' in html
    LessonProgress.objects.create(user=course["learner"], lesson=l1, completed_at=timezone.now())
    assert f'href="{lesson_url(l2)}">Continue</a>' in client.get(detail).content.decode()
    LessonProgress.objects.create(user=course["learner"], lesson=l2, completed_at=timezone.now())
    quiz = course["quiz"]
    assert f'href="{reverse("courses:assignment", args=["flow-1", quiz.pk])}">Continue</a>' in (
        client.get(detail).content.decode()
    )
    sub = Submission.objects.create(user=course["learner"], assignment=quiz, version=quiz.current_version, attempt=1,
                                    answer={}, status="graded", score=Decimal(10), max_score=Decimal(10),
                                    graded_at=timezone.now())  # fmt: skip
    GradeRecord.objects.create(submission=sub, score=sub.score, max_score=sub.max_score, source="auto")
    assert f'href="{lesson_url(l3)}">Continue</a>' in client.get(detail).content.decode()
    LessonProgress.objects.create(user=course["learner"], lesson=l3, completed_at=timezone.now())
    html = client.get(detail).content.decode()
    assert ">Continue</a>" not in html and ">Start</a>" not in html


def test_enrolling_confirms_and_offers_to_start(client, course):
    other = ModuleFactory(course__code="flow-2", course__status="published", course__title="Autre cours")
    first = LessonFactory(module=other, position=1, title="Premier pas")
    response = client.post(reverse("courses:enroll", args=["flow-2"]), follow=True)
    html = response.content.decode()
    assert "You are enrolled in Autre cours." in html
    assert f'href="{lesson_url(first)}">Start</a>' in html


def test_the_lesson_preview_links_the_steps_to_their_previews(client, course):
    l1, l2, _l3 = course["lessons"]
    editor = UserFactory(is_staff=True)
    from tests.twofactor import login_with_2fa

    login_with_2fa(client, editor)
    html = client.get(reverse("courses:author-lesson-preview", args=["flow-1", l2.pk])).content.decode()
    assert reverse("courses:author-lesson-preview", args=["flow-1", l1.pk]) in html
    assert reverse("courses:author-assignment-preview", args=["flow-1", course["quiz"].pk]) in html
    assert 'name="done"' not in html

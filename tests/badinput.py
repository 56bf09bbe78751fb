"""Shared pieces of the hostile-input sweep (tests/*/test_bad_input.py): garbage values, a small
world, and the checks - never a 500, the exact status and the message a refusal shows, and the
database as it was after a refusal."""

import pytest
from django.contrib.auth import get_user_model

from courses.models import Assignment, Course, Enrollment, Lesson, Module
from grading.models import Submission
from tests.factories import CourseFactory, LessonFactory, ModuleFactory, UserFactory, enroll, make_quiz

User = get_user_model()

HUGE = "x" * (1024 * 1024)
NUL = "a\x00b"
ENORMOUS = str(10**30)


@pytest.fixture
def world(db):
    course = CourseFactory(code="sweep-1")
    module = ModuleFactory(course=course, position=1)
    lesson = LessonFactory(module=module, position=1)
    quiz = make_quiz(module=module)
    instructor, learner, staff = UserFactory(), UserFactory(), UserFactory(is_staff=True)
    course.instructors.add(instructor)
    enroll(learner, course)
    return {"course": course, "module": module, "lesson": lesson, "quiz": quiz, "instructor": instructor,
            "learner": learner, "staff": staff}  # fmt: skip


def _counts():
    return {m.__name__: m.objects.count() for m in (User, Course, Module, Lesson, Assignment, Enrollment, Submission)}


def _no_500(response):
    assert response.status_code < 500, response.content[:2000]
    return response


# What the 404 page says (templates/404.html).
NOT_FOUND = "The page you asked for does not exist, or you may not see it."


def _refused(response, status: int, message: str | None = None):
    """The response has exactly `status` and shows `message` (a 405 has no page to show)."""
    assert response.status_code == status, (response.status_code, response.content[:2000])
    if message is not None:
        assert message in response.content.decode(), (message, response.content[:2000])
    return response


def _redirected(client, response, location: str, message: str | None = None):
    """The response sends the browser to `location`, where `message` is shown (Django messages)."""
    assert response.status_code == 302 and response["Location"] == location, (response.status_code, response)
    if message is not None:
        assert message in client.get(location).content.decode(), message
    return response

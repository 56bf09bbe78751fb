"""Known XSS payloads posted into lessons (Markdown), feedback and names come out inert."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from accounts import services as account_services
from courses import services as course_services
from grading.models import Submission
from tests.factories import LessonFactory, ModuleFactory, OrganizationFactory, UserFactory, enroll, make_quiz
from tests.twofactor import login_with_2fa

pytestmark = pytest.mark.django_db

PAYLOADS = [
    "<script>alert('xss')</script>",
    "<img src=x onerror=alert(1)>",
    "<svg/onload=alert(1)>",
    "[click](javascript:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    '<iframe src="javascript:alert(1)"></iframe>',
    '"><script>alert(1)</script>',
    "<body onload=alert(1)>",
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    "<style>body{background:url(javascript:alert(1))}</style>",
]
DANGER = re.compile(r"<script(?![^>]*\bsrc=\"/static/)|\son[a-z]+\s*=|javascript:|<iframe|<svg|<style|<math", re.I)


def _dangerous(html: str, payload_marker: str = "") -> list[str]:
    return DANGER.findall(html)


def test_lesson_markdown_payloads_are_sanitized():
    module = ModuleFactory()
    learner = UserFactory()
    enroll(learner, module.course)
    lesson = LessonFactory(module=module)
    lesson.body_markdown = "\n\n".join(PAYLOADS)
    course_services.lesson_save(lesson=lesson)
    client = Client()
    client.force_login(learner)
    response = client.get(reverse("courses:lesson", args=[module.course.code, lesson.pk]))
    assert response.status_code == 200
    article = response.content.decode().split("<article", 1)[1].split("</article>", 1)[0]
    assert _dangerous(article) == []


def test_feedback_and_names_are_escaped_on_pages():
    payload = PAYLOADS[1]
    learner = UserFactory(full_name=payload)
    quiz = make_quiz()
    enroll(learner, quiz.course)
    submission = Submission.objects.create(
        user=learner, assignment=quiz, version=quiz.current_version, attempt=1, answer={}, status="graded",
        score=1, max_score=2, feedback={"questions": [{"correct": False, "feedback": PAYLOADS[0]}],
                                        "message": PAYLOADS[2]},
    )  # fmt: skip
    client = Client()
    client.force_login(learner)
    body = client.get(reverse("grading:submission", args=[submission.pk])).content.decode()
    assert "&lt;script&gt;alert" in body
    assert "<script>alert" not in body and "<img src=x" not in body

    # A university admin's page lists the learner by name: escaped too.
    org = OrganizationFactory()
    learner.organization = org
    learner.save()
    admin = UserFactory()
    account_services.membership_grant(user=admin, organization=org)
    login_with_2fa(client, admin)
    body = client.get(reverse("accounts:organization")).content.decode()
    assert "&lt;img src=x onerror=alert(1)&gt;" in body and "<img src=x" not in body

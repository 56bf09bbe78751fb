"""Course content keeps its own language and direction inside pages of another language: a
French course on an Arabic page reads left to right (its punctuation at the right end), an Arabic
course on a French page right to left."""

import re

import pytest
from django.urls import reverse

from tests.factories import LessonFactory, ModuleFactory, UserFactory, enroll, make_quiz

pytestmark = pytest.mark.django_db


def _content_tags(html: str, lang: str) -> list[str]:
    return re.findall(rf'<[a-z0-9]+[^>]*\blang="{lang}"[^>]*>', html)


@pytest.mark.parametrize(
    "course_lang,page_lang,direction", [("fr", "ar", "ltr"), ("ar", "fr", "rtl"), ("en", "ar", "ltr")]
)
def test_every_block_of_course_content_carries_its_language_and_direction(client, course_lang, page_lang, direction):
    module = ModuleFactory(course__status="published", course__language=course_lang, course__code="dir-1")
    lesson = LessonFactory(module=module, title="Flag: which account fell to the brute force?")
    quiz = make_quiz(module=module, title="Quiz ?")
    learner = UserFactory()
    enroll(learner, module.course)
    client.force_login(learner)
    client.cookies["django_language"] = page_lang
    for url in (reverse("courses:catalogue"), reverse("courses:detail", args=["dir-1"]),
                reverse("courses:lesson", args=["dir-1", lesson.pk]),
                reverse("courses:assignment", args=["dir-1", quiz.pk]), reverse("learning:dashboard")):  # fmt: skip
        html = client.get(url, HTTP_ACCEPT_LANGUAGE=page_lang).content.decode()
        assert f'<html lang="{page_lang}"' in html
        tags = [t for t in _content_tags(html, course_lang) if "<option" not in t]
        assert tags, url
        assert all(f'dir="{direction}"' in t for t in tags), (url, [t for t in tags if f'dir="{direction}"' not in t])

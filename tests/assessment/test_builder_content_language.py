"""The builders' content fields (prompts, choices, feedback, rubric texts, hints, the title and
the statement) carry the course's language and take their direction from their own text, so a
French course edited in the Arabic studio reads left to right there; code, ids and numbers stay
dir="ltr"."""

import lxml.html
import pytest
from django.conf import settings
from django.urls import reverse

from courses.models import Competency
from tests.factories import CourseFactory, ModuleFactory, UserFactory
from tests.grading.helpers import FLAG_SPEC, make_assignment
from tests.twofactor import login_with_2fa

pytestmark = pytest.mark.django_db


@pytest.fixture
def studio(client):
    """An instructor of a French course, with the Arabic interface."""
    module = ModuleFactory(course=CourseFactory(language="fr"))
    instructor = UserFactory()
    module.course.instructors.add(instructor)
    login_with_2fa(client, instructor)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ar"
    return module


def _page(client, url: str):
    response = client.get(url)
    assert response.status_code == 200
    doc = lxml.html.fromstring(response.content)
    assert doc.get("lang") == "ar" and doc.get("dir") == "rtl"
    return doc


def _lang_dir(doc, name: str) -> tuple:
    (el,) = doc.xpath(f"//*[@name='{name}']")
    return el.get("lang"), el.get("dir")


def _new(module, kind: str) -> str:
    url = reverse("courses:author-assignment-new", kwargs={"code": module.course.code, "module_pk": module.pk})
    return f"{url}?kind={kind}"


def test_the_quiz_builder_writes_french_content_fields_in_french_in_the_arabic_studio(client, studio):
    doc = _page(client, _new(studio, "quiz"))
    for name in ("quiz-q0-prompt", "quiz-q0-c0-text", "quiz-q0-accepted", "quiz-q0-feedback_correct",
                 "quiz-q0-explanation", "title", "prompt_markdown"):  # fmt: skip
        assert _lang_dir(doc, name) == ("fr", "auto"), name
    assert doc.xpath("//textarea[@name='quiz-q0-prompt']")[0].get("rows") == "2"
    assert _lang_dir(doc, "quiz-q0-points") == (None, None)  # a number: the page's direction


def test_the_essay_builder_writes_french_content_fields_in_french_in_the_arabic_studio(client, studio):
    doc = _page(client, _new(studio, "essay"))
    for name in ("builder-c0-title", "builder-c0-description", "builder-c0-l0-title", "builder-c0-l0-description",
                 "title", "prompt_markdown"):  # fmt: skip
        assert _lang_dir(doc, name) == ("fr", "auto"), name
    (prompt,) = doc.xpath("//textarea[@name='prompt_markdown']")
    assert (prompt.get("lang"), prompt.get("dir")) == ("fr", "auto")


def test_flag_hints_are_content_and_the_flag_stays_left_to_right(client, studio):
    flag = make_assignment(
        "flag", {**FLAG_SPEC, "hints": [{"text": "Regardez", "after_wrong": 1}]}, course=studio.course
    )
    doc = _page(client, reverse("courses:author-assignment-edit", kwargs={"code": flag.course.code, "pk": flag.pk}))
    assert _lang_dir(doc, "builder-flag") == (None, "ltr")
    hints = doc.xpath("//textarea[starts-with(@name, 'builder-hint-')]")
    assert hints and all((h.get("lang"), h.get("dir")) == ("fr", "auto") for h in hints)


def test_the_question_bank_builder_writes_content_in_the_course_language(client, studio):
    tag = Competency.objects.create(code="fr-bank-tag", name="Tag").code
    url = reverse("courses:author-bank-edit", kwargs={"code": studio.course.code, "tag": tag})
    doc = _page(client, url)
    assert _lang_dir(doc, "quiz-q0-prompt") == ("fr", "auto")

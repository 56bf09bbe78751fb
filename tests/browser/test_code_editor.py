"""The code editor (static/js/code_editor.js over the vendored CodeMirror 5): every textarea.code
becomes a Python editor with highlighting; what is typed in it is what the form posts; it loads
under the pages' CSP; it stays left to right in Arabic pages; with JavaScript off the plain
textarea is used."""

import pytest
from django.conf import settings
from django.test import Client

from grading.models import Submission
from tests.factories import UserFactory, enroll

from .conftest import run_axe
from .test_journeys import TIMEOUT_MS, a_path_with_one_course

pytestmark = [pytest.mark.e2e, pytest.mark.worker]


def a_learner_on_a_code_assignment(language: str = "en"):
    _path, course, _quiz, code = a_path_with_one_course(language=language)
    learner = UserFactory(full_name="Amina Benali")
    enroll(learner, course)
    return learner, f"/courses/{course.code}/assignments/{code.pk}/", code


def test_typing_in_the_editor_posts_the_code_and_it_is_graded(pages, worker):
    learner, url, code = a_learner_on_a_code_assignment()
    page = pages.new(lang="en", user=learner)
    page.goto(url)
    editor = page.locator(".CodeMirror")
    editor.wait_for()
    assert page.locator("textarea[name=code]").is_hidden()  # the editor stands in for it
    assert page.locator(".CodeMirror .cm-keyword", has_text="def").count() >= 1  # Python highlighting
    # Replace the starter code by typing: Enter after the colon indents the next line itself.
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.type("def solve(records):")
    page.keyboard.press("Enter")
    page.keyboard.type("return len(records)")
    typed = "def solve(records):\n    return len(records)"
    assert page.locator("textarea[name=code]").input_value() == typed  # kept in sync
    # Tab indents inside the editor (four spaces), Escape lets the keyboard leave it.
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Escape")
    assert page.evaluate("!document.activeElement.closest('.CodeMirror')")
    page.locator("main form button[type=submit]").click()
    page.wait_for_selector("[data-status=graded]", timeout=TIMEOUT_MS)
    submission = Submission.objects.get(user=learner, assignment=code)
    assert submission.answer["code"].replace("\r\n", "\n").rstrip() == typed  # a form post's line breaks
    assert page.locator("[data-score]").get_attribute("data-score").replace(",", ".") == "10.00"
    assert not pages.csp_violations, pages.csp_violations


@pytest.mark.parametrize("lang", ["ar", "fr"])
def test_the_editor_is_left_to_right_and_accessible_in_every_language(pages, lang):
    learner, url, _code = a_learner_on_a_code_assignment(language=lang)
    page = pages.new(lang=lang, user=learner)
    page.goto(url)
    page.locator(".CodeMirror").wait_for()
    assert page.locator("html").get_attribute("dir") == ("rtl" if lang == "ar" else "ltr")
    assert page.locator(".CodeMirror").get_attribute("dir") == "ltr"
    assert page.evaluate("getComputedStyle(document.querySelector('.CodeMirror-code')).direction") == "ltr"
    assert page.evaluate("getComputedStyle(document.querySelector('.CodeMirror pre')).direction") == "ltr"
    # The editor's input has the field's name (the learner form's label).
    label = page.locator("main form.answer label[for=id_code]").inner_text().strip()
    assert page.locator(".CodeMirror textarea").get_attribute("aria-label") == label
    assert run_axe(page) == []
    assert not pages.csp_violations, pages.csp_violations


def test_without_javascript_the_plain_textarea_posts_the_code(browser, live_server, worker):
    learner, url, code = a_learner_on_a_code_assignment()
    client = Client()
    client.force_login(learner)
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False, locale="en")
    context.add_cookies([
        {"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
         "url": live_server.url},
        {"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": live_server.url},
    ])  # fmt: skip
    try:
        page = context.new_page()
        page.goto(url)
        assert page.locator(".CodeMirror").count() == 0
        page.fill("textarea[name=code]", "def solve(records):\n    return 0\n")
        page.locator("main form button[type=submit]").click()
        page.wait_for_load_state()
        posted = Submission.objects.get(user=learner, assignment=code).answer["code"]
        assert posted.replace("\r\n", "\n") == "def solve(records):\n    return 0\n"  # a form post's line breaks
    finally:
        context.close()

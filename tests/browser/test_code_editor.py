"""The code editor (static/js/code_editor.js over the vendored CodeMirror 6): every Python code
textarea (the CodeEditor widget, data-editor="python"; a CSV, JSON or SQL textarea stays plain)
becomes a Python editor with highlighting, line numbers, indentation and bracket closing; what is
typed in it is what the form posts; Tab indents and Escape then Tab leaves it; it loads under the
pages' CSP with no console error; it stays left to right in Arabic pages; with JavaScript off the
plain textarea is used."""

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


def console_errors(page) -> list:
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def test_typing_in_the_editor_closes_brackets_indents_and_posts_the_code_and_it_is_graded(pages, worker):
    learner, url, code = a_learner_on_a_code_assignment()
    page = pages.new(lang="en", user=learner)
    errors = console_errors(page)
    page.goto(url)
    editor = page.locator(".code-editor")
    editor.wait_for()
    textarea = page.locator("textarea[name=code]")
    assert textarea.is_hidden()  # the editor stands in for it
    assert page.locator(".code-editor .tok-keyword", has_text="def").count() >= 1  # Python highlighting
    assert page.locator(".code-editor .cm-lineNumbers .cm-gutterElement", has_text="2").count() == 1
    # Replace the starter code by typing. An opening bracket gets its closing one, which the typed
    # closing bracket then steps over; Enter after the colon indents the next line itself.
    page.locator(".code-editor .cm-content").click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.type("def solve(records")
    assert textarea.input_value() == "def solve(records)"  # closed, and kept in sync
    page.keyboard.type("):")
    page.keyboard.press("Enter")
    page.keyboard.type("return len(records)")
    typed = "def solve(records):\n    return len(records)"
    assert textarea.input_value() == typed
    assert page.locator(".code-editor .cm-matchingBracket").count() == 2  # the pair the cursor is at
    # Tab indents inside the editor (four spaces), Shift+Tab takes them back.
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert textarea.input_value() == typed + "\n        "
    page.keyboard.press("Shift+Tab")
    assert textarea.input_value() == typed + "\n    "
    # Escape then Tab lets the keyboard leave it: no keyboard trap, and nothing typed.
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")
    assert page.evaluate("!document.activeElement.closest('.cm-editor')")
    assert page.evaluate("document.activeElement.matches('main form button')")
    assert textarea.input_value() == typed + "\n    "
    page.locator("main form button[type=submit]:not([name])").click()
    page.wait_for_selector("[data-status=graded]", timeout=TIMEOUT_MS)
    submission = Submission.objects.get(user=learner, assignment=code)
    assert submission.answer["code"].replace("\r\n", "\n").rstrip() == typed  # a form post's line breaks
    assert page.locator("[data-score]").get_attribute("data-score").replace(",", ".") == "10.00"
    assert not pages.csp_violations, pages.csp_violations
    assert errors == []


def test_the_hook_scripts_and_tests_use_sets_the_code_the_form_posts(pages):
    learner, url, _code = a_learner_on_a_code_assignment()
    page = pages.new(lang="en", user=learner)
    page.goto(url)
    page.locator(".code-editor").wait_for()
    page.evaluate("code => document.querySelector('textarea[name=code]').kafaatEditor.setValue(code)", "x = [1]\n")
    assert page.locator("textarea[name=code]").input_value() == "x = [1]\n"
    assert page.evaluate("document.querySelector('textarea[name=code]').kafaatEditor.getValue()") == "x = [1]\n"
    assert page.locator(".code-editor .cm-line").first.inner_text() == "x = [1]"


@pytest.mark.parametrize("lang", ["ar", "fr"])
def test_the_editor_is_left_to_right_styled_and_accessible_in_every_language(pages, lang):
    learner, url, _code = a_learner_on_a_code_assignment(language=lang)
    page = pages.new(lang=lang, user=learner)
    errors = console_errors(page)
    page.goto(url)
    page.locator(".code-editor").wait_for()
    assert page.locator("html").get_attribute("dir") == ("rtl" if lang == "ar" else "ltr")
    assert page.locator(".code-editor").get_attribute("dir") == "ltr"
    for selector in (".cm-editor", ".cm-content", ".cm-line"):
        assert page.evaluate(f"getComputedStyle(document.querySelector('{selector}')).direction") == "ltr", selector
    # CodeMirror's own layout style was let in (its nonce): the editor is a flex box, with the line
    # numbers on the left of the code in an Arabic page too.
    assert page.evaluate("getComputedStyle(document.querySelector('.cm-editor')).display") == "flex"
    gutter, content = page.locator(".cm-gutters").bounding_box(), page.locator(".cm-content").bounding_box()
    assert gutter["x"] + gutter["width"] <= content["x"] + 1
    # The editor's input is a multi-line text box named like the field (the learner form's label).
    label = page.locator("main form.answer label[for=id_code]").inner_text().strip()
    content_dom = page.locator(".code-editor .cm-content")
    assert content_dom.get_attribute("aria-label") == label
    assert content_dom.get_attribute("role") == "textbox" and content_dom.get_attribute("aria-multiline") == "true"
    assert run_axe(page) == []
    assert not pages.csp_violations, pages.csp_violations
    assert errors == []


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
        assert page.locator(".cm-editor").count() == 0
        assert page.locator("textarea[name=code]").is_visible()
        page.fill("textarea[name=code]", "def solve(records):\n    return 0\n")
        page.locator("main form button[type=submit]:not([name])").click()
        page.wait_for_load_state()
        posted = Submission.objects.get(user=learner, assignment=code).answer["code"]
        assert posted.replace("\r\n", "\n") == "def solve(records):\n    return 0\n"  # a form post's line breaks
    finally:
        context.close()

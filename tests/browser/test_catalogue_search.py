"""The catalogue's search and filters are a plain GET form: with JavaScript off, a search typed
without accents and a level chosen from the list narrow the courses shown."""

import pytest

from tests.factories import CourseFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_search_and_filters_work_without_javascript(browser, live_server):
    CourseFactory(title="Épidémiologie de terrain", language="fr", level="beginner")
    CourseFactory(title="Épidémiologie avancée", language="fr", level="advanced")
    CourseFactory(title="Cybersecurity basics", language="en", level="beginner")
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False, locale="en")
    try:
        page = context.new_page()
        page.goto("/")
        cards = page.locator(".course-card h3")
        assert cards.count() == 3
        page.fill("input[name=q]", "epidemiologie")
        page.select_option("select[name=level]", "advanced")
        page.locator("form[role=search] button[type=submit]").click()
        page.wait_for_url("**/?q=epidemiologie*")
        assert cards.all_inner_texts() == ["Épidémiologie avancée"]
        assert page.locator("select[name=level]").input_value() == "advanced"
    finally:
        context.close()

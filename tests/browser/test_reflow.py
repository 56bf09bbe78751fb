"""Reflow at 320 CSS pixels (WCAG 1.4.10): no page state of tests/browser/site.py scrolls
horizontally on a 320 px wide viewport, in French, Arabic and English; a wide table scrolls inside
its own box, never the page."""

import pytest

from tests.processes import ARTIFACTS

from .site import build, groups

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WIDTH = 320
SHOWN = {"essay", "review", "certificate"}
# The elements wider than the viewport (for the failure message): the widest first.
WIDEST = """(limit) => [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > limit + 1 || e.getBoundingClientRect().left < -1)
    .filter(e => !e.closest('.skip-link, .visually-hidden, .table-scroll, table, pre'))
    .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className && typeof e.className === 'string'
         ? '.' + e.className.trim().split(/\\s+/).join('.') : '') + ' ' + Math.round(e.getBoundingClientRect().width))
    .slice(0, 5)"""


@pytest.mark.parametrize("lang", ["fr", "ar", "en"])
def test_no_page_scrolls_horizontally_at_320_css_pixels(pages, lang):
    site = build()
    wide = {}
    for user, urls in groups(site):
        page = pages.new(lang=lang, user=user)
        page.set_viewport_size({"width": WIDTH, "height": 640})
        for name, url in urls.items():
            page.goto(url)
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > WIDTH:
                wide[name] = (width, page.evaluate(WIDEST, WIDTH))
            if name in SHOWN:  # for a person to look at: test-artifacts/reflow-320-<lang>-<name>.png
                ARTIFACTS.mkdir(exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / f"reflow-320-{lang}-{name}.png"), full_page=True)
    assert not wide, f"pages wider than {WIDTH} px in {lang}: {wide}"


def test_a_wide_table_scrolls_inside_its_box_at_320_css_pixels(pages):
    """Guard against a vacuous pass: a table wider than the screen makes the page no wider."""
    site = build()
    page = pages.new(lang="en", user=site["instructor"])
    page.set_viewport_size({"width": WIDTH, "height": 640})
    page.goto(site["instructor_pages"]["gradebook"])
    page.evaluate("""() => { const t = document.createElement('table');
        t.innerHTML = '<tr>' + '<td>wide-cell-content</td>'.repeat(30) + '</tr>';
        document.querySelector('main').append(t); }""")
    assert page.evaluate("document.querySelector('main table:last-child').scrollWidth") > WIDTH
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH

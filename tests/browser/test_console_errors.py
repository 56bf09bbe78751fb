"""No page logs an error in the browser: every page of the site (tests/browser/site.py), in French,
Arabic and English, loads with no console error and no uncaught script error. Numbers written into
SVG attributes, CSS or JSON are not localized ("234,4" is no SVG length), so the charts draw in
every language."""

import pytest

from .site import build

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _watch(page, errors: list[str], state: dict):
    def on_console(message):
        if message.type != "error":
            return
        url = message.location.get("url", "")
        # A page expected to be a 404 logs its own status as a failed resource: that one is the point.
        if state["expects_404"] and "status of 404" in message.text and url == page.url:
            return
        errors.append(f"console: {message.text} ({url})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(f"pageerror: {error}"))


def _bar_sizes(page) -> list[tuple[float, float]]:
    return page.eval_on_selector_all(
        "svg rect.bar", "rects => rects.map(r => [r.width.baseVal.value, r.height.baseVal.value])"
    )


def _line_lengths(page) -> list[float]:
    return page.eval_on_selector_all("svg polyline", "lines => lines.map(l => l.getTotalLength())")


@pytest.mark.parametrize("lang", ["fr", "ar", "en"])
def test_every_page_loads_without_a_console_or_script_error(pages, lang):
    site = build()
    found = {}
    groups = [
        (None, site["public_pages"]),
        (site["learner"], site["learner_pages"]),
        (site["instructor"], site["instructor_pages"]),
    ]
    bars, lines = {}, {}
    for user, urls in groups:
        page = pages.new(lang=lang, user=user)
        errors: list[str] = []
        state = {"expects_404": False}
        _watch(page, errors, state)
        for name, url in urls.items():
            state["expects_404"] = name.endswith("-unknown")
            response = page.goto(url, wait_until="load")
            assert response.status == (404 if state["expects_404"] else 200), f"{name} {url}: HTTP {response.status}"
            page.wait_for_timeout(50)  # let late console messages of this page arrive before the next
            if errors:
                found[f"{name} ({url})"] = list(errors)
                errors.clear()
            if name.endswith("analytics"):
                bars[name], lines[name] = _bar_sizes(page), _line_lengths(page)
    # A few messages per page are enough to see what broke (a chart logs one per shape).
    assert not found, f"errors in {lang}: " + "; ".join(
        f"{page_name}: {len(messages)} errors, first {messages[:3]}" for page_name, messages in found.items()
    )
    # The charts have data, and their bars really draw (an unparsable width reads as 0).
    for name in ("course-analytics", "assignment-analytics", "path-analytics"):
        assert any(w > 0 and h > 0 for w, h in bars[name]), f"{name} in {lang}: no bar draws: {bars[name]}"
    for name in ("course-analytics", "path-analytics"):
        assert any(length > 0 for length in lines[name]), f"{name} in {lang}: no line draws: {lines[name]}"

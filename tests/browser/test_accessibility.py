"""WCAG 2.1 AA: axe-core, run in headless Debian Chromium, finds no serious or critical violation
on every page state of tests/browser/site.py (learner, public, instructor and reviewer, university
admin), in French, Arabic and English. And the learner's main pages weigh under 200 KB with every
asset, on a cold cache; the code assignment page, whose editor alone is 360 KB raw, weighs that as
the web process sends it (the vendored files are sent as their pre-compressed .gz copies)."""

import pytest
from django.conf import settings

from tests.factories import UserFactory, enroll
from tests.processes import ROOT

from .conftest import run_axe
from .site import build, groups
from .test_journeys import a_path_with_one_course

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WEIGHT_LIMIT = 200 * 1024


@pytest.mark.parametrize("lang", ["fr", "ar", "en"])
def test_no_serious_or_critical_axe_violations(pages, lang):
    site = build()
    found = {}
    for user, urls in groups(site):
        page = pages.new(lang=lang, user=user)
        for name, url in urls.items():
            response = page.goto(url)
            expected = 404 if name.endswith("-unknown") else 200
            assert response.status == expected, f"{name} {url}: HTTP {response.status}"
            assert page.locator("html").get_attribute("lang") == lang
            assert page.locator("html").get_attribute("dir") == ("rtl" if lang == "ar" else "ltr")
            violations = run_axe(page)
            if violations:
                found[f"{name} ({url})"] = violations
    assert not found, f"axe violations in {lang}: {found}"
    assert not pages.csp_violations, pages.csp_violations


def test_learner_main_pages_weigh_under_200_kb_on_a_cold_cache(pages):
    site = build()
    weights = {}
    for name in ("dashboard", "course", "lesson", "quiz", "submission", "grades", "path-progress"):
        page = pages.new(lang="fr", user=site["learner"])  # a fresh context: nothing cached
        sizes = []

        def on_response(response, sizes=sizes):
            try:
                sizes.append((response.url, len(response.body())))
            except Exception:  # redirects have no body
                sizes.append((response.url, 0))

        page.on("response", on_response)
        page.goto(site["learner_pages"][name], wait_until="networkidle")
        page.remove_listener("response", on_response)
        weights[name] = (sum(s for _u, s in sizes), sizes)
        page.context.close()
    heavy = {k: v for k, v in weights.items() if v[0] >= WEIGHT_LIMIT}
    assert not heavy, heavy
    assert all(any(u.endswith(".css") for u, _s in sizes) for _t, sizes in weights.values())  # assets counted


def _sent_size(url: str, body: bytes) -> int:
    if settings.STATIC_URL in url:
        copy = ROOT / "static" / (url.split(settings.STATIC_URL, 1)[1].split("?")[0] + ".gz")
        if copy.is_file():
            return copy.stat().st_size
    return len(body)


def test_the_learner_code_page_weighs_under_200_kb_on_a_cold_cache_as_production_sends_it(pages):
    """The web process (WhiteNoise) sends a vendored file as its pre-compressed .gz copy
    (scripts/compress_vendor.py; tests/platform/test_static_compression.py checks it is sent so)
    to any browser that accepts gzip. The test server sends files raw, so a static file with a .gz
    copy counts at that copy's size, and everything else (the page, our own CSS and JS) raw."""
    _path, course, _quiz, code = a_path_with_one_course(language="fr")
    learner = UserFactory(full_name="Amina Benali")
    enroll(learner, course)
    page = pages.new(lang="fr", user=learner)  # a fresh context: nothing cached
    sizes = []

    def on_response(response):
        try:
            body = response.body()
        except Exception:  # redirects have no body
            body = b""
        sizes.append((response.url, _sent_size(response.url, body), len(body)))

    page.on("response", on_response)
    page.goto(f"/courses/{course.code}/assignments/{code.pk}/", wait_until="networkidle")
    page.locator(".code-editor").wait_for()
    page.remove_listener("response", on_response)
    assert any(url.endswith("/codemirror6/editor.min.js") for url, _sent, _raw in sizes)  # the editor counted
    assert sum(sent for _url, sent, _raw in sizes) < WEIGHT_LIMIT, sizes


def test_pages_work_without_javascript(browser, live_server):
    """The learner's pages are server-rendered: with JavaScript off, the dashboard and the verify
    page still show everything."""
    site = build()
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(site["learner"])
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False, locale="en")
    context.add_cookies([
        {"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
         "url": live_server.url},
        {"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": live_server.url},
    ])  # fmt: skip
    try:
        page = context.new_page()
        page.goto(site["learner_pages"]["dashboard"])
        assert page.get_by_role("heading", name="My dashboard").is_visible()
        assert page.get_by_text("Python for health data").first.is_visible()
        page.goto(site["public_pages"]["verify"])
        assert page.locator("[data-verification=valid]").is_visible()
    finally:
        context.close()


def test_the_axe_check_itself_catches_a_critical_violation(browser):
    """Guard against a vacuous pass: the same check flags an image without a text alternative."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_content(
            '<html lang="en"><head><title>t</title></head><body><main><img src="x.png"></main></body></html>'
        )
        assert "image-alt" in {v["id"] for v in run_axe(page)}
    finally:
        context.close()


def test_the_csp_check_itself_sees_an_inline_script_refused(pages):
    """Guard against a vacuous pass: the pages' CSP is applied in these browsers and a refused
    inline script is reported."""
    page = pages.new(lang="en")
    page.goto("/accounts/login/")
    try:
        page.add_script_tag(content="window.injected = true;")
    except Exception:  # Playwright may report the refused script itself
        pass
    page.wait_for_timeout(300)
    assert page.evaluate("window.injected === undefined")
    assert any("script-src" in v for v in pages.csp_violations), pages.csp_violations

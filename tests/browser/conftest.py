"""Real-browser tests: Playwright drives Debian's chromium (never a downloaded browser) against
pytest-django's live server; journeys also use the session's real Celery worker. A failing test
leaves a full-page screenshot in test-artifacts/."""

import os
import re

import pytest
from django.conf import settings
from django.test import Client

from tests.processes import ARTIFACTS, ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_URL = "/__test__/axe.min.js"  # never served by the platform: the browser context routes it


@pytest.fixture(scope="module", autouse=True)
def _orm_beside_playwright():
    """Playwright's sync API keeps an event loop in this thread while a browser is open; the
    test's own ORM calls are plain synchronous code, so Django may allow them, for the browser
    modules only (never leaked to other tests or their subprocesses)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="module")
def browser(_orm_beside_playwright):
    """One Chromium per test module, closed after it so no event loop outlives the module."""
    from playwright.sync_api import sync_playwright

    assert os.path.exists(CHROMIUM), "Debian's chromium is missing: scripts/test.sh installs it"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.rep_call = report
    return report


class Pages:
    """Open browser contexts for a test and screenshot every open page if the test fails."""

    def __init__(self, browser, base_url):
        self.browser = browser
        self.base_url = base_url
        self.contexts = []
        self.csp_violations = []

    def _console(self, message):
        if message.type == "error" and "Content Security Policy" in message.text:
            self.csp_violations.append(message.text)

    def new(self, *, lang: str = "en", user=None):
        # The pages' Content-Security-Policy applies: axe-core is served from the same origin (a
        # routed test-only URL), and every CSP violation a page reports is collected.
        context = self.browser.new_context(
            base_url=self.base_url, locale=lang, extra_http_headers={"Accept-Language": lang},
            accept_downloads=True,
        )  # fmt: skip
        context.route(f"{self.base_url}{AXE_URL}", lambda route: route.fulfill(
            path=str(AXE), content_type="text/javascript"))  # fmt: skip
        context.on("console", self._console)
        context.set_default_timeout(30_000)
        context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": lang, "url": self.base_url}])
        if user is not None:
            from tests.twofactor import login_with_2fa

            client = Client()
            login_with_2fa(client, user)  # privileged roles need a second factor on some paths
            session = client.cookies[settings.SESSION_COOKIE_NAME].value
            context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": self.base_url}])
        self.contexts.append(context)
        return context.new_page()

    def screenshot_all(self, name: str):
        ARTIFACTS.mkdir(exist_ok=True)
        for i, context in enumerate(self.contexts):
            for j, page in enumerate(context.pages):
                try:
                    page.screenshot(path=str(ARTIFACTS / f"{name}-{i}-{j}.png"), full_page=True)
                except Exception:  # a crashed page must not hide the test's own failure
                    pass

    def close(self):
        for context in self.contexts:
            context.close()


@pytest.fixture
def pages(browser, live_server, request):
    pages = Pages(browser, live_server.url)
    yield pages
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        pages.screenshot_all(re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid))
    pages.close()


def run_axe(page) -> list[dict]:
    """axe-core's serious and critical WCAG 2.0/2.1 A and AA violations on the current page."""
    if page.url.startswith("http"):
        origin = "/".join(page.url.split("/")[:3])
        page.add_script_tag(url=origin + AXE_URL)
    else:  # a page set from a string in the test itself
        page.add_script_tag(path=str(AXE))
    violations = page.evaluate(
        """async () => (await axe.run(document, {
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
            resultTypes: ['violations'],
        })).violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                   nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))"""
    )
    return [v for v in violations if v["impact"] in ("serious", "critical")]

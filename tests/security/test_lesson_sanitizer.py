"""The lesson sanitizer (issue 12): links and images may only point at this server (relative or
same-origin with SITE_URL; links may also be mailto:), and only the code highlighter's classes and
the documented content classes survive, so an author cannot load outside images (`/\\host`,
`https:host`, `http:/\\host` got through; only the CSP stopped them) nor dress text up as a
platform notice.

Each hostile URL is written into a lesson, the lesson page is fetched over HTTP, and every href and
src in the lesson's HTML is resolved by Node's WHATWG URL parser (the one browsers follow) against
the page's address: the origin must be ours."""

import json
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from courses import services as course_services
from tests.factories import LessonFactory, ModuleFactory, UserFactory, enroll

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
SITE = settings.SITE_URL.rstrip("/")

HOSTILE_URLS = [
    "/\\evil.example/x.png",  # the three
    "https:evil.example/x.png",
    "http:/\\evil.example/x.png",
    "//evil.example/x.png",
    "\\\\evil.example/x.png",
    "/\t/evil.example/x.png",
    "/&#9;/evil.example/x.png",
    "/&Tab;&NewLine;/evil.example/x.png",
    " //evil.example/x.png",
    "HTTPS://EVIL.example/x.png",
    "https://evil.example/x.png",
    "http://evil.example:8000/x.png",
    f"{SITE}@evil.example/x.png",
    f"{SITE}.evil.example/x.png",
    "https://127.0.0.1:8000/x.png",  # our host, another scheme: another origin
    "java\tscript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "javascript&colon;alert(1)",
    "&#106;avascript:alert(1)",
    "&#x2F;&#x2F;evil.example/x.png",
    "&#47;&#92;evil.example/x.png",
    "data:image/png;base64,iVBORw0KGgo=",
    "vbscript:msgbox(1)",
    "ftp://evil.example/x.png",
    "file:///etc/passwd",
    "h\nttps://evil.example/x.png",
    "https:\\\\evil.example\\x.png",
    "x:y",
]
SAFE_URLS = [
    "/media/lessons/figure.png",
    "figure.png",
    "../other/figure.png",
    "#section-2",
    "?tab=2",
    f"{SITE}/static/css/kafaat.css",
]


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[tuple[str, str, str]] = []
        self.classes: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in {"href", "src"}:
                self.urls.append((tag, name, value or ""))
            elif name == "class":
                self.classes += [(tag, c) for c in (value or "").split()]


def _article(client, lesson) -> str:
    response = client.get(reverse("courses:lesson", args=[lesson.module.course.code, lesson.pk]))
    assert response.status_code == 200
    return response.content.decode().split("<article", 1)[1].split("</article>", 1)[0]


def _lesson_page(markdown: str):
    module = ModuleFactory()
    learner = UserFactory()
    enroll(learner, module.course)
    lesson = LessonFactory(module=module)
    lesson.body_markdown = markdown
    course_services.lesson_save(lesson=lesson)
    client = Client()
    client.force_login(learner)
    html = _article(client, lesson)
    collected = _Collect()
    collected.feed(html)
    page_url = SITE + reverse("courses:lesson", args=[module.course.code, lesson.pk])
    return html, collected, page_url


def _resolve(urls: list[str], base: str) -> list[dict]:
    """Node's WHATWG URL parser: what a browser would fetch or follow for each value."""
    script = (
        "const [urls, base] = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "console.log(JSON.stringify(urls.map(u => { try { const x = new URL(u, base);"
        " return {protocol: x.protocol, origin: x.origin}; } catch (e) { return {error: String(e)}; } })));"
    )
    out = subprocess.run(["node", "-e", script], input=json.dumps([urls, base]), capture_output=True, text=True,
                         check=True, cwd=ROOT)  # fmt: skip
    return json.loads(out.stdout)


def _outside(collected: _Collect, page_url: str) -> list[str]:
    values = [v for _t, _a, v in collected.urls]
    bad = []
    for (tag, attr, value), where in zip(collected.urls, _resolve(values, page_url), strict=True):
        if "error" in where:
            continue  # not a URL a browser would load
        if tag == "a" and attr == "href" and where["protocol"] == "mailto:":
            continue
        if where["origin"] != SITE:
            bad.append(f"<{tag} {attr}={value!r}> goes to {where['origin']}")
    return bad


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_a_hostile_url_in_a_lesson_never_points_outside_the_server(url):
    markdown = f'![figure]({url})\n\n[a link]({url})\n\n<img src="{url}" alt="raw"> <a href="{url}">raw link</a>'
    html, collected, page_url = _lesson_page(markdown)
    assert _outside(collected, page_url) == []
    assert not re.search(r"(?i)(javascript|vbscript|data):", "".join(v for _t, _a, v in collected.urls))
    assert "a link" in html and "raw link" in html  # the text stays; only the address goes


@pytest.mark.parametrize("url", SAFE_URLS)
def test_relative_and_same_origin_urls_are_kept(url):
    _html, collected, page_url = _lesson_page(f"![figure]({url})\n\n[a link]({url})")
    assert [(t, a) for t, a, _v in collected.urls] == [("img", "src"), ("a", "href")]
    assert _outside(collected, page_url) == []


def test_mailto_links_are_kept_but_not_as_images():
    _html, collected, _page = _lesson_page("[write](mailto:teacher@example.org)\n\n![x](mailto:teacher@example.org)")
    assert [(t, a, v) for t, a, v in collected.urls] == [("a", "href", "mailto:teacher@example.org")]


def _highlighter_classes() -> set[str]:
    from pygments.token import STANDARD_TYPES

    css = (ROOT / "static/css/pygments.css").read_text()
    return {c for c in STANDARD_TYPES.values() if c} | set(re.findall(r"\.highlight \.([\w-]+)", css)) | {"highlight"}


def _platform_classes() -> set[str]:
    """The classes our own pages are styled with (a notice, a message, a badge...)."""
    found = set()
    for name in ("kafaat.css", "learning.css", "analytics.css"):
        found |= set(re.findall(r"\.([a-zA-Z][\w-]*)", (ROOT / "static/css" / name).read_text()))
    return found - CONTENT_CLASSES  # the lesson boxes are styled there too, for authors


CONTENT_CLASSES = {"lesson-note", "lesson-tip", "lesson-warning"}  # documented in the README


def test_only_highlighter_and_documented_content_classes_survive():
    markdown = (
        '<div class="notice">Your account will be closed: <a href="/accounts/me/">confirm here</a></div>\n\n'
        '<div class="message error">Session expired</div>\n\n'
        '<span class="badge ok">Verified by Kafaat</span> <span class="skip-link visually-hidden">x</span>\n\n'
        '<div class="lesson-note">A note</div>\n\n<div class="lesson-tip highlight notice">Tip</div>\n\n'
        '<pre class="notice"><code class="message">raw</code></pre>\n\n'
        "```python\ndef f(x):\n    return x + 1  # add one\n```\n"
    )
    html, collected, _page = _lesson_page(markdown)
    allowed = _highlighter_classes() | CONTENT_CLASSES
    assert [c for _t, c in collected.classes if c not in allowed] == []
    assert {c for _t, c in collected.classes} & _platform_classes() == set()
    found = {c for _t, c in collected.classes}
    assert {"highlight", "k", "nf", "c1", "lesson-note", "lesson-tip"} <= found  # code still highlighted
    assert "Your account will be closed" in html and "Session expired" in html


def test_html_stored_under_the_old_rules_is_rendered_again_from_its_markdown():
    """The data migration's helper: lessons and prompts saved before the rules tightened."""
    from courses.markdown import rerender_stored_html
    from courses.models import AssignmentVersion, Lesson
    from tests.factories import make_quiz

    lesson = LessonFactory(body_markdown="![x](https:evil.example/x.png) **kept**")
    Lesson.objects.filter(pk=lesson.pk).update(body_html='<p><img src="https:evil.example/x.png"> <b>kept</b></p>')
    quiz = make_quiz()
    AssignmentVersion.objects.filter(pk=quiz.current_version_id).update(
        prompt_markdown='<div class="notice">Fake</div>', prompt_html='<div class="notice">Fake</div>'
    )
    assert rerender_stored_html(lesson_model=Lesson, version_model=AssignmentVersion) >= 2
    lesson.refresh_from_db()
    assert "evil.example" not in lesson.body_html and "<strong>kept</strong>" in lesson.body_html
    prompt = AssignmentVersion.objects.get(pk=quiz.current_version_id).prompt_html
    assert "notice" not in prompt and "Fake" in prompt
    assert rerender_stored_html(lesson_model=Lesson, version_model=AssignmentVersion) == 0  # idempotent

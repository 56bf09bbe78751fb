"""Walk every URL of the project as every role: the status must be the one url_matrix.py says, and
every HTML page must load nothing from outside the server and carry no inline script."""

import re
from types import SimpleNamespace

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts import services
from accounts.models import DataExport
from analytics.models import ExportJob
from courses.models import CourseImportJob
from grading.models import RegradeJob, Submission
from tests.factories import (
    CourseFactory,
    LessonFactory,
    ModuleFactory,
    OrganizationFactory,
    PathFactory,
    UserFactory,
    add_to_path,
    enroll,
    make_quiz,
)
from tests.grading.helpers import ESSAY_SPEC, make_assignment
from tests.twofactor import login_with_2fa

from .url_matrix import MATRIX, NAMESPACE_RULES, ROLES

pytestmark = pytest.mark.django_db


def iter_urls(resolver=None, namespace=None):
    """(full name, URLPattern) for every pattern, however deeply included."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace
            full = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
            yield from iter_urls(entry, full)
        elif isinstance(entry, URLPattern):
            label = entry.name or f"<unnamed {entry.pattern}>"
            yield (f"{namespace}:{label}" if namespace else label), entry


def _params(pattern: URLPattern) -> list[str]:
    regex = pattern.pattern.regex
    return list(regex.groupindex)


def _rule_for(name: str):
    if name in MATRIX:
        return MATRIX[name]
    return NAMESPACE_RULES.get(name.split(":")[0]) if ":" in name else None


def test_every_url_of_the_project_has_an_entry_in_the_matrix():
    missing = sorted(name for name, _p in iter_urls() if _rule_for(name) is None)
    assert not missing, f"add these URLs to tests/security/url_matrix.py: {missing}"
    stale = sorted(set(MATRIX) - {name for name, _p in iter_urls()})
    assert not stale, f"these matrix entries name no URL any more: {stale}"


@pytest.fixture
def world():
    org = OrganizationFactory()
    course = CourseFactory()
    module = ModuleFactory(course=course)
    lesson = LessonFactory(module=module)
    quiz = make_quiz(module=module)
    users = {
        "learner": UserFactory(organization=org),
        "instructor": UserFactory(),
        "other_instructor": UserFactory(),
        "university_admin": UserFactory(),
        "staff": UserFactory(is_staff=True, is_superuser=True),
    }
    course.instructors.add(users["instructor"])
    CourseFactory().instructors.add(users["other_instructor"])
    services.membership_grant(user=users["university_admin"], organization=org)
    enroll(users["learner"], course)
    submission = Submission.objects.create(
        user=users["learner"], assignment=quiz, version=quiz.current_version, attempt=1, answer={}, status="graded"
    )
    export = DataExport.objects.create(user=users["learner"])
    services.export_build(export_id=export.pk)
    path = PathFactory()
    add_to_path(path, course, 1)
    export_job = ExportJob.objects.create(course=course, requested_by=users["instructor"], format="csv")
    essay = make_assignment("essay", ESSAY_SPEC, course=course)
    essay_submission = Submission.objects.create(
        user=users["learner"], assignment=essay, version=essay.current_version, attempt=1, answer={"text": "x"},
        status="needs_review",
    )  # fmt: skip
    regrade_job = RegradeJob.objects.create(
        assignment=quiz, version=quiz.current_version, requested_by=users["instructor"]
    )
    import_job = CourseImportJob.objects.create(requested_by=users["instructor"], file_name="big.zip")
    return SimpleNamespace(
        course=course, lesson=lesson, quiz=quiz, submission=submission, export=export, users=users, path=path,
        export_job=export_job, essay_submission=essay_submission, regrade_job=regrade_job, import_job=import_job,
    )  # fmt: skip


def _clients(world):
    clients = {"anonymous": Client()}
    for role in ROLES[1:]:
        clients[role] = Client()
        login_with_2fa(clients[role], world.users[role])
    return clients


def _url(name, pattern, rule, world):
    if "<unnamed" in name:
        return None
    if "kwargs" in rule:
        return reverse(name, kwargs=rule["kwargs"](world))
    params = _params(pattern)
    kwargs = {p: ("accounts" if p == "app_label" else "1") for p in params}
    return reverse(name, kwargs=kwargs or None)


LOADING = re.compile(
    r"<(script|link|img|source|iframe|video|audio|embed|object)\b[^>]*?\b(src|href|srcset|data)\s*=\s*[\"']([^\"']*)",
    re.IGNORECASE,
)
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
ON_HANDLER = re.compile(r"<[a-z][^>]*\s(on[a-z]+)\s*=", re.IGNORECASE)
EXTERNAL = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)


def page_problems(html: str) -> list[str]:
    """What in a page would load something from outside, or run script inline."""
    problems = []
    for tag, attr, value in LOADING.findall(html):
        for candidate in value.split(","):
            if EXTERNAL.match(candidate.strip()):
                problems.append(f"<{tag} {attr}={value!r}> loads from outside the server")
    problems += [f"inline script: {m}" for m in INLINE_SCRIPT.findall(html)]
    problems += [f"inline handler: {m}" for m in ON_HANDLER.findall(html)]
    return problems


def test_every_role_gets_the_expected_status_on_every_url_and_pages_load_nothing_from_outside(world):
    clients = _clients(world)
    failures, pages = [], 0
    for name, pattern in iter_urls():
        rule = _rule_for(name)
        url = _url(name, pattern, rule, world)
        if url is None:  # an unnamed pattern inside a namespace rule (admin's catch-all)
            continue
        for role in ROLES:
            expected = rule["expect"][role]
            expected = expected if isinstance(expected, set) else {expected}
            response = clients[role].get(url, HTTP_ACCEPT_LANGUAGE="en")
            if response.status_code not in expected:
                failures.append(f"{name} {url} as {role}: {response.status_code}, expected {sorted(expected)}")
            content_type = response.get("Content-Type", "")
            if response.status_code == 200 and content_type.startswith("text/html"):
                pages += 1
                for problem in page_problems(response.content.decode()):
                    failures.append(f"{name} {url} as {role}: {problem}")
    assert not failures, "\n".join(failures)
    assert pages > 50


def test_the_page_checker_catches_outside_loads_and_inline_script():
    html = (
        '<script src="https://cdn.example.com/x.js"></script><link rel="stylesheet" href="//fonts.example.com/f.css">'
        '<img src="http://tracker.example/p.gif"><script>alert(1)</script><a href="/" onclick="x()">a</a>'
    )
    assert len(page_problems(html)) == 5
    assert page_problems('<script src="/static/x.js"></script><img src="/media/a.png"><a href="https://ok.org">') == []

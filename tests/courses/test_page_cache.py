"""The anonymous catalogue and course page come from the shared cache (kernel.page_cache): their
queries stay constant cold and warm, every content change shows at once in every language, no
signed-in user ever gets a cached page, and each visitor gets their own CSRF token and headers."""

import re
import time
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.management import call_command
from django.db import connection, transaction
from django.http import HttpResponse
from django.middleware.csrf import _unmask_cipher_token
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.csp import LazyNonce

from courses import services
from kernel import page_cache
from tests.courses.images import PNG_COVER
from tests.factories import (
    CourseFactory,
    LessonFactory,
    ModuleFactory,
    PathFactory,
    UserFactory,
    add_to_path,
    enroll,
    make_quiz,
)
from tests.twofactor import login_with_2fa

CATALOGUE = "/"
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([A-Za-z0-9]{64})"')


def _grow(courses: int, modules: int):
    """`courses` published courses on one path, each with `modules` modules of two lessons and a
    quiz. Returns the first course."""
    path = PathFactory()
    first = None
    for n in range(courses):
        course = CourseFactory()
        first = first or course
        add_to_path(path, course, n + 1)
        for position in range(1, modules + 1):
            module = ModuleFactory(course=course, position=position)
            LessonFactory(module=module, position=1)
            LessonFactory(module=module, position=2)
            make_quiz(module=module)
    return first


def _queries(client, url, **headers) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, **headers)
    assert response.status_code == 200
    return len(ctx.captured_queries), response.content.decode()


def _visitor(lang: str = "en") -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
    return client


def _detail(course) -> str:
    return reverse("courses:detail", kwargs={"code": course.code})


def _instructor(course):
    user = UserFactory()
    course.instructors.add(user)
    return user


# --- Queries: constant, cold and warm ----------------------------------------------------------


@pytest.mark.parametrize("page", ["catalogue", "course"])
def test_anonymous_pages_run_the_same_queries_cold_at_any_size_and_none_warm(db, page):
    cold_counts = {}
    for size in (1, 12):
        page_cache.invalidate()
        course = _grow(courses=size, modules=size)
        url = CATALOGUE if page == "catalogue" else _detail(course)
        visitor = _visitor()
        cold, html = _queries(visitor, url)
        assert course.title in html
        warm, warm_html = _queries(_visitor(), url)
        cold_counts[size] = cold
        # Three for the catalogue (paths, their courses, the courses); five for the course page
        # (the course, modules, lessons, assignments, the paths before it). None once cached: the
        # cache in tests is the process's memory (the database cache costs one, below).
        assert cold == (3 if page == "catalogue" else 5)
        assert warm == 0
        assert TOKEN.sub("", warm_html) == TOKEN.sub("", html)
    assert cold_counts[1] == cold_counts[12]


@pytest.mark.django_db(transaction=True)
def test_with_the_database_cache_a_cached_page_costs_one_query_and_none_while_the_version_is_trusted(settings):
    settings.CACHES = {"default": {"BACKEND": "config.cache.DatabaseCache", "LOCATION": "kafaat_cache"}}
    call_command("createcachetable")  # what `migrate` does where the database cache is configured
    course = _grow(courses=3, modules=3)
    for url in (CATALOGUE, _detail(course)):
        settings.KAFAAT_PAGE_VERSION_SECONDS = 60
        _queries(_visitor(), url)
        warm, html = _queries(_visitor(), url)
        assert warm == 0  # the version read by the first request is trusted for a while
        assert course.title in html
        settings.KAFAAT_PAGE_VERSION_SECONDS = 0
        warm, html = _queries(_visitor(), url)
        assert warm == 1  # the content version (the page is this process's copy)
        assert course.title in html


def _database_cache(settings):
    settings.CACHES = {"default": {"BACKEND": "config.cache.DatabaseCache", "LOCATION": "kafaat_cache"}}
    call_command("createcachetable")


@pytest.mark.django_db(transaction=True)
def test_a_page_this_process_holds_reads_only_the_content_version_from_the_shared_cache(settings):
    """The catalogue's body (tens of KB) is kept in this process: a hit asks the database cache for
    the version row alone. A process that does not hold the page reads it with the version in the
    same query."""
    _database_cache(settings)
    settings.KAFAAT_PAGE_VERSION_SECONDS = 0
    _grow(courses=3, modules=3)
    _queries(_visitor(), CATALOGUE)
    key = page_cache.page_key_for(CATALOGUE, "en")
    assert key in page_cache._local
    with CaptureQueriesContext(connection) as ctx:
        html = _visitor().get(CATALOGUE).content.decode()
    (query,) = ctx.captured_queries
    assert page_cache.VERSION_KEY in query["sql"] and key not in query["sql"]
    page_cache._local.clear()  # as another web process, which has not served the page yet
    with CaptureQueriesContext(connection) as ctx:
        again = _visitor().get(CATALOGUE).content.decode()
    (query,) = ctx.captured_queries
    assert page_cache.VERSION_KEY in query["sql"] and key in query["sql"]
    assert TOKEN.sub("", again) == TOKEN.sub("", html)
    assert key in page_cache._local  # held from now on


@pytest.mark.django_db(transaction=True)
def test_a_change_committed_by_another_process_makes_this_process_copy_stale_at_once(settings):
    _database_cache(settings)
    settings.KAFAAT_PAGE_VERSION_SECONDS = 0
    course = _grow(courses=1, modules=1)
    url = _detail(course)
    assert course.title in _visitor("ar").get(url).content.decode()
    assert _queries(_visitor("ar"), url)[0] == 1
    # Another process renames the course and bumps the version (its on_commit invalidate).
    type(course).objects.filter(pk=course.pk).update(title="Gouvernance des données")
    page_cache.cache.set(page_cache.VERSION_KEY, "bumped-by-another-process", timeout=None)
    count, html = _queries(_visitor("ar"), url)
    assert "Gouvernance des données" in html and count > 2  # rendered again
    # A third process stored a newer page under the current version: it is taken, not rendered.
    type(course).objects.filter(pk=course.pk).update(title="Droit de la santé")
    fresh = {**page_cache._local[page_cache.page_key_for(url, "ar")], "body": b"<p>from another process</p>"}
    page_cache.cache.set(page_cache.page_key_for(url, "ar"), fresh, timeout=60)
    page_cache._local[page_cache.page_key_for(url, "ar")] = {**fresh, "version": "an older version"}
    count, html = _queries(_visitor("ar"), url)
    assert (count, html) == (2, "<p>from another process</p>")


@pytest.mark.django_db(transaction=True)
def test_another_process_change_shows_once_the_version_is_no_longer_trusted_this_process_change_at_once(
    settings, monkeypatch
):
    _database_cache(settings)
    settings.KAFAAT_PAGE_VERSION_SECONDS = 5
    clock = [1000.0]  # page_cache's monotonic clock, moved by hand
    monkeypatch.setattr(page_cache, "time", SimpleNamespace(time=time.time, monotonic=lambda: clock[0]))
    course = _grow(courses=1, modules=1)
    url = _detail(course)
    assert course.title in _visitor("fr").get(url).content.decode()
    # Another process renames the course and bumps the version: within the trusted 5 seconds
    # this process still serves its copy, without a query; after them, the new page.
    type(course).objects.filter(pk=course.pk).update(title="Gouvernance des données")
    page_cache.cache.set(page_cache.VERSION_KEY, "bumped-by-another-process", timeout=None)
    count, html = _queries(_visitor("fr"), url)
    assert (count, "Gouvernance des données" in html) == (0, False)
    clock[0] += 4.9
    assert _queries(_visitor("fr"), url)[0] == 0
    clock[0] += 0.2
    count, html = _queries(_visitor("fr"), url)
    assert "Gouvernance des données" in html and count > 2
    # A change this process commits shows at once, however long the version is trusted.
    settings.KAFAAT_PAGE_VERSION_SECONDS = 3600
    assert _queries(_visitor("fr"), url)[0] == 0
    course.refresh_from_db()
    course.title = "Droit de la santé"
    course.save()
    assert "Droit de la santé" in _visitor("fr").get(url).content.decode()


def test_this_process_copy_lives_no_longer_than_the_shared_entry(db, monkeypatch):
    course = _grow(courses=1, modules=1)
    url = _detail(course)
    _visitor().get(url)
    assert _queries(_visitor(), url)[0] == 0
    later = page_cache.time.time() + settings.KAFAAT_PAGE_CACHE_SECONDS + 1
    monkeypatch.setattr(page_cache.time, "time", lambda: later)
    page_cache.cache.clear()  # the shared entry expired too
    assert _queries(_visitor(), url)[0] == 5


def test_this_process_holds_a_bounded_number_of_pages(db, monkeypatch):
    monkeypatch.setattr(page_cache, "LOCAL_ENTRIES", 3)
    view, calls = _counting_view(lambda request: f"<p>{request.path}</p>")
    for n in range(6):
        view(_request(path=f"/page/{n}/"))
    assert len(page_cache._local) == 3


def test_with_the_cache_down_the_pages_are_rendered(db, settings, caplog):
    course = _grow(courses=1, modules=1)
    # Nothing listens on port 1: every read and write of the cache fails at once.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:1/0"}}  # fmt: skip
    for url in (CATALOGUE, _detail(course)):
        count, html = _queries(_visitor(), url)
        assert course.title in html and count > 0
    assert "the cache cannot be read" in caplog.text


def test_a_search_or_filter_is_rendered_every_time(db):
    _grow(courses=2, modules=1)
    _queries(_visitor(), "/?q=course")
    again, _ = _queries(_visitor(), "/?q=course")
    assert again == 3


# --- Invalidation ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_publishing_a_course_shows_it_on_the_cached_catalogue_in_every_language():
    course = CourseFactory(status="draft", title="Soins et données")
    ModuleFactory(course=course, position=1)
    instructor = _instructor(course)
    for lang in ("fr", "ar", "en"):
        assert "Soins et données" not in _visitor(lang).get(CATALOGUE).content.decode()
    # As another web process sees it (it has not served pages in this thread): only the bump at
    # the commit may make its pages stale.
    with transaction.atomic():
        page_cache._thread.cached_a_page = False
        services.course_status_set(user=instructor, course=course, status="published")
        # Still the page cached before: nothing committed, no other process sees the course yet.
        assert "Soins et données" not in _visitor("fr").get(CATALOGUE).content.decode()
        page_cache._thread.cached_a_page = False
    for lang in ("fr", "ar", "en"):
        html = _visitor(lang).get(CATALOGUE).content.decode()
        assert "Soins et données" in html
        assert f'<html lang="{lang}"' in html


def test_one_bump_per_transaction_however_many_rows_change(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        course = CourseFactory()
        for position in range(1, 6):
            ModuleFactory(course=course, position=position)
    assert callbacks.count(page_cache.invalidate) == 1


@pytest.mark.parametrize("change", ["course title", "module title", "module order", "new lesson", "archive", "cover"])
def test_editing_a_course_shows_on_its_cached_page_and_the_catalogue(db, change):
    course = _grow(courses=1, modules=2)
    instructor = _instructor(course)
    first, second = course.modules.order_by("position")
    url = _detail(course)
    before = {u: _visitor("fr").get(u).content.decode() for u in (url, CATALOGUE)}
    assert _queries(_visitor("fr"), url)[0] == 0  # cached
    if change == "course title":
        course.title = "Nouveau titre"
        course.save()
        expected = {url: "Nouveau titre", CATALOGUE: "Nouveau titre"}
    elif change == "module title":
        services.module_update(user=instructor, module=first, title="Module renommé")
        expected = {url: "Module renommé"}
    elif change == "module order":
        assert services.module_move(user=instructor, module=second, direction="up")  # update(): no signal
        expected = {url: None}
    elif change == "new lesson":
        LessonFactory(module=second, position=3, title="Leçon ajoutée")
        expected = {url: "Leçon ajoutée"}
    elif change == "archive":
        services.course_status_set(user=instructor, course=course, status="archived")
        expected = {url: "Ce cours est archivé", CATALOGUE: "Archivé"}
    else:
        services.cover_store(course=course, data=PNG_COVER)
        expected = {url: "/cover/?v=", CATALOGUE: "/cover/?v="}
    for u, text in expected.items():
        html = _visitor("fr").get(u).content.decode()
        assert html != before[u], f"{change}: {u} still cached"
        if text:
            assert text in html
    if change == "module order":
        html = _visitor("fr").get(url).content.decode()
        assert html.index(second.title) < html.index(first.title)


# --- Nobody gets another visitor's page --------------------------------------------------------


def test_a_signed_in_learner_never_gets_the_cached_anonymous_page(db, client):
    course = _grow(courses=1, modules=1)
    url = _detail(course)
    anonymous = _visitor().get(url).content.decode()
    assert "Log in to enroll" in anonymous
    learner = UserFactory(full_name="Samira Alaoui")
    enroll(learner, course)
    login_with_2fa(client, learner)
    for _ in range(2):
        html = client.get(url).content.decode()
        assert "Log in to enroll" not in html
        assert "Samira" in html and "Enrolled" in html and "Start" in html
    other = Client()
    login_with_2fa(other, UserFactory(full_name="Youssef Benali"))
    html = other.get(url).content.decode()
    assert "Youssef" in html and "Samira" not in html and 'action="/courses/' in html  # the Enroll form
    # Nothing a signed-in visit rendered was stored for anonymous visitors.
    page_cache.invalidate()
    client.get(url)
    count, html = _queries(_visitor(), url)
    assert count == 5 and "Samira" not in html


def test_each_anonymous_visitor_gets_their_own_csrf_token_and_the_language_switch_works(db):
    _grow(courses=1, modules=1)
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    first_token = TOKEN.search(first.get(CATALOGUE).content.decode()).group(1)
    response = second.get(CATALOGUE)
    body = response.content.decode()
    assert _queries(Client(), CATALOGUE)[0] == 0, "the second visit was served from the cache"
    assert "\x00" not in body
    tokens = set(TOKEN.findall(body))
    assert len(tokens) == 1
    second_token = tokens.pop()
    secret = second.cookies[settings.CSRF_COOKIE_NAME].value
    assert _unmask_cipher_token(second_token) == secret
    assert _unmask_cipher_token(first_token) == first.cookies[settings.CSRF_COOKIE_NAME].value != secret
    switched = second.post(
        reverse("set_language"), {"language": "ar", "next": "/", "csrfmiddlewaretoken": second_token}
    )
    assert switched.status_code == 302
    assert 'lang="ar" dir="rtl"' in second.get(CATALOGUE).content.decode()
    # The first visitor's token is refused with the second visitor's cookie.
    refused = second.post(reverse("set_language"), {"language": "fr", "next": "/", "csrfmiddlewaretoken": first_token})
    assert refused.status_code == 403


@pytest.mark.parametrize("page", ["catalogue", "course"])
def test_a_cached_page_has_the_headers_of_a_rendered_one(db, page):
    course = _grow(courses=1, modules=1)
    url = CATALOGUE if page == "catalogue" else _detail(course)
    rendered = _visitor("ar").get(url)
    cached = _visitor("ar").get(url)
    assert _queries(_visitor("ar"), url)[0] == 0
    assert dict(cached.headers) == dict(rendered.headers)
    assert set(cached.cookies) == set(rendered.cookies) == {settings.CSRF_COOKIE_NAME}
    vary = {v.strip() for v in cached["Vary"].split(",")}
    assert {"Accept-Language", "Cookie"} <= vary
    assert cached["Content-Language"] == "ar"
    assert "nonce-" not in cached["Content-Security-Policy"]
    assert cached["X-Frame-Options"] == "DENY"


def test_the_language_comes_from_each_visitor_not_from_the_cache(db):
    _grow(courses=1, modules=1)
    for lang in ("fr", "ar", "en", "fr"):
        html = _visitor(lang).get(CATALOGUE).content.decode()
        assert f'<html lang="{lang}" dir="{"rtl" if lang == "ar" else "ltr"}">' in html
    html = Client(headers={"Accept-Language": "ar"}).get(CATALOGUE).content.decode()
    assert '<html lang="ar"' in html


# --- What is never stored ----------------------------------------------------------------------


def _request(path="/page/", **extra):
    request = RequestFactory().get(path, **extra)
    request.user = AnonymousUser()
    request._messages = CookieStorage(request)
    request._csp_nonce = LazyNonce()
    return request


def _counting_view(body):
    calls = []

    @page_cache.cache_anonymous_page
    def view(request):
        calls.append(1)
        return HttpResponse(body(request))

    return view, calls


def test_a_page_that_used_the_csp_nonce_is_not_stored(db):
    view, calls = _counting_view(lambda request: f'<style nonce="{request._csp_nonce}"></style>')
    first = view(_request()).content
    second = view(_request()).content
    assert len(calls) == 2 and first != second
    plain, plain_calls = _counting_view(lambda request: "<p>same for all</p>")
    plain(_request())
    plain(_request())
    assert len(plain_calls) == 1


def test_a_visitor_with_a_message_waiting_gets_a_rendered_page(db):
    view, calls = _counting_view(lambda request: "<p>page</p>")
    view(_request())
    with_message = _request()
    messages.info(with_message, "You are logged out.")
    view(with_message)
    assert len(calls) == 2


def test_a_page_whose_token_is_not_a_plain_form_field_is_not_stored(db):
    from django.middleware.csrf import get_token

    view, calls = _counting_view(lambda request: f'<meta name="csrfmiddlewaretoken" content="{get_token(request)}">')
    view(_request())
    view(_request())
    assert len(calls) == 2

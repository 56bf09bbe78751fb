"""The catalogue: published paths and published courses alike, a search box that ignores case and
accents, filters by track, language and level in a plain GET form, a bounded number of queries; and
an archived course, gone from the catalogue, still open to the learners enrolled in it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from courses import selectors, services
from courses.models import Course, LessonProgress
from grading import services as grading_services
from grading.models import Submission
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

from .images import PNG_COVER


def _codes(found) -> tuple[list[str], list[str]]:
    return [p.code for p in found.paths], [c.code for c in found.courses]


@pytest.fixture
def shelf(db):
    """Two published paths, a published course on no path, a draft and an archived course."""
    epi = CourseFactory(code="epi-101", title="Épidémiologie de terrain", summary="Enquêtes et surveillance.",
                        language="fr", level="beginner", workload_hours=12)  # fmt: skip
    stats = CourseFactory(code="stats-201", title="Statistics for health", summary="Regression, survival.",
                          language="en", level="intermediate", track="data-science")  # fmt: skip
    sec = CourseFactory(code="sec-301", title="أمن المعلومات الصحية", summary="حماية البيانات", language="ar",
                        level="advanced")  # fmt: skip
    solo = CourseFactory(code="solo-1", title="Droit de la santé numérique", summary="RGPD, loi 09-08.",
                         language="fr", level="intermediate", track="health-law", workload_hours=3)  # fmt: skip
    CourseFactory(code="draft-1", title="Brouillon santé", status="draft")
    CourseFactory(code="old-1", title="Ancien cours santé", status="archived")
    ds = PathFactory(code="ds-path", title="Science des données", track="data-science", summary="Parcours données")
    add_to_path(ds, epi, 1)
    add_to_path(ds, stats, 2)
    cyber = PathFactory(code="cyber-path", title="Cyber", track="cybersecurity")
    add_to_path(cyber, sec, 1)
    PathFactory(code="draft-path", title="Santé en brouillon", status="draft")
    return {"epi": epi, "stats": stats, "sec": sec, "solo": solo}


def test_published_paths_and_courses_are_listed_drafts_and_archived_are_not(shelf):
    paths, courses = _codes(selectors.catalogue(user=UserFactory()))
    assert sorted(paths) == ["cyber-path", "ds-path"]
    assert sorted(courses) == ["epi-101", "sec-301", "solo-1", "stats-201"]


def test_a_course_appears_as_soon_as_it_is_published_on_a_path_or_not(shelf):
    course = CourseFactory(code="fresh", status="draft")
    ModuleFactory(course=course)
    assert "fresh" not in _codes(selectors.catalogue(user=UserFactory()))[1]
    staff = UserFactory(is_staff=True)
    services.course_status_set(user=staff, course=course, status="published")
    assert "fresh" in _codes(selectors.catalogue(user=UserFactory()))[1]
    services.course_status_set(user=staff, course=course, status="archived")
    assert "fresh" not in _codes(selectors.catalogue(user=UserFactory()))[1]


@pytest.mark.parametrize(
    "q,paths,courses",
    [
        ("epidemiologie", ["ds-path"], ["epi-101"]),  # no accents typed
        ("ÉPIDÉMIOLOGIE", ["ds-path"], ["epi-101"]),  # capitals with accents
        ("enquetes", ["ds-path"], ["epi-101"]),  # in the summary
        ("STATS-201", ["ds-path"], ["stats-201"]),  # the code
        ("sante numerique", [], ["solo-1"]),  # every word, anywhere
        ("sante regression", [], []),  # every word must match the same course
        ("donnees", ["ds-path"], []),  # the path's own summary
        ("امن", ["cyber-path"], ["sec-301"]),  # Arabic without its hamza
        ("brouillon", [], []),  # drafts are never found
        ("ancien", [], []),  # nor archived courses
    ],
)
def test_search_ignores_case_and_accents(shelf, q, paths, courses):
    assert _codes(selectors.catalogue(user=UserFactory(), q=q)) == (paths, courses)


@pytest.mark.parametrize(
    "filters,paths,courses",
    [
        ({"track": "data-science"}, ["ds-path"], ["epi-101", "stats-201"]),  # own track or its path's
        ({"track": "health-law"}, [], ["solo-1"]),  # a course on no path, by its own track
        ({"track": "cybersecurity"}, ["cyber-path"], ["sec-301"]),
        ({"language": "fr"}, ["ds-path"], ["solo-1", "epi-101"]),
        ({"language": "ar"}, ["cyber-path"], ["sec-301"]),
        ({"level": "intermediate"}, ["ds-path"], ["solo-1", "stats-201"]),
        ({"level": "advanced", "track": "data-science"}, [], []),
        ({"language": "fr", "level": "beginner", "q": "terrain"}, ["ds-path"], ["epi-101"]),
    ],
)
def test_filters_by_track_language_and_level(shelf, filters, paths, courses):
    found = selectors.catalogue(user=UserFactory(), **filters)
    assert sorted(_codes(found)[0]) == sorted(paths)
    assert sorted(_codes(found)[1]) == sorted(courses)
    assert found.filtered


def test_the_page_is_a_plain_get_form_and_shows_level_workload_language_and_cover(client, shelf):
    services.cover_store(course=shelf["epi"], data=PNG_COVER)
    page = client.get(reverse("courses:catalogue"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<form method="get"' in page and 'name="q"' in page
    for name in ("track", "language", "level"):
        assert f'name="{name}"' in page
    assert "Beginner" in page and "Intermediate" in page and "Advanced" in page
    assert "About 12 hours" in page and "About 3 hours" in page
    assert "French" in page and "Arabic" in page
    cover = shelf["epi"].cover
    assert f"{reverse('courses:cover', kwargs={'code': 'epi-101'})}?v={cover.version}" in page
    assert "Health law" in page  # solo-1's own track


def test_the_page_filters_from_its_query_string_and_keeps_the_choices(client, shelf):
    url = reverse("courses:catalogue")
    page = client.get(url, {"q": "Épidémio", "level": "beginner"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Épidémiologie de terrain" in page and "Statistics for health" not in page.split("<h2>Courses")[1]
    assert 'value="Épidémio"' in page and '<option value="beginner" selected>' in page
    assert "Show everything" in page
    assert "No course matches." in client.get(url, {"q": "zzz"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()


@pytest.mark.parametrize("params", [{"level": "expert"}, {"track": "x" * 300}, {"language": "klingon"},
                                    {"q": "x" * 500}])  # fmt: skip
def test_unknown_filter_values_are_ignored(client, shelf, params):
    response = client.get(reverse("courses:catalogue"), params)
    assert response.status_code == 200


def test_fold_drops_case_accents_harakat_and_ligatures():
    assert selectors.fold("Épidémiologie") == "epidemiologie"
    assert selectors.fold("ŒUVRE Cœur") == "oeuvre coeur"
    assert selectors.fold("إِدارة البيانات") == selectors.fold("ادارة البيانات")
    assert selectors.fold("الصحّة") == "الصحة"


def _page_queries(client, user) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("courses:catalogue"), {"q": "course"}).status_code == 200
    return len(ctx.captured_queries)


def _grow(n: int):
    for i in range(n):
        path = PathFactory(track="data-science")
        for position in range(1, 4):
            course = CourseFactory(title=f"Course {i}-{position}", level="advanced", workload_hours=position)
            services.cover_store(course=course, data=PNG_COVER)
            add_to_path(path, course, position)
        CourseFactory(title=f"Course solo {i}", track="health-law")


@pytest.mark.parametrize("logged_in", [False, True])
def test_the_page_runs_the_same_number_of_queries_at_1_and_30_paths(client, db, logged_in):
    user = UserFactory()
    if logged_in:
        client.force_login(user)
    counts = []
    for n in (1, 29):
        _grow(n)
        client.get(reverse("courses:catalogue"))  # warm up the session
        counts.append(_page_queries(client, user))
    assert counts[0] == counts[1], counts


def test_the_selector_runs_four_queries_whatever_the_size(db, django_assert_num_queries):
    _grow(10)
    learner = UserFactory()
    with django_assert_num_queries(4):
        found = selectors.catalogue(user=learner, q="course", track="data-science")
        # Covers come with the courses (digest only): reading them costs nothing more.
        assert all(c.cover.version for c in found.courses if c.title.startswith("Course 0-"))


# --- An archived course ----------------------------------------------------------------------------


@pytest.fixture
def archived(db):
    course = CourseFactory(code="arch-c", title="Archived course")
    module = ModuleFactory(course=course, position=1)
    lesson = LessonFactory(module=module, position=1)
    quiz = make_quiz(module=module)
    learner, newcomer = UserFactory(), UserFactory()
    enroll(learner, course)
    submission = Submission.objects.create(
        user=learner, assignment=quiz, version=quiz.current_version, attempt=1, answer={}, status="graded"
    )
    Course.objects.filter(pk=course.pk).update(status="archived")
    course.refresh_from_db()
    return {"course": course, "lesson": lesson, "quiz": quiz, "learner": learner, "newcomer": newcomer,
            "submission": submission}  # fmt: skip


def test_an_archived_course_leaves_the_catalogue(client, archived):
    assert "arch-c" not in _codes(selectors.catalogue(user=archived["learner"]))[1]
    assert "Archived course" not in client.get(reverse("courses:catalogue")).content.decode()


def test_its_enrolled_learners_keep_their_lessons_assignments_and_submissions(client, archived):
    course, learner = archived["course"], archived["learner"]
    assert selectors.can_access_course(user=learner, course=course)
    client.force_login(learner)
    detail = client.get(reverse("courses:detail", kwargs={"code": course.code}))
    assert detail.status_code == 200
    page = detail.content.decode()
    lesson_url = reverse("courses:lesson", kwargs={"code": course.code, "pk": archived["lesson"].pk})
    assert lesson_url in page
    assert client.get(lesson_url).status_code == 200
    assert client.post(lesson_url, {"done": "1"}).status_code == 302
    assert LessonProgress.objects.get(user=learner, lesson=archived["lesson"]).completed_at is not None
    quiz_url = reverse("courses:assignment", kwargs={"code": course.code, "pk": archived["quiz"].pk})
    assert client.get(quiz_url).status_code == 200
    assert client.get(reverse("grading:submission", kwargs={"pk": archived["submission"].pk})).status_code == 200
    # They may still finish it: a new attempt is taken.
    answer = {"q1": ["a"], "q2": ["a", "c"]}
    submission = grading_services.submission_create(user=learner, assignment=archived["quiz"], answer=answer)
    assert submission.attempt == 2
    assert client.get(reverse("learning:dashboard")).status_code == 200


def test_nobody_new_enrolls_in_an_archived_course_nor_opens_its_lessons(client, archived):
    course, newcomer = archived["course"], archived["newcomer"]
    assert not selectors.can_access_course(user=newcomer, course=course)
    with pytest.raises(services.EnrollmentRefused):
        services.enrollment_create(user=newcomer, course=course)
    client.force_login(newcomer)
    page = client.get(reverse("courses:detail", kwargs={"code": course.code})).content.decode()
    assert reverse("courses:enroll", kwargs={"code": course.code}) not in page
    lesson_url = reverse("courses:lesson", kwargs={"code": course.code, "pk": archived["lesson"].pk})
    assert client.get(lesson_url).status_code == 302


def test_a_dropped_learner_of_an_archived_course_does_not_get_back_in(archived):
    course, learner = archived["course"], archived["learner"]
    learner.enrollments.filter(course=course).update(status="dropped")
    assert not selectors.can_access_course(user=learner, course=course)

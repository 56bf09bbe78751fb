"""Pages and selectors run a constant number of queries at 1 and 50 modules."""

import pytest
from django.urls import reverse

from courses import selectors
from learning import selectors as learning_selectors
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


def _course(modules: int):
    course = CourseFactory()
    for position in range(1, modules + 1):
        module = ModuleFactory(course=course, position=position)
        LessonFactory(module=module, position=1)
        LessonFactory(module=module, position=2)
        make_quiz(module=module)
    return course


def _count(django_assert_max_num_queries, client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("page", ["outline", "lesson", "author", "catalogue"])
def test_pages_run_the_same_number_of_queries_at_1_and_50_modules(db, client, page, django_assert_max_num_queries):
    counts = []
    for size in (1, 50):
        course = _course(size)
        path = PathFactory()
        add_to_path(path, course, 1)
        learner = UserFactory()
        if page == "author":
            course.instructors.add(learner)
            url = reverse("courses:author-outline", kwargs={"code": course.code})
        elif page == "lesson":
            enroll(learner, course)
            lesson = course.modules.order_by("position").last().lessons.first()
            url = reverse("courses:lesson", kwargs={"code": course.code, "pk": lesson.pk})
        elif page == "outline":
            enroll(learner, course)
            url = reverse("courses:detail", kwargs={"code": course.code})
        else:
            url = reverse("courses:catalogue")
        login_with_2fa(client, learner)  # authoring needs a two-factor-verified session
        client.get(url)  # warm up the session and caches
        counts.append(_count(django_assert_max_num_queries, client, url))
    assert counts[0] == counts[1], counts


@pytest.mark.parametrize("modules", [1, 50])
def test_outline_selectors_run_a_fixed_number_of_queries(db, django_assert_num_queries, modules):
    course = _course(modules)
    user = UserFactory()
    with django_assert_num_queries(3):
        selectors.course_outline(course=course)
    with django_assert_num_queries(3):
        outline = selectors.authoring_outline(course=course)
    with django_assert_num_queries(2):
        learning_selectors.course_progress(user=user, course=course, modules=outline)

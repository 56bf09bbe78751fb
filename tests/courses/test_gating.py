import pytest

from courses import selectors, services
from courses.models import Enrollment
from tests.factories import CourseFactory, PathFactory, UserFactory, add_to_path


@pytest.fixture
def path_of_two(db):
    path = PathFactory()
    first, second = CourseFactory(title="Basics"), CourseFactory(title="Advanced")
    add_to_path(path, first, 1, gate="required")
    add_to_path(path, second, 2)
    return path, first, second


def test_a_required_prerequisite_not_complete_blocks_enrollment(path_of_two):
    _path, first, second = path_of_two
    learner = UserFactory()
    with pytest.raises(services.EnrollmentRefused, match="Basics"):
        services.enrollment_create(user=learner, course=second)
    assert not Enrollment.objects.filter(user=learner, course=second).exists()


def test_completing_the_prerequisite_opens_the_next_course(path_of_two):
    _path, first, second = path_of_two
    learner = UserFactory()
    enrollment = services.enrollment_create(user=learner, course=first)
    enrollment.completed_at = "2026-01-01T00:00Z"
    enrollment.save()
    assert services.enrollment_create(user=learner, course=second).status == "active"


def test_a_recommended_prerequisite_does_not_block(db):
    path = PathFactory()
    first, second = CourseFactory(), CourseFactory()
    add_to_path(path, first, 1, gate="recommended")
    add_to_path(path, second, 2)
    assert services.enrollment_create(user=UserFactory(), course=second)


def test_catalogue_says_which_courses_the_learner_may_start(path_of_two):
    _path, first, second = path_of_two
    (path,) = selectors.catalogue(user=UserFactory()).paths
    assert [(s.course, s.can_start) for s in path.steps] == [(first, True), (second, False)]
    assert path.steps[1].missing == [first]


@pytest.mark.parametrize("modules", [1, 20])
def test_catalogue_runs_a_constant_number_of_queries(db, django_assert_num_queries, modules):
    learner = UserFactory()
    for _ in range(modules):
        path = PathFactory()
        for position in range(1, 4):
            add_to_path(path, CourseFactory(), position)
    # Paths, their courses, the learner's completions, and every published course.
    with django_assert_num_queries(4):
        selectors.catalogue(user=learner)


def test_a_missing_required_prerequisite_blocks_access_and_the_page_says_why(path_of_two, client):
    from django.urls import reverse

    from tests.factories import LessonFactory, ModuleFactory, enroll

    _path, first, second = path_of_two
    lesson = LessonFactory(module=ModuleFactory(course=second))
    learner = UserFactory()
    enroll(learner, second)  # e.g. enrolled by a university sync despite the gate
    client.force_login(learner)
    page = client.get(reverse("courses:detail", kwargs={"code": second.code})).content.decode()
    assert "locked until you complete" in page and first.title in page
    r = client.get(reverse("courses:lesson", kwargs={"code": second.code, "pk": lesson.pk}), follow=True)
    assert r.redirect_chain and "complete its required prerequisites" in r.content.decode()
    r = client.post(reverse("courses:enroll", kwargs={"code": second.code}), follow=True)
    assert first.title in r.content.decode()

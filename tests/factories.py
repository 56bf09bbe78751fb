"""factory_boy factories: every test builds the data it needs, nothing hidden."""

import factory
from django.contrib.auth import get_user_model

from accounts.models import Organization
from courses import services as course_services
from courses.models import Assignment, Course, Enrollment, LearningPath, Lesson, Module, PathCourse

QUIZ_SPEC = {
    "questions": [
        {
            "id": "q1",
            "type": "single",
            "prompt": "2 + 2 ?",
            "choices": [{"id": "a", "text": "4"}, {"id": "b", "text": "5"}],
            "answer": ["a"],
            "feedback": {"correct": "Yes.", "incorrect": "Count again."},
        },
        {
            "id": "q2",
            "type": "multiple",
            "prompt": "Which are even?",
            "choices": [{"id": "a", "text": "2"}, {"id": "b", "text": "3"}, {"id": "c", "text": "4"}],
            "answer": ["a", "c"],
        },
    ]
}


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    slug = factory.Sequence(lambda n: f"univ-{n}")
    name = factory.Sequence(lambda n: f"University {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    full_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class CourseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Course

    code = factory.Sequence(lambda n: f"course-{n}")
    title = factory.Sequence(lambda n: f"Course {n}")
    language = "en"
    status = "published"


class PathFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LearningPath

    code = factory.Sequence(lambda n: f"path-{n}")
    title = factory.Sequence(lambda n: f"Path {n}")
    track = "data-science"
    status = "published"


class ModuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Module

    course = factory.SubFactory(CourseFactory)
    title = factory.Sequence(lambda n: f"Module {n}")
    position = factory.Sequence(lambda n: n + 1)


class LessonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lesson

    module = factory.SubFactory(ModuleFactory)
    title = factory.Sequence(lambda n: f"Lesson {n}")
    body_markdown = "Some *text*."
    position = factory.Sequence(lambda n: n + 1)


def make_quiz(*, course=None, module=None, spec=None, **fields) -> Assignment:
    """A published quiz assignment (with its first version) in a module of `course`."""
    module = module or ModuleFactory(course=course or CourseFactory())
    assignment = Assignment.objects.create(
        course=module.course, module=module, title=fields.pop("title", "Quiz"), kind="quiz", **fields
    )
    course_services.assignment_version_create(assignment=assignment, spec=spec or QUIZ_SPEC)
    assignment.refresh_from_db()
    return assignment


def enroll(user, course) -> Enrollment:
    return Enrollment.objects.create(user=user, course=course)


def add_to_path(path, course, position, gate="required") -> PathCourse:
    return PathCourse.objects.create(path=path, course=course, position=position, gate=gate)

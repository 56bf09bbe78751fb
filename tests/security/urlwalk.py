"""Walking the project's URLs: every named pattern, the world the URL matrix fills their
parameters from, and the URL of a pattern for that world."""

from types import SimpleNamespace

from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts import services
from analytics.models import ExportJob
from courses import services as course_services
from courses.models import CourseImportJob
from grading.models import RegradeJob, Submission
from integrations.models import LtiContext
from integrations.services import lti
from privacy import services as privacy_services
from privacy.models import DataExport
from tests.courses.images import PNG_COVER
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

from .url_matrix import MATRIX, NAMESPACE_RULES


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


def params(pattern: URLPattern) -> list[str]:
    return list(pattern.pattern.regex.groupindex)


def rule_for(name: str):
    if name in MATRIX:
        return MATRIX[name]
    return NAMESPACE_RULES.get(name.split(":")[0]) if ":" in name else None


def url_for(name, pattern, rule, world, **override):
    """The URL of `name` for the world (None for an unnamed pattern, as admin's catch-all)."""
    if "<unnamed" in name:
        return None
    if "kwargs" in rule:
        return reverse(name, kwargs={**rule["kwargs"](world), **override})
    kwargs = {p: ("accounts" if p == "app_label" else "1") for p in params(pattern)}
    return reverse(name, kwargs={**kwargs, **override} or None)


def build_world():
    """One course with a lesson, a quiz, an essay; a learner of a university, enrolled, with a
    graded and a failed quiz submission, an essay waiting for review and a data export; an instructor of the
    course, an instructor of another course, the university's admin, and staff."""
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
        "newcomer": UserFactory(),
    }
    course.instructors.add(users["instructor"])
    CourseFactory().instructors.add(users["other_instructor"])
    services.membership_grant(user=users["university_admin"], organization=org)
    enroll(users["learner"], course)
    submission = Submission.objects.create(
        user=users["learner"], assignment=quiz, version=quiz.current_version, attempt=1, answer={}, status="graded"
    )
    failed_submission = Submission.objects.create(
        user=users["learner"], assignment=quiz, version=quiz.current_version, attempt=2, answer={}, status="failed"
    )
    export = DataExport.objects.create(user=users["learner"])
    privacy_services.export_build(export_id=export.pk)
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
    course_services.cover_store(course=course, data=PNG_COVER)
    lti_platform = lti.platform_create(
        organization=org, name="Moodle", issuer="https://lms.example", client_id="c1",
        auth_login_url="https://lms.example/auth", auth_token_url="https://lms.example/token",
        key_set_url="https://lms.example/jwks", deployment_ids=["d1"],
    )  # fmt: skip
    lti_context = LtiContext.objects.create(
        platform=lti_platform,
        deployment_id="d1",
        context_id="ctx",
        course=course,
        memberships_url="https://lms.example/m",
    )
    return SimpleNamespace(
        lti_platform=lti_platform, lti_context=lti_context,
        course=course, module=module, lesson=lesson, quiz=quiz, essay=essay, submission=submission, export=export,
        failed_submission=failed_submission,
        users=users, path=path, export_job=export_job, essay_submission=essay_submission, regrade_job=regrade_job,
        import_job=import_job,
    )  # fmt: skip

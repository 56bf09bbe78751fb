"""Kafaat and the test LMS (tests/lti_platform) registered with each other, as a university admin
and an LMS admin would: the platform's values in Kafaat, Kafaat's per-platform URLs in the LMS."""

from courses import services as course_services
from courses.models import Assignment
from integrations.services import lti
from tests.factories import ModuleFactory

QUIZ = {
    "questions": [
        {"id": "q1", "type": "single", "prompt": "Which law protects personal data in Morocco?",
         "choices": [{"id": "a", "text": "Law 09-08"}, {"id": "b", "text": "Law 31-08"}], "answer": ["a"]},
    ]
}  # fmt: skip


def register_both(lms, *, organization, tool_base: str, teach=(), **platform_fields):
    """The LMS registered in Kafaat for `organization`, and Kafaat registered in the LMS; its
    instructors teach the courses `teach` (staff's list)."""
    platform = lti.platform_create(
        organization=organization,
        name="Moodle FMPR",
        issuer=lms.issuer,
        client_id=lms.client_id,
        auth_login_url=lms.auth_login_url,
        auth_token_url=lms.token_url,
        key_set_url=lms.keyset_url,
        deployment_ids=[lms.deployment_id],
        **platform_fields,
    )
    platform.instructor_courses.set(teach)
    urls = lti.tool_urls(platform, base_url=tool_base)
    lms.register_tool(
        tool_base,
        client_id=lms.client_id,
        deployment_id=lms.deployment_id,
        oidc_login_url=urls["login_url"],
        launch_url=urls["tool_url"],
        deeplink_launch_url=urls["tool_url"],
        redirect_uris=[urls["tool_url"]],
        jwks_uri=urls["jwks_url"],
    )
    return platform


def a_course_with_a_quiz():
    module = ModuleFactory(course__title="Données de santé", course__status="published", title="La loi 09-08")
    quiz = Assignment.objects.create(
        course=module.course, module=module, title="Quiz : la loi", kind="quiz", points=10, position=1,
        attempts_allowed=3,
    )  # fmt: skip
    course_services.assignment_version_create(assignment=quiz, spec=QUIZ)
    return module.course, quiz

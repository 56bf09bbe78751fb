"""LTI Dynamic Registration and Names and Role Provisioning against the independent test LMS, in
Debian's chromium: the LMS admin pastes Kafaat's one-time registration URL and the LMS can launch
Kafaat at once; an instructor launched from the LMS course reads its learners into the Kafaat course
(the university sync's rules: one account per person, the launched learner's kept)."""

import pytest
from django.urls import reverse

from courses.models import Enrollment
from integrations.models import LtiIdentity, LtiPlatform, LtiRegistrationInvite
from integrations.services import lti_dynreg
from tests.browser.test_journeys import TIMEOUT_MS
from tests.factories import OrganizationFactory
from tests.lti_helpers import a_course_with_a_quiz, register_both

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_dynamic_registration_registers_the_lms_for_the_university_and_a_launch_works(
    pages, live_server, lti_platform, lang
):
    lms = lti_platform
    org = OrganizationFactory(name="Université Hassan II")
    _course, quiz = a_course_with_a_quiz()
    token = lti_dynreg.invite_create(organization=org, actor=None)
    page = pages.new(lang=lang)
    page.goto(lms.dynreg_start_url(live_server.url + reverse("lti-register", args=[token])))
    frame = page.frame_locator("#dynreg-frame")
    frame.locator("#lti-registered").wait_for(timeout=TIMEOUT_MS)
    assert "Université Hassan II" in frame.locator("#lti-registered").inner_text()
    frame.locator("#lti-registered-close").click()
    page.locator("#dynreg-done").wait_for(timeout=TIMEOUT_MS)

    (registration,) = [r for r in lms.state()["dynreg_registrations"] if "response" in r]
    platform = LtiPlatform.objects.get(registered_by="dynamic")
    assert platform.organization == org and platform.issuer == lms.issuer
    assert platform.client_id == registration["client_id"]
    deployment_id = registration["response"]["https://purl.imsglobal.org/spec/lti-tool-configuration"]["deployment_id"]
    assert list(platform.deployments.values_list("deployment_id", flat=True)) == [deployment_id]
    assert LtiRegistrationInvite.objects.get().used_at is not None
    # The link works once: opened again, it says so.
    page.goto(lms.dynreg_start_url(live_server.url + reverse("lti-register", args=[token])))
    page.frame_locator("#dynreg-frame").locator("#lti-register-error").wait_for(timeout=TIMEOUT_MS)

    # The LMS launches Kafaat through what it registered.
    link = lms.add_link(
        title="Quiz", client_id=platform.client_id, url=registration["request"]["redirect_uris"][0],
        custom={"kafaat_resource": f"assignment:{quiz.pk}"},
    )  # fmt: skip
    page.goto(lms.link_view_url(link["id"], user="learner1"))
    page.frame_locator("#lti-frame").locator("input[name=q_q1]").first.wait_for(timeout=TIMEOUT_MS)
    assert LtiIdentity.objects.get(platform=platform, sub="learner1").user.organization == org


def test_an_instructor_reads_the_lms_courses_learners_into_the_kafaat_course(pages, live_server, lti_platform):
    lms = lti_platform
    org = OrganizationFactory()
    course, _quiz = a_course_with_a_quiz()
    platform = register_both(lms, organization=org, tool_base=live_server.url, teach=[course])
    link = lms.add_link(title="Le cours", url=f"{live_server.url}/lti/{platform.uuid}/launch/",
                        custom={"kafaat_resource": f"course:{course.code}"})  # fmt: skip
    # learner1 launched first: they have an account already.
    learner = pages.new(lang="fr")
    learner.goto(lms.link_view_url(link["id"], user="learner1"))
    learner.frame_locator("#lti-frame").locator("main h1").first.wait_for(timeout=TIMEOUT_MS)
    first = LtiIdentity.objects.get(platform=platform, sub="learner1").user

    teacher = pages.new(lang="fr")
    teacher.goto(lms.link_view_url(link["id"], user="teacher1"))
    frame = teacher.frame_locator("#lti-frame")
    frame.locator(".messages a[href*='/lti/roster/']").click(timeout=TIMEOUT_MS)
    # The roster page's own form: the course page behind it has one too (Enroll), which a locator
    # matched while the frame was still navigating.
    read = frame.locator("#lti-roster-form button[type=submit]")
    with teacher.expect_response(_roster_post, timeout=TIMEOUT_MS) as response:
        read.click(timeout=TIMEOUT_MS)
    assert response.value.status == 200, frame.locator("main").inner_text()
    result = frame.locator("#lti-roster-result")
    result.wait_for(timeout=TIMEOUT_MS)
    assert "2" in result.inner_text()

    enrolled = Enrollment.objects.filter(course=course, status=Enrollment.Status.ACTIVE)
    by_sub = {i.sub: i.user for i in LtiIdentity.objects.filter(platform=platform)}
    assert set(by_sub) == {"learner1", "learner2", "teacher1"}
    assert by_sub["learner1"] == first  # one account, the one the launch made
    assert set(enrolled.values_list("user_id", flat=True)) == {by_sub["learner1"].pk, by_sub["learner2"].pk}
    assert by_sub["learner2"].organization == org and by_sub["learner2"].email == "learner2@lms.example"
    # Read again: nothing changes, nobody is unenrolled.
    with teacher.expect_response(_roster_post, timeout=TIMEOUT_MS) as response:
        read.click(timeout=TIMEOUT_MS)
    assert response.value.status == 200
    frame.locator("#lti-roster-result").wait_for(timeout=TIMEOUT_MS)
    assert enrolled.count() == 2


def _roster_post(response):
    return "/lti/roster/" in response.url and response.request.method == "POST"

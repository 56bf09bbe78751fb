"""A browser that keeps cookies from third-party frames (Chromium's third-party cookie phase-out):
the launch cannot work inside the LMS's frame, so Kafaat's first step says so and offers a new
window, where the launch completes and the learner lands on the assignment."""

import pytest

from integrations.models import LtiIdentity
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.browser.test_journeys import TIMEOUT_MS
from tests.factories import OrganizationFactory
from tests.lti_helpers import a_course_with_a_quiz, register_both

pytestmark = pytest.mark.e2e


def test_with_third_party_cookies_blocked_the_activity_opens_in_a_new_window(browser, live_server, lti_platform):
    lms = lti_platform
    _course, quiz = a_course_with_a_quiz()
    platform = register_both(lms, organization=OrganizationFactory(), tool_base=live_server.url)
    # The LMS's page is opened on another site (127.0.0.1, Kafaat is on localhost): Kafaat's frame
    # is a third party there, and that origin may frame it.
    lms_other_site = lms.url.replace("localhost", "127.0.0.1")
    platform.frame_origins = [*platform.frame_origins, lms_other_site]
    platform.save()
    link = lms.add_link(title="Quiz", url=f"{live_server.url}/lti/{platform.uuid}/launch/",
                        custom={"kafaat_resource": f"assignment:{quiz.pk}"})  # fmt: skip
    strict = browser.browser_type.launch(
        executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, "--test-third-party-cookie-phaseout"]
    )
    try:
        context = strict.new_context(locale="en")
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        page.goto(lms.link_view_url(link["id"], user="learner1").replace(lms.url, lms_other_site))
        frame = page.frame_locator("#lti-frame")
        button = frame.locator("#lti-blocked button")
        button.wait_for()
        assert not LtiIdentity.objects.exists()  # nothing happened in the frame
        with context.expect_page() as opened:
            button.click()
        window = opened.value
        window.locator("input[name=q_q1]").first.wait_for()
        assert window.url.startswith(f"{live_server.url}/courses/")
        assert LtiIdentity.objects.filter(platform=platform, sub="learner1").exists()
    finally:
        strict.close()

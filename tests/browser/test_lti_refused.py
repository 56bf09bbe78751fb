"""Refused LTI launches, from the independent test LMS in Debian's chromium: each gets a page in
the LMS's frame that says what failed, and creates nothing (no account, no link to the LMS user,
no enrollment, no grade link, no nonce used)."""

import pytest
from django.contrib.auth import get_user_model

from courses.models import Enrollment
from integrations.models import LtiGradeLink, LtiIdentity, LtiNonce
from tests.browser.test_journeys import TIMEOUT_MS
from tests.factories import OrganizationFactory
from tests.lti_helpers import a_course_with_a_quiz, register_both

pytestmark = pytest.mark.e2e


def counts() -> tuple:
    return (
        get_user_model().objects.count(),
        LtiIdentity.objects.count(),
        Enrollment.objects.count(),
        LtiGradeLink.objects.count(),
        LtiNonce.objects.count(),
    )


@pytest.fixture
def launchable(live_server, lti_platform):
    org = OrganizationFactory()
    course, quiz = a_course_with_a_quiz()
    platform = register_both(lti_platform, organization=org, tool_base=live_server.url)
    link = lti_platform.add_link(
        title="Quiz : la loi",
        url=f"{live_server.url}/lti/{platform.uuid}/launch/",
        custom={"kafaat_resource": f"assignment:{quiz.pk}"},
        line_item={"scoreMaximum": 10, "label": "Quiz", "resourceId": f"assignment:{quiz.pk}", "tag": "kafaat"},
    )
    return lti_platform, platform, link


def refusal_in_frame(page) -> tuple[str, str]:
    refused = page.frame_locator("#lti-frame").locator("#lti-refused")
    refused.wait_for(timeout=TIMEOUT_MS)
    return refused.get_attribute("data-code"), refused.inner_text()


@pytest.mark.parametrize(
    ("fault", "code", "says"),
    [
        ({"aud": "another-tool"}, "audience", "wrong audience"),
        ({"aud": ["kafaat-test-client", "another-tool"], "claims": {"azp": "another-tool"}}, "audience", "audience"),
        ({"exp_delta": -600}, "expired", "expired"),
        ({"iat_delta": 3600, "exp_delta": 7200}, "iat", "future"),
        ({"deployment_id": "dep-unknown"}, "deployment", "deployment is not registered"),
        ({"sign_with_foreign_key": True}, "signature", "signature"),
        ({"state": "state-bogus"}, "state", "did not start in this browser"),
        ({"drop_claims": ["sub"]}, "sub", "names no user"),
    ],
)
def test_a_forged_or_stale_launch_is_refused_with_a_clear_page_and_creates_nothing(
    pages, launchable, fault, code, says
):
    lms, _platform, link = launchable
    before = counts()
    lms.control(next_launch=fault)
    page = pages.new(lang="en")
    page.goto(lms.link_view_url(link["id"], user="learner1"))
    got, text = refusal_in_frame(page)
    assert got == code
    assert says in text
    assert counts() == before


def test_a_replayed_id_token_is_refused_and_the_first_launch_stands_alone(pages, launchable):
    lms, platform, link = launchable
    page = pages.new(lang="fr")
    page.goto(lms.link_view_url(link["id"], user="learner1"))
    page.frame_locator("#lti-frame").locator("input[name=q_q1]").first.wait_for(timeout=TIMEOUT_MS)
    after_first = counts()
    assert LtiIdentity.objects.filter(platform=platform, sub="learner1").count() == 1
    # The LMS posts the very same id_token and state again, in the same browser (its cookies too).
    page.goto(lms.replay_url)
    refused = page.locator("#lti-refused")
    refused.wait_for(timeout=TIMEOUT_MS)
    assert refused.get_attribute("data-code") == "replay"
    assert "déjà" in refused.inner_text() or "already" in refused.inner_text()
    assert counts() == after_first


def test_a_platform_of_another_university_cannot_launch_at_this_universitys_address(
    pages, live_server, launchable, lti_platform_factory
):
    """Université B's LMS, registered for B, pointed at Université A's launch URLs: refused at the
    login step (the issuer is not the one registered at that address) and at the launch."""
    lms_a, platform_a, _link = launchable
    lms_b = lti_platform_factory()
    org_b = OrganizationFactory(name="Université B")
    register_both(lms_b, organization=org_b, tool_base=live_server.url)
    urls_a = {
        "oidc_login_url": f"{live_server.url}/lti/{platform_a.uuid}/login/",
        "launch_url": f"{live_server.url}/lti/{platform_a.uuid}/launch/",
        "redirect_uris": [f"{live_server.url}/lti/{platform_a.uuid}/launch/"],
    }
    lms_b.register_tool(live_server.url, jwks_uri=f"{live_server.url}/lti/jwks.json", **urls_a)
    link_b = lms_b.add_link(title="Theirs", url=urls_a["launch_url"], custom={"kafaat_resource": "course:x"})
    before = counts()
    page = pages.new(lang="en")
    page.goto(lms_b.link_view_url(link_b["id"], user="learner1"))
    code, text = refusal_in_frame(page)
    assert code == "platform" and "not the one registered at this address" in text
    assert counts() == before

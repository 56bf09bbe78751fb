"""LTI's edges without an LMS: hostile or broken requests get a page that says what failed (never
a 500); framing follows the launch; an erased learner's LMS ids go; the key rotation command."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from integrations.lti_frame import SESSION_FRAME
from integrations.models import LtiGradeLink, LtiIdentity, LtiToolKey
from integrations.services import lti
from privacy.services.erasure import account_erase
from tests.factories import OrganizationFactory, UserFactory
from tests.lti_helpers import a_course_with_a_quiz

pytestmark = pytest.mark.django_db


@pytest.fixture
def platform():
    return lti.platform_create(
        organization=OrganizationFactory(), name="Moodle", issuer="https://lms.example", client_id="c1",
        auth_login_url="https://lms.example/auth", auth_token_url="https://lms.example/token",
        key_set_url="https://lms.example/jwks", deployment_ids=["d1"],
    )  # fmt: skip


@pytest.mark.parametrize(
    "form",
    [
        {},
        {"id_token": "", "state": ""},
        {"id_token": "not-a-jwt", "state": "state-00000000-0000-0000-0000-000000000000"},
        {"id_token": "a.b.c", "state": "state-00000000-0000-0000-0000-000000000000"},
        {"id_token": "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.", "state": "state-x"},
        {"id_token": "x" * 200_000, "state": "s"},
    ],
)
def test_a_broken_launch_gets_a_refusal_page_never_a_500(client, platform, form):
    client.cookies["lti1p3-state-x"] = "state-x"
    resp = client.post(reverse("lti-launch", args=[platform.uuid]), form)
    assert resp.status_code == 400
    assert b'id="lti-refused"' in resp.content and b"Traceback" not in resp.content
    assert not LtiIdentity.objects.exists()


def test_a_launch_body_with_bytes_that_are_not_utf8_or_nul_gets_a_refusal_page(client, platform):
    resp = client.generic(
        "POST",
        reverse("lti-launch", args=[platform.uuid]),
        b"id_token=%ED%A0%80%00%FF&state=%00",
        content_type="application/x-www-form-urlencoded",
    )
    assert resp.status_code == 400 and b'id="lti-refused"' in resp.content


def test_a_launch_at_an_unknown_or_inactive_platform_is_a_404(client, platform):
    import uuid

    assert client.post(reverse("lti-launch", args=[uuid.uuid4()]), {}).status_code == 404
    platform.is_active = False
    platform.save()
    assert client.get(reverse("lti-login", args=[platform.uuid])).status_code == 404


@pytest.mark.parametrize(
    "params",
    [
        {"iss": "https://other.example", "login_hint": "u"},
        {"iss": "https://lms.example", "client_id": "not-ours", "login_hint": "u"},
    ],
)
def test_a_login_from_another_issuer_or_client_is_refused_at_once(client, platform, params):
    resp = client.get(reverse("lti-login", args=[platform.uuid]), params)
    assert resp.status_code == 400 and b'data-code="platform"' in resp.content


def test_a_login_with_our_issuer_but_no_login_hint_is_refused_after_the_cookie_check(client, platform):
    resp = client.get(reverse("lti-login", args=[platform.uuid]), {"iss": "https://lms.example", "kafaat_cookies": "1"})
    assert resp.status_code == 400 and b'data-code="format"' in resp.content


def test_the_login_redirects_only_to_the_platforms_auth_url_and_back_to_its_own_launch_url(client, platform):
    resp = client.get(
        reverse("lti-login", args=[platform.uuid]),
        {
            "iss": "https://lms.example",
            "login_hint": "u1",
            "target_link_uri": "https://evil.example/",
            "kafaat_cookies": "1",
        },
    )
    assert resp.status_code == 302
    location = resp["Location"]
    assert location.startswith("https://lms.example/auth?")
    assert "evil.example" not in location
    assert f"%2Flti%2F{platform.uuid}%2Flaunch%2F" in location
    assert any(name.startswith("lti1p3-state-") for name in resp.cookies)


def test_pages_refuse_frames_except_for_a_session_launched_from_a_platform(client, platform):
    csp = client.get(reverse("courses:catalogue"))["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    session = client.session
    session[SESSION_FRAME] = platform.frame_origins
    session.save()
    resp = client.get(reverse("courses:catalogue"))
    assert "frame-ancestors 'self' https://lms.example" in resp["Content-Security-Policy"]
    assert "X-Frame-Options" not in resp


def test_the_deep_link_picker_and_roster_pull_need_their_launch(client, platform):
    assert client.get(reverse("lti-deep-link", args=[platform.uuid])).status_code == 403
    client.force_login(UserFactory())
    assert client.post(reverse("lti-deep-link", args=[platform.uuid]), {"resource": "course:x"}).status_code == 403


def test_deep_link_resources_refuse_what_is_not_in_the_catalogue(platform):
    course, quiz = a_course_with_a_quiz()
    with pytest.raises(lti.PlatformInvalid):
        lti.deep_link_resources(platform=platform, refs=["assignment:99999"], base_url="https://k.example")
    with pytest.raises(lti.PlatformInvalid):
        lti.deep_link_resources(platform=platform, refs=["module:²"], base_url="https://k.example")
    with pytest.raises(lti.PlatformInvalid):
        lti.deep_link_resources(platform=platform, refs=[], base_url="https://k.example")
    (item,) = lti.deep_link_resources(platform=platform, refs=[f"assignment:{quiz.pk}"], base_url="https://k.example")
    data = item.to_dict()
    assert data["url"] == f"https://k.example/lti/{platform.uuid}/launch/"
    assert data["custom"] == {"kafaat_resource": f"assignment:{quiz.pk}"}
    assert data["lineItem"]["scoreMaximum"] == 10.0


def test_an_erased_learner_loses_their_lms_identity_and_grade_links(platform):
    course, quiz = a_course_with_a_quiz()
    user = UserFactory(organization=platform.organization)
    LtiIdentity.objects.create(platform=platform, sub="s1", user=user)
    LtiGradeLink.objects.create(platform=platform, user=user, sub="s1", assignment=quiz, lineitem_url="https://x/li")
    assert account_erase(user_id=user.pk, reason="request")
    assert not LtiIdentity.objects.exists() and not LtiGradeLink.objects.exists()


def test_the_rotation_command_publishes_a_new_key_that_signs_from_tomorrow(capsys, client):
    first = lti.tool_key_current()
    call_command("lti_rotate_key")
    new = LtiToolKey.objects.exclude(pk=first.pk).get()
    assert lti.tool_key_current() == first  # not yet: platforms first fetch it
    assert new.kid in {k["kid"] for k in client.get(reverse("lti-jwks")).json()["keys"]}
    assert new.kid in capsys.readouterr().out

"""LTI 1.3 against an independent platform (lti1p3platform, tests/lti_platform) run as a real HTTP
server, in Debian's chromium, through its pages and iframes, with the session's real Celery worker:
an instructor places a Kafaat assignment in their LMS course by deep linking; a learner launches
it from the course, submits it inside the frame, and the LMS's gradebook shows the score (AGS).
An instructor's launch makes them the course's instructor."""

import time

import pytest

from courses.models import Enrollment
from integrations.models import LtiGradeLink, LtiIdentity, LtiScoreDelivery
from tests.browser.test_journeys import TIMEOUT_MS
from tests.factories import OrganizationFactory
from tests.lti_helpers import a_course_with_a_quiz, register_both

pytestmark = [pytest.mark.e2e, pytest.mark.worker]


def wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError("timed out")


def console_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"{m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


@pytest.mark.parametrize("lang", ["fr", "ar"])
def test_deep_link_then_launch_submit_and_the_lms_gradebook_shows_the_score(
    pages, worker, live_server, lti_platform, lang
):
    lms = lti_platform
    org = OrganizationFactory(name="Université Mohammed V")
    course, quiz = a_course_with_a_quiz()
    platform = register_both(lms, organization=org, tool_base=live_server.url)

    # The instructor, in the LMS: "Add content" opens Kafaat's picker inside the LMS's frame.
    teacher = pages.new(lang=lang)
    errors = console_errors(teacher)
    teacher.goto(lms.add_content_url(user="teacher1"))
    picker = teacher.frame_locator("#lti-frame")
    picker.locator(f"input[value='assignment:{quiz.pk}']").check(timeout=TIMEOUT_MS)
    picker.locator("form.lti-picker button[type=submit]").click()
    added = picker.locator("#deeplink-added")
    added.wait_for(timeout=TIMEOUT_MS)
    assert "Quiz : la loi" in added.inner_text()
    items = lms.state()["resource_links"]
    (link,) = items.values() if isinstance(items, dict) else items
    assert link["custom"] == {"kafaat_resource": f"assignment:{quiz.pk}"}
    assert link["line_item_id"]  # the assignment came with a line item: a gradebook column

    # The learner launches it from the LMS course and lands on the assignment, in the frame.
    learner = pages.new(lang=lang)
    errors += console_errors(learner)
    learner.goto(lms.course_url(user="learner1"))
    learner.locator(f"li[data-link-id='{link['id']}'] a").click()
    frame = learner.frame_locator("#lti-frame")
    frame.locator("input[name=q_q1][value=a]").check(timeout=TIMEOUT_MS)
    identity = LtiIdentity.objects.get(platform=platform, sub="learner1")
    user = identity.user
    assert user.organization == org and not user.has_usable_password()
    assert Enrollment.objects.filter(user=user, course=course, source=Enrollment.Source.LTI).exists()
    assert LtiGradeLink.objects.filter(user=user, assignment=quiz).count() == 1
    frame.locator("main form button[type=submit]").first.click()
    frame.locator("[data-status=graded]").wait_for(timeout=TIMEOUT_MS)

    # The score reaches the LMS once, and its gradebook shows it.
    scores = wait_for(lambda: [s for s in lms.scores() if s["status"] == "accepted"])
    assert len(scores) == 1
    score = scores[0]
    assert (score["userId"], score["scoreGiven"], score["scoreMaximum"]) == ("learner1", 10.0, 10.0)
    assert (score["activityProgress"], score["gradingProgress"]) == ("Completed", "FullyGraded")
    assert LtiScoreDelivery.objects.get().status == LtiScoreDelivery.Status.DELIVERED
    learner.goto(lms.gradebook_url())
    cell = learner.locator(f"td[data-user='learner1'][data-line-item-id='{link['line_item_id']}']")
    assert cell.inner_text().startswith("10")
    assert not errors, errors


def test_an_instructors_launch_makes_them_instructor_of_a_course_staff_listed_and_of_no_other(
    pages, live_server, lti_platform
):
    lms = lti_platform
    org = OrganizationFactory()
    course, _quiz = a_course_with_a_quiz()
    other, _other_quiz = a_course_with_a_quiz()
    platform = register_both(lms, organization=org, tool_base=live_server.url, teach=[course])
    link = lms.add_link(title="Le cours", url=f"{live_server.url}/lti/{platform.uuid}/launch/",
                        custom={"kafaat_resource": f"course:{course.code}"})  # fmt: skip
    page = pages.new(lang="fr")
    page.goto(lms.link_view_url(link["id"], user="teacher1"))
    page.frame_locator("#lti-frame").locator("h1").first.wait_for(timeout=TIMEOUT_MS)
    teacher = LtiIdentity.objects.get(platform=platform, sub="teacher1").user
    assert course.instructors.filter(pk=teacher.pk).exists()
    assert not Enrollment.objects.filter(user=teacher).exists()
    # A link the LMS teacher typed themselves, naming a course staff did not list: no rights there.
    typed = lms.add_link(title="Autre", url=f"{live_server.url}/lti/{platform.uuid}/launch/",
                         custom={"kafaat_resource": f"course:{other.code}"})  # fmt: skip
    page.goto(lms.link_view_url(typed["id"], user="teacher1"))
    frame = page.frame_locator("#lti-frame")
    frame.locator(".messages").wait_for(timeout=TIMEOUT_MS)
    assert not other.instructors.exists()
    assert "formateurs de votre LMS" in frame.locator(".messages").inner_text()  # "…not listed this course"

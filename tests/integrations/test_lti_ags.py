"""AGS: grades go back to the LMS's line item through the outbox, against the independent test LMS
(a real HTTP server) and the session's real Celery worker: once per grade, in order, through an
outage, and never twice when two workers hold the same link at once."""

import threading
import time
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from grading.models import GradeRecord, Submission
from grading.services import grade_record
from integrations.models import LtiGradeLink, LtiScoreDelivery
from integrations.services import lti_ags
from tests.factories import OrganizationFactory, UserFactory
from tests.lti_helpers import a_course_with_a_quiz, register_both

pytestmark = pytest.mark.worker


def wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out")


@pytest.fixture
def linked(live_server, lti_platform):
    """A learner who launched the quiz from the LMS: their grade link to its line item (the
    launch itself is the browser tests'), as the launch stores it."""
    lms = lti_platform
    org = OrganizationFactory()
    course, quiz = a_course_with_a_quiz()
    platform = register_both(lms, organization=org, tool_base=live_server.url)
    link = lms.add_link(
        title="Quiz", custom={"kafaat_resource": f"assignment:{quiz.pk}"},
        line_item={"scoreMaximum": 10, "label": "Quiz", "resourceId": f"assignment:{quiz.pk}", "tag": "kafaat"},
    )  # fmt: skip
    learner = UserFactory(organization=org)
    grade_link = LtiGradeLink.objects.create(
        platform=platform, user=learner, sub="learner1", assignment=quiz,
        lineitem_url=f"{lms.url}/ags/ctx-1/lineitems/{link['line_item_id']}",
        scopes=["https://purl.imsglobal.org/spec/lti-ags/scope/score",
                "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"],
    )  # fmt: skip
    sub = Submission.objects.create(
        user=learner, assignment=quiz, version=quiz.current_version, attempt=1, answer={}, status="graded"
    )
    return lms, grade_link, sub


def grade(sub, score, source=GradeRecord.Source.REGRADE):
    with transaction.atomic():
        locked = Submission.objects.select_for_update().get(pk=sub.pk)
        grade_record(locked, source=source, score=Decimal(score))


def accepted(lms):
    return [s for s in lms.scores() if s["status"] == "accepted"]


def test_each_grade_reaches_the_line_item_once_regrade_and_override_included(worker, linked):
    lms, link, sub = linked
    grade(sub, "4", GradeRecord.Source.AUTO)
    wait_for(lambda: len(accepted(lms)) == 1)
    grade(sub, "7", GradeRecord.Source.REGRADE)
    grade(sub, "9.5", GradeRecord.Source.OVERRIDE)
    got = wait_for(lambda: (lambda a: a if len(a) == 3 else None)(accepted(lms)))
    assert [s["scoreGiven"] for s in got] == [4.0, 7.0, 9.5]
    assert {s["userId"] for s in got} == {"learner1"} and {s["scoreMaximum"] for s in got} == {10.0}
    wait_for(lambda: set(LtiScoreDelivery.objects.values_list("status", flat=True)) == {"delivered"})
    # The same outbox event heard again (a redelivered handler) queues nothing new.
    event = LtiScoreDelivery.objects.first().event
    with transaction.atomic():
        lti_ags._record(events=[event])
    assert LtiScoreDelivery.objects.count() == 3


def test_an_lms_that_was_down_gets_every_grade_later_in_order_and_once(worker, linked):
    lms, link, sub = linked
    lms.control(down=True)
    grade(sub, "3")
    grade(sub, "6")
    first = wait_for(lambda: LtiScoreDelivery.objects.filter(attempts__gte=1).order_by("event_id").first())
    assert first.status == "pending" and "503" in first.last_error
    # The later grade waits behind the failed one: it was not even tried.
    assert LtiScoreDelivery.objects.order_by("event_id").last().attempts == 0
    assert accepted(lms) == []
    lms.control(down=False)
    # Beat's tick, after the backoff (1 s in tests): the worker sends both, in order.
    LtiScoreDelivery.objects.update(next_attempt_at=timezone.now())
    lti_ags.scores_tick()
    got = wait_for(lambda: (lambda a: a if len(a) == 2 else None)(accepted(lms)))
    assert [s["scoreGiven"] for s in got] == [3.0, 6.0]
    time.sleep(1.5)
    lti_ags.scores_tick()  # nothing is due any more: nothing is sent again
    time.sleep(1.0)
    assert len(accepted(lms)) == 2
    assert len([s for s in lms.scores() if s["status"] == "refused"]) == 0


@pytest.fixture
def no_nudge(monkeypatch):
    """The grades' after-commit nudge to the worker is off: these tests play the workers."""
    monkeypatch.setattr(lti_ags, "enqueue_links", lambda link_ids: None)


def test_two_workers_on_the_same_link_at_once_send_each_grade_once(transactional_db, linked, no_nudge):
    """Two deliveries of the same task while the first still runs: the link's row lock and the
    sending lease let one of them send; the other finds nothing to claim."""
    lms, link, sub = linked
    lms.control(down=True)  # hold the grades back while both are queued
    for score in ("1", "2", "3"):
        grade(sub, score)
    LtiScoreDelivery.objects.update(next_attempt_at=timezone.now())
    lms.control(down=False)
    results, barrier = [], threading.Barrier(2)

    def run():
        barrier.wait()
        results.append(lti_ags.scores_deliver(link_id=link.pk))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(r["delivered"] for r in results) in ([0, 3], [3, 0])
    assert [s["scoreGiven"] for s in accepted(lms)] == [1.0, 2.0, 3.0]


def test_a_worker_that_died_mid_round_leaves_its_scores_to_the_next_round_once_the_lease_expires(
    transactional_db, linked, no_nudge
):
    lms, link, sub = linked
    lms.control(down=True)
    grade(sub, "5")
    lms.control(down=False)
    LtiScoreDelivery.objects.update(next_attempt_at=timezone.now())
    # A worker claimed it and died (its claim stays, "sending").
    _link, claimed = lti_ags._claim(link_id=link.pk, limit=5)
    assert len(claimed) == 1
    assert lti_ags.scores_deliver(link_id=link.pk)["delivered"] == 0  # held by the lease
    LtiScoreDelivery.objects.update(claimed_at=timezone.now() - lti_ags.LEASE - timezone.timedelta(seconds=1))
    assert lti_ags.scores_deliver(link_id=link.pk)["delivered"] == 1
    assert [s["scoreGiven"] for s in accepted(lms)] == [5.0]


def test_a_regrade_of_an_earlier_attempt_is_not_sent_over_the_latest_attempts_grade(transactional_db, linked, no_nudge):
    """The gradebook keeps the latest attempt: a bulk regrade of attempt 1 must not overwrite in
    the LMS the grade of attempt 2."""
    lms, link, first = linked
    second = Submission.objects.create(
        user=first.user, assignment=first.assignment, version=first.version, attempt=2, answer={}, status="graded"
    )
    grade(second, "9")
    grade(first, "4")  # the earlier attempt, regraded later
    assert lti_ags.scores_deliver(link_id=link.pk) == {"delivered": 1, "failed": 0, "skipped": 1}
    assert [s["scoreGiven"] for s in accepted(lms)] == [9.0]
    assert sorted(LtiScoreDelivery.objects.values_list("status", flat=True)) == ["delivered", "skipped"]


def test_a_refusal_no_retry_changes_is_given_up_at_once_and_later_grades_go(transactional_db, linked, no_nudge):
    lms, link, sub = linked
    LtiGradeLink.objects.filter(pk=link.pk).update(sub="not-a-member")  # the LMS answers 4xx: unknown user
    grade(sub, "2")
    assert lti_ags.scores_deliver(link_id=link.pk)["failed"] == 1
    assert LtiScoreDelivery.objects.get().status == "dead"


def test_while_an_lms_is_down_a_blocked_link_is_not_due_until_its_first_grade_is(transactional_db, linked, no_nudge):
    lms, link, sub = linked
    lms.control(down=True)
    grade(sub, "1")
    grade(sub, "2")
    assert lti_ags.scores_deliver(link_id=link.pk)["failed"] == 1
    assert lti_ags.links_due() == []  # beat's tick finds nothing to wake during the backoff
    lms.control(down=False)

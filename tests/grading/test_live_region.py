"""The submission page's live region is stable: the poll's answer is only the region's content
(never the region itself), nothing while the submission is being graded (204: htmx swaps nothing,
so nothing is announced), then the final content once, with 286 (htmx stops polling). A regrade's
status is announced the same way: its live region changes only when the status does."""

import lxml.html
from django.urls import reverse

from grading import services
from grading.models import RegradeJob
from tests.factories import make_quiz
from tests.grading.helpers import learner_for
from tests.twofactor import login_with_2fa

RIGHT = {"q1": ["a"], "q2": ["a", "c"]}
HX = {"HTTP_HX_REQUEST": "true"}


def _submission(client):
    quiz = make_quiz(points=10)
    learner = learner_for(quiz)
    client.force_login(learner)
    return services.submission_create(user=learner, assignment=quiz, answer=RIGHT)


def test_the_live_region_is_on_the_page_and_the_poller_outside_it(db, client):
    sub = _submission(client)
    tree = lxml.html.fromstring(client.get(reverse("grading:submission", args=[sub.pk])).content)
    (region,) = tree.xpath("//*[@aria-live]")
    assert region.get("id") == "submission-status" and region.get("aria-live") == "polite"
    assert region.xpath(".//*[@data-status='queued']")
    (poller,) = tree.xpath("//*[@hx-get]")
    assert poller.get("hx-get") == reverse("grading:submission-status", args=[sub.pk])
    assert poller.get("hx-target") == "#submission-status" and poller.get("hx-swap") == "innerHTML"
    assert poller not in region.iterdescendants() and region not in poller.iterdescendants()


def test_the_poll_answers_nothing_while_grading_then_the_final_content_once(db, client):
    sub = _submission(client)
    url = reverse("grading:submission-status", args=[sub.pk])
    pending = client.get(url, **HX)
    assert pending.status_code == 204 and pending.content == b""
    services.submission_grade(submission_id=sub.pk)
    final = client.get(url, **HX)
    assert final.status_code == 286  # htmx swaps it, then stops polling
    html = final.content.decode()
    assert 'data-status="graded"' in html and "data-score=" in html
    assert "aria-live" not in html and 'id="submission-status"' not in html  # the region is not in the fragment
    assert "hx-get" not in html
    # the page itself, once graded, polls no more
    page = client.get(reverse("grading:submission", args=[sub.pk])).content.decode()
    assert "hx-get" not in page and 'data-status="graded"' in page
    # the same answers through the page's own URL with htmx's header
    assert client.get(reverse("grading:submission", args=[sub.pk]), **HX).status_code == 286


def test_a_regrades_live_status_changes_only_when_its_status_does(db, client):
    quiz = make_quiz(points=10)
    instructor = learner_for(quiz)
    quiz.course.instructors.add(instructor)
    login_with_2fa(client, instructor)
    job = RegradeJob.objects.create(assignment=quiz, version=quiz.current_version, requested_by=instructor)
    url = reverse("grading:regrade", args=[job.pk])
    tree = lxml.html.fromstring(client.get(url).content)
    (region,) = tree.xpath("//*[@role='status']")
    assert region.get("id") == "regrade-state" and region.xpath(".//*[@data-status='pending']")
    (poller,) = tree.xpath("//*[@hx-get]")
    assert poller.get("hx-target") == "#regrade-progress" and poller.get("hx-include") == "#regrade-seen"
    assert not tree.xpath("//*[@id='regrade-progress'][@aria-live or @role='status']")
    same = client.get(url, {"seen": "pending"}, **HX)
    assert same.status_code == 200 and b"regrade-state" not in same.content  # nothing to announce
    RegradeJob.objects.filter(pk=job.pk).update(status="running")
    changed = client.get(url, {"seen": "pending"}, **HX).content.decode()
    (oob,) = lxml.html.fromstring(f"<div>{changed}</div>").xpath("//*[@hx-swap-oob]")
    assert oob.get("id") == "regrade-state" and oob.get("hx-swap-oob") == "innerHTML"
    assert oob.xpath(".//*[@data-status='running']")
    RegradeJob.objects.filter(pk=job.pk).update(status="done")
    assert client.get(url, {"seen": "running"}, **HX).status_code == 286

"""The grade is announced: on a submission's page, the aria-live region is the same element from
the first poll to the grade (htmx swaps its content, never the region), and its content changes
once, when the grade arrives."""

import pytest

from grading import services
from grading.models import Submission
from tests.factories import make_quiz
from tests.grading.helpers import learner_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

RIGHT = {"q1": ["a"], "q2": ["a", "c"]}


def test_the_live_region_stays_the_same_element_across_polls_until_graded(pages):
    quiz = make_quiz(points=10)
    learner = learner_for(quiz)
    # queued, as a learner's post leaves it (made directly: no task is sent to a worker)
    sub = Submission.objects.create(
        user=learner, assignment=quiz, version=quiz.current_version, attempt=1, answer=RIGHT
    )
    page = pages.new(lang="fr", user=learner)
    polls = []
    page.on("response", lambda r: polls.append(r.status) if r.url.endswith(f"/{sub.pk}/status/") else None)
    page.goto(f"/submissions/{sub.pk}/")
    # Mark the region, and count the changes to what is inside it.
    page.evaluate("""() => { const region = document.getElementById('submission-status');
        window.kafaatRegion = region; window.kafaatChanges = 0;
        new MutationObserver(() => { window.kafaatChanges += 1; })
            .observe(region, {childList: true, subtree: true, characterData: true}); }""")
    page.wait_for_timeout(2600)  # two or three polls while it is being graded
    assert polls and set(polls) == {204}, polls
    assert page.evaluate("window.kafaatChanges") == 0  # nothing to announce yet
    services.submission_grade(submission_id=sub.pk)  # the worker's part
    page.wait_for_selector("#submission-status [data-status=graded]", timeout=10_000)
    assert page.evaluate("document.getElementById('submission-status') === window.kafaatRegion")
    assert page.evaluate("window.kafaatRegion.getAttribute('aria-live')") == "polite"
    assert page.evaluate("window.kafaatRegion.isConnected")
    assert polls[-1] == 286
    page.wait_for_timeout(1500)
    assert polls.count(286) == 1, polls  # polling stopped with the grade
    assert page.evaluate("window.kafaatChanges") >= 1  # the grade, swapped in once (one 286)

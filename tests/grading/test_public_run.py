"""'Run the public tests': the learner's code runs in the real sandbox on the public tests only,
spends no attempt and saves nothing, shows each public test's output beside the expected one, and
is bounded per learner. Hidden tests show their names with a pass or fail only."""

import re

import pytest
from django.core.cache import cache

from grading import services
from grading.models import Submission
from tests.grading.helpers import CODE_SPEC, learner_for, make_assignment
from tests.twofactor import login_with_2fa

pytestmark = pytest.mark.django_db


@pytest.fixture
def code(client):
    cache.clear()
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    assignment = make_assignment("code", CODE_SPEC, attempts_allowed=1)
    learner = learner_for(assignment)
    login_with_2fa(client, learner)
    return {"assignment": assignment, "learner": learner,
            "url": f"/courses/{assignment.course.code}/assignments/{assignment.pk}/"}  # fmt: skip


def test_running_the_public_tests_shows_outputs_spends_no_attempt_and_keeps_the_code(client, code):
    page = client.get(code["url"]).content.decode()
    assert 'name="run_public"' in page
    wrong = "def solve(a, b):\n    return a - b\n"
    response = client.post(code["url"], {"code": wrong, "run_public": "1"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "0 of 1 public tests passed. No attempt was used." in html
    assert "expected 3" in html and "got -1" in html  # the public test's output beside the expected one
    assert ">h1<" not in html and "40, 2" not in html  # no hidden test ran
    assert "return a - b" in html  # the code stays in the editor
    assert not Submission.objects.exists()
    # The one attempt is still there to submit.
    assert client.post(code["url"], {"code": "def solve(a, b):\n    return a + b\n"}).status_code == 302
    assert Submission.objects.count() == 1


def test_runs_are_bounded_per_learner(client, code):
    for _ in range(services.PUBLIC_RUNS_PER_MINUTE):
        services.public_tests_run(user=code["learner"], assignment=code["assignment"],
                                  answer={"code": "def solve(a, b):\n    return a + b\n"})  # fmt: skip
    response = client.post(code["url"], {"code": "def solve(a, b):\n    return 0\n", "run_public": "1"})
    assert response.status_code == 400 and "wait a moment" in response.content.decode()


def test_only_code_assignments_run_and_only_for_learners_with_access(code):
    from kernel.errors import PermissionDenied
    from tests.factories import UserFactory

    with pytest.raises(PermissionDenied):
        services.public_tests_run(user=UserFactory(), assignment=code["assignment"], answer={"code": "x = 1\n"})


def test_a_graded_attempt_names_its_hidden_tests_with_only_pass_or_fail(client, code):
    sub = services.submission_create(user=code["learner"], assignment=code["assignment"],
                                     answer={"code": "def solve(a, b):\n    return a + b\n"})  # fmt: skip
    services.submission_grade(submission_id=sub.pk)
    html = client.get(f"/submissions/{sub.pk}/").content.decode()
    assert '<span dir="ltr">h1</span> <span class="hint">(hidden test)</span>' in html
    # Nor their inputs or outputs: no number 42 or 0.3 (the random CSRF tokens and nonces are left
    # out, and a number is matched whole: the page's own ids, such as submission 1442, may hold "42").
    visible = re.sub(r'(name="csrfmiddlewaretoken" value|nonce)="[^"]*"', "", html)
    assert "40, 2" not in visible and not re.search(r"(?<![\d.])(42|0\.3)(?![\d.])", visible)

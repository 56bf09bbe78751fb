"""Code feedback: the grader stores message codes and parameters (never sentences), pages render
them in the reader's language, and a hidden test's feedback is one of a fixed set of statuses that
nothing the learner's code does can steer. Real sandbox runs."""

import json

import pytest
from django.urls import reverse

from assessment import kinds
from assessment.kinds.code import grader as code
from grading import services
from grading.models import Submission
from tests.grading.helpers import CODE_SPEC, learner_for, make_assignment

HIDDEN_STATUSES = {"passed", "failed", "crashed", "time_limit", "memory_limit"}


@pytest.fixture(scope="module")
def spec():
    return kinds.prepare_spec("code", CODE_SPEC)


def _hidden_part(feedback: dict) -> str:
    """Everything of the feedback but the public tests' rows (their text is the learner's own)."""
    rest = {k: v for k, v in feedback.items() if k != "tests"}
    rest["hidden"] = [t for t in feedback["tests"] if not t["public"]]
    return json.dumps(rest)


def test_code_feedback_stores_a_message_code_and_its_parameters_not_a_sentence(spec):
    result = code.grade(spec, {"code": "def solve(a, b)\n    return a + b\n"})

    assert "message" not in result.feedback
    [notice] = result.feedback["messages"]
    assert notice["code"] == "code.load_error"
    assert notice["params"]["error"].startswith("SyntaxError")


def test_a_missing_function_is_named_without_internal_module_names(spec):
    result = code.grade(spec, {"code": "def resolve(a, b):\n    return a + b\n"})

    assert result.feedback["messages"] == [{"code": "code.missing_function", "params": {"name": "solve"}}]
    assert "submission" not in json.dumps(result.feedback)


def test_a_reference_solution_without_the_function_is_refused_naming_it():
    with pytest.raises(kinds.SpecError) as exc:
        kinds.prepare_spec("code", {**CODE_SPEC, "reference_solution": "def other(a, b):\n    return 0\n"})

    assert exc.value.path == "reference_solution" and "does not define the function solve" in exc.value.message


def test_public_time_limit_is_a_code(spec):
    result = code.grade(spec, {"code": "def solve(a, b):\n    while True:\n        pass\n"})

    assert {"code": "code.public_limit", "params": {"limit": "time"}} in result.feedback["messages"]


@pytest.mark.parametrize("mode", ["require", "0"])
def test_public_output_flood_is_the_output_limit_not_the_memory_limit(spec, mode, monkeypatch):
    # The runner kills a run that floods its stdout (exit -9 on both paths), which read as the
    # memory limit: the learner was told to use less memory for printing too much. (print() goes
    # to stderr under the harness: the flood writes to the harness's own result pipe.)
    monkeypatch.setenv("KAFAAT_SANDBOX_ZYGOTE", mode)
    flood = (
        "import os, stat\n"
        "def solve(a, b):\n"
        "    pipes = [fd for fd in range(3, 64) if _is_pipe(fd)]\n"
        "    while True:\n"
        "        for fd in pipes:\n"
        "            os.write(fd, b'x' * 65536)\n"
        "def _is_pipe(fd):\n"
        "    try:\n"
        "        return stat.S_ISFIFO(os.fstat(fd).st_mode)\n"
        "    except OSError:\n"
        "        return False\n"
    )
    result = code.grade(spec, {"code": flood})

    assert {"code": "code.public_limit", "params": {"limit": "output"}} in result.feedback["messages"]
    assert result.score == 0


# Each submission answers the public test right, then on a hidden input tries to tell the learner
# something about it: the input itself in its exit status, an exception's text, its output.
HOSTILE = {
    "exit status": "import os\ndef solve(a, b):\n    if a == 1:\n        return 3\n    os._exit(int(a))\n",
    "exception text": "def solve(a, b):\n    if a == 1:\n        return 3\n    raise ValueError(f'LEAK{a}')\n",
    "printed": "def solve(a, b):\n    if a == 1:\n        return 3\n    print(f'LEAK{a}')\n    return 0\n",
    "exception at load": (
        "import json\nt = json.load(open('/task/inputs.json'))['tests']\n"
        "if t[0]['id'] == 'h1':\n    raise ValueError(f\"LEAK{t[0]['args'][0]}\")\n"
        "def solve(a, b):\n    return a + b\n"
    ),
    "exit at load": (
        "import json, os\nt = json.load(open('/task/inputs.json'))['tests']\n"
        "if t[0]['id'] == 'h1':\n    os._exit(int(t[0]['args'][0]))\n"
        "def solve(a, b):\n    return a + b\n"
    ),
    "killed": "import os, signal\ndef solve(a, b):\n    if a == 1:\n        return 3\n    os.kill(os.getpid(), 9)\n",
    "memory error text": "def solve(a, b):\n    if a == 1:\n        return 3\n    raise MemoryError(f'LEAK{a}')\n",
}


@pytest.mark.parametrize("how", list(HOSTILE))
def test_nothing_from_learner_output_exceptions_or_exit_codes_reaches_hidden_feedback(spec, how):
    result = code.grade(spec, {"code": HOSTILE[how]})

    hidden = [t for t in result.feedback["tests"] if not t["public"]]
    assert [set(t) for t in hidden] == [{"id", "public", "passed", "status"}] * 2
    assert {t["status"] for t in hidden} <= HIDDEN_STATUSES
    text = _hidden_part(result.feedback)
    assert "LEAK" not in text and "40" not in text and "exit" not in text and "submission" not in text
    # Only the public run may add a message, and it ran right.
    assert result.feedback.get("messages", []) == []


@pytest.mark.parametrize(
    "body, status",
    [
        ("return a + b", "passed"),
        ("return a - b", "failed"),
        ("raise ValueError('no')", "crashed"),
        ("import os; os._exit(3)", "crashed"),
        ("x = bytearray(4 * 1024 ** 3)", "memory_limit"),
        ("while True: pass", "time_limit"),
    ],
)
def test_a_hidden_test_reads_as_one_of_five_fixed_statuses(spec, body, status):
    answer = f"def solve(a, b):\n    if a == 1:\n        return 3\n    {body}\n"

    result = code.grade(spec, {"code": answer})

    assert [t["status"] for t in result.feedback["tests"] if not t["public"]] == [status, status]


@pytest.mark.django_db
def test_code_feedback_is_rendered_in_the_readers_language(client, spec):
    assignment = make_assignment("code", CODE_SPEC)
    user = learner_for(assignment)
    missing = services.submission_create(user=user, assignment=assignment, answer={"code": "def f():\n    pass\n"})
    broken = services.submission_create(user=user, assignment=assignment, answer={"code": "def solve(a, b)\n"})
    for sub in (missing, broken):
        services.submission_grade(submission_id=sub.pk)
    client.force_login(user)

    french = {"HTTP_ACCEPT_LANGUAGE": "fr"}
    page = client.get(reverse("grading:submission", args=[missing.pk]), **french).text
    assert "La fonction solve est introuvable." in page
    page = client.get(reverse("grading:submission", args=[broken.pk]), **french).text
    assert "Votre code n’a pas pu être chargé : SyntaxError" in page
    assert "could not be loaded" not in page
    grades = client.get(reverse("learning:grades"), **french).text
    assert "La fonction solve est introuvable." in grades and "Votre code n’a pas pu être chargé" in grades
    english = client.get(reverse("grading:submission", args=[missing.pk]), HTTP_ACCEPT_LANGUAGE="en").text
    assert "The function solve is missing." in english


@pytest.mark.django_db
def test_feedback_stored_as_a_sentence_before_the_codes_is_still_shown(client):
    assignment = make_assignment("code", CODE_SPEC)
    user = learner_for(assignment)
    sub = services.submission_create(user=user, assignment=assignment, answer={"code": "x"})
    Submission.objects.filter(pk=sub.pk).update(
        status="graded",
        score=0,
        max_score=assignment.points,
        feedback={"tests": [], "passed": 0, "total": 3, "message": "Public tests: time limit exceeded."},
    )
    client.force_login(user)

    page = client.get(reverse("grading:submission", args=[sub.pk]), HTTP_ACCEPT_LANGUAGE="fr").text

    assert "Public tests: time limit exceeded." in page


@pytest.mark.django_db
def test_hidden_test_statuses_are_shown_in_the_readers_language(client):
    assignment = make_assignment("code", CODE_SPEC)
    user = learner_for(assignment)
    answer = "def solve(a, b):\n    if a == 1:\n        return 3\n    raise ValueError('no')\n"
    sub = services.submission_create(user=user, assignment=assignment, answer={"code": answer})
    services.submission_grade(submission_id=sub.pk)
    client.force_login(user)

    page = client.get(reverse("grading:submission", args=[sub.pk]), HTTP_ACCEPT_LANGUAGE="fr").text

    assert page.count("erreur à l’exécution") == 2

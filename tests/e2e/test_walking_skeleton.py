"""The walking skeleton, end to end, twice: on PostgreSQL + Redis with a real worker, and on the
embedded defaults (SQLite + filesystem broker) with the Procfile's three processes."""

import os
import re
import shutil
import stat
import subprocess
from decimal import Decimal

import pytest
import requests
import yaml
from django.core import mail

from courses.demo.checks import question_answer
from grading.models import GradeRecord, Submission
from tests.factories import LessonFactory, ModuleFactory, PathFactory, add_to_path, make_quiz
from tests.processes import ROOT, VENV_BIN, base_env, free_port, wait_for

from .skeleton import link_from_console_log, walk

pytestmark = pytest.mark.e2e

FACTORY_ANSWERS = {"q_q1": ["a"], "q_q2": ["a", "c"]}
DEMO_COURSE = ROOT / "courses" / "demo" / "courses" / "ds-101"


def _demo_quiz() -> dict:
    """The first assignment of the demo course's first module (the one the walk opens): a quiz."""
    docs = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted((DEMO_COURSE / "assignments").glob("*.yaml"))]
    return min((d for d in docs if d["module"] == 1), key=lambda d: d["position"])


def demo_answers(names: set[str]) -> dict:
    """The right answers to the questions the quiz page asks (fixed, or drawn from a bank: their
    field is q_<tag>:<id>), from the course folder's own YAML."""
    quiz = _demo_quiz()
    questions = {f"q_{q['id']}": q for q in quiz["spec"].get("questions") or []}
    for path in (DEMO_COURSE / "banks").glob("*.yaml"):
        bank = yaml.safe_load(path.read_text(encoding="utf-8"))
        questions.update({f"q_{bank['tag']}:{q['id']}": q for q in bank["questions"]})
    return {name: question_answer(questions[name]) for name in names}


def test_learner_walks_the_skeleton_on_postgres_with_a_real_worker(live_server, worker):
    path = PathFactory()
    module = ModuleFactory()
    add_to_path(path, module.course, 1)
    LessonFactory(module=module)
    quiz = make_quiz(module=module, points=10)

    def confirmation_link(email):  # the live server runs in this process: Django's locmem outbox
        for message in mail.outbox:
            if message.to == [email]:
                return "/" + re.search(r"https?://\S+", message.body).group(0).split("/", 3)[3]
        return None

    result = walk(
        live_server.url, course_code=module.course.code, answers=FACTORY_ANSWERS, confirmation_link=confirmation_link
    )

    submission = Submission.objects.get(assignment=quiz, user__email=result["email"])
    assert submission.status == Submission.Status.GRADED
    assert submission.score == Decimal("10.00") and result["score"] == "10.00"
    # Graded exactly once, by the worker process (this process never grades: there is no eager mode).
    assert GradeRecord.objects.filter(submission=submission).count() == 1
    assert submission.grading_attempts == 1


@pytest.fixture
def embedded_stack(tmp_path):
    """`make run`'s own script (scripts/run.sh: migrate, seed_demo, then honcho with the Procfile) in
    a scratch var/, on a port of its own (PORT), as a newcomer starts it."""
    (ROOT / "test-artifacts").mkdir(exist_ok=True)
    port = free_port()
    env = base_env(KAFAAT_VAR_DIR=tmp_path / "var", DEBUG="false", PORT=port, KAFAAT_VENV=VENV_BIN.parent,
                   PATH=f"{VENV_BIN}:{os.environ['PATH']}", WEB_CONCURRENCY=1, WORKER_CONCURRENCY=1)  # fmt: skip
    for key in ("DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE", "SITE_URL"):
        env.pop(key, None)
    log = open(tmp_path / "stack.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(["bash", "scripts/run.sh"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)  # fmt: skip
    base = f"http://127.0.0.1:{port}"

    def ready():
        try:
            return requests.get(f"{base}/readyz", timeout=10).status_code == 200
        except requests.RequestException:
            return False

    try:
        wait_for(ready, timeout=120, interval=0.5, message="the embedded stack's /readyz")
        yield {"url": base, "seed_output": (tmp_path / "stack.log").read_text(), "var": tmp_path / "var", "env": env,
               "log": tmp_path / "stack.log"}  # fmt: skip
    finally:
        os.killpg(proc.pid, 15)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
        log.close()
        shutil.copy(tmp_path / "stack.log", ROOT / "test-artifacts" / "embedded-stack.log")


def test_learner_walks_the_skeleton_on_the_embedded_defaults(embedded_stack):
    assert (embedded_stack["var"] / "kafaat.sqlite3").exists()
    assert "learner@kafaat.local" in (embedded_stack["var"] / "demo-logins.txt").read_text()

    # The console e-mail backend prints the confirmation e-mail into the stack's log.
    result = walk(
        embedded_stack["url"], course_code="ds-101", answers=demo_answers,
        confirmation_link=lambda email: link_from_console_log(embedded_stack["log"], email),
    )  # fmt: skip

    assert _demo_quiz()["kind"] == "quiz"
    assert result["score"] == f"{Decimal(str(_demo_quiz()['points'])):.2f}"


def test_make_run_ends_with_the_demo_logins_framed_after_the_servers_start(embedded_stack):
    logins = embedded_stack["var"] / "demo-logins.txt"
    assert stat.S_IMODE(logins.stat().st_mode) == 0o600

    def framed():
        log = embedded_stack["log"].read_text()
        return "╚" in log and log

    log = wait_for(framed, timeout=30, interval=0.5, message="the framed block in make run's output")
    block = log[log.rindex("╔") : log.rindex("╚")]
    assert "Listening at" in log[: log.rindex("╔")]  # gunicorn's start-up line came before it
    for line in logins.read_text().splitlines():
        assert line in block
    # The demo university's API client gets a token with the printed credentials.
    client_id = re.search(r"client_id\s+(\S+)", block).group(1)
    secret = re.search(r"client_secret\s+(\S+)", block).group(1)
    token = requests.post(f"{embedded_stack['url']}/o/token/", data={"grant_type": "client_credentials"},
                          auth=(client_id, secret), timeout=10)  # fmt: skip
    assert token.status_code == 200 and token.json()["access_token"]
    # DEBUG is off: a bad address shows the site's 404 page, not Django's URL list.
    missing = requests.get(f"{embedded_stack['url']}/no-such-page/", timeout=10)
    assert missing.status_code == 404 and "URLconf" not in missing.text and "site-header" in missing.text

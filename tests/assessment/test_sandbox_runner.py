"""The sandbox runner against the real bubblewrap (no database):
- every process that runs the sandbox reaps what it adopts, a forked child (as billiard forks a
  replacement pool child) included, and none is left a subreaper by it;
- a sandbox that fails itself (out of processes, bwrap missing or erroring out) is an
  infrastructure error: SandboxUnavailable, then GraderUnavailable or a SpecError saying so;
  never the learner's score. What learner code does to itself stays the learner's outcome."""

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from assessment import kinds
from assessment.kinds import GraderUnavailable, SpecError
from assessment.kinds.code import grader as code
from assessment.sandbox import SandboxUnavailable, run_tests, runner
from assessment.sandbox.runner import run_python, stop_zygotes
from tests.assessment.sandbox_helpers import is_subreaper, sandbox_zombies, slot_uid, zombies_of
from tests.processes import ROOT, base_env

SPEC = {
    "entrypoint": "solve",
    "reference_solution": "def solve(x):\n    return x * 2\n",
    "public_tests": [{"id": "t1", "args": [1]}],
    "hidden_tests": [{"id": "h1", "args": [21]}],
}
HONEST = "def solve(x):\n    return x * 2\n"
HELLO = {"main.py": "print('hi')\n"}


def run_hello():
    """A run that says when it started, as the harness does: the token first, then its output."""
    token = secrets.token_hex(8)
    return run_python({"main.py": f"print({token!r})\nprint('hi')\n"}, script="main.py", started=token)


@pytest.fixture(scope="module")
def spec():
    return kinds.prepare_spec("code", SPEC)


@pytest.fixture
def one_slot(monkeypatch):
    """One sandbox slot, so that a run gets the slot uid this test fills (slot 0)."""
    monkeypatch.setenv("KAFAAT_SANDBOX_SLOTS", "1")
    return slot_uid(0)


def test_a_forked_child_of_a_process_that_ran_the_sandbox_leaves_no_zombie():
    # The parent runs the sandbox first, as a worker's main process does in its start-up self-test;
    # then it forks, as billiard forks a pool child to replace one that was killed.
    assert run_python(HELLO, script="main.py").stdout == "hi\n"
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe and never returns
        try:
            os.close(read)
            outs = [run_python(HELLO, script="main.py").stdout for _ in range(5)]
            # The child started its own zygote (the parent's belongs to the parent); a pool child
            # stops it when it shuts down (worker_process_shutdown), before it os._exit()s.
            stop_zygotes()
            report = {"outs": outs, "zombies": [repr(z) for z in sandbox_zombies()]}
        except BaseException as exc:  # noqa: BLE001 - reported to the parent
            report = {"error": repr(exc)}
        os.write(write, json.dumps(report).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as f:
        report = json.loads(f.read())
    os.waitpid(pid, 0)
    assert report == {"outs": ["hi\n"] * 5, "zombies": []}
    assert sandbox_zombies() == []


def test_running_the_sandbox_leaves_the_callers_subreaper_state_as_it_was():
    before = is_subreaper()
    run_python(HELLO, script="main.py")
    assert is_subreaper() == before


def test_the_start_up_self_test_does_not_leave_the_worker_process_a_subreaper():
    # A fresh process, as a worker's main process is when it runs the self-test at worker_ready.
    script = (
        "from assessment.sandbox import self_test\n"
        "from tests.assessment.sandbox_helpers import is_subreaper\n"
        "print(self_test(), is_subreaper())\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=base_env(), capture_output=True, text=True, timeout=120
    )
    assert proc.stdout.split() == ["None", "False"], proc.stderr[-3000:]


def test_a_run_that_started_gives_its_output_without_the_token():
    assert run_hello().stdout == "hi\n"


@pytest.mark.parametrize("zombies", [30, 40])
def test_a_slot_uid_out_of_processes_is_an_infrastructure_error_never_a_score(spec, one_slot, zombies, monkeypatch):
    # 30 zombies: bwrap starts but "Can't fork for pid 1" (the log); 40: setpriv cannot exec.
    monkeypatch.setenv("KAFAAT_SANDBOX_ZYGOTE", "1")
    monkeypatch.setattr(runner._ZYGOTES, "failed", {})
    with zombies_of(one_slot, zombies):
        with pytest.raises(SandboxUnavailable) as exc:
            run_hello()
        assert "Resource temporarily unavailable" in str(exc.value)
        with pytest.raises(GraderUnavailable):
            code.grade(spec, {"code": HONEST})
        with pytest.raises(SpecError) as spec_error:
            code.checked_spec(SPEC)
        assert spec_error.value.path == "reference_solution"
        assert "sandbox is unavailable" in spec_error.value.message
        assert "expected" not in kinds.prepare_spec("code", SPEC)  # deferred to the first grading
    assert code.grade(spec, {"code": HONEST}).score == 2  # the slot works again once they are gone
    # ... and on the zygote at once: the zygote could not start while the fresh interpreter could
    # not either, so the sandbox was at fault and the zygote is not held off for 30 s.
    assert run_hello().zygote


def test_a_bwrap_that_is_not_there_is_an_infrastructure_error(spec, monkeypatch):
    monkeypatch.setenv("KAFAAT_SANDBOX_BWRAP", "/nonexistent/bwrap")
    with pytest.raises(GraderUnavailable):
        code.grade(spec, {"code": HONEST})
    with pytest.raises(SpecError) as exc:
        code.checked_spec(SPEC)
    assert "sandbox is unavailable" in exc.value.message
    assert "expected" not in kinds.prepare_spec("code", SPEC)  # deferred to the first grading


# Stand-ins for bwrap, each of which fails before the learner's code could run, whatever its exit
# status: the real bwrap refusing an option, a bwrap that exits 0 having run nothing, one killed.
FAILING_BWRAPS = {
    "bad_option": f'exec {shutil.which("bwrap")} --no-such-option "$@"',
    "exits_0_without_running": "exit 0",
    "killed": "kill -KILL $$",
}


@pytest.fixture(params=sorted(FAILING_BWRAPS))
def failing_bwrap(request, monkeypatch):
    # A directory every uid can traverse: setpriv drops to the slot uid before it runs bwrap.
    folder = Path(tempfile.mkdtemp(prefix="kafaat-test-bwrap-"))
    folder.chmod(0o755)
    wrapper = folder / "bwrap"
    wrapper.write_text(f"#!/bin/sh\n{FAILING_BWRAPS[request.param]}\n")
    wrapper.chmod(0o755)
    monkeypatch.setenv("KAFAAT_SANDBOX_BWRAP", str(wrapper))
    yield request.param
    shutil.rmtree(folder)


def test_a_bwrap_that_fails_to_start_is_an_infrastructure_error(spec, failing_bwrap):
    with pytest.raises(SandboxUnavailable):
        run_hello()
    with pytest.raises(SandboxUnavailable):
        run_tests(code=HONEST, entrypoint="solve", tests=[{"id": "t1", "args": [1]}])
    with pytest.raises(GraderUnavailable):
        code.grade(spec, {"code": HONEST})
    with pytest.raises(SpecError) as exc:
        code.checked_spec(SPEC)
    assert exc.value.path == "reference_solution" and "sandbox is unavailable" in exc.value.message
    assert "expected" not in kinds.prepare_spec("code", SPEC)  # deferred to the first grading


# What learner code does to itself, after the sandbox started it, is the learner's outcome (the fork
# bomb, which forks until the slot's process limit runs out, is in test_hostile_sandbox.py).
SELF_INFLICTED = {
    "os_exit_3": "import os\ndef solve(x):\n    os._exit(3)\n",
    "sigkill_self": "import os\ndef solve(x):\n    os.kill(os.getpid(), 9)\n",
    "sigkill_self_at_import": "import os\nos.kill(os.getpid(), 9)\ndef solve(x):\n    return x * 2\n",
    "os_exit_at_import": "import os\nos._exit(1)\ndef solve(x):\n    return x * 2\n",
    "kill_whole_sandbox": "import os\ndef solve(x):\n    os.kill(-1, 9)\n    return x * 2\n",
    "closes_its_output": "import os\ndef solve(x):\n    for fd in range(256):\n        try:\n"
    "            os.close(fd)\n        except OSError:\n            pass\n    return x * 2\n",
}


@pytest.mark.parametrize("name", sorted(SELF_INFLICTED))
def test_learner_code_that_kills_or_exits_itself_is_scored_as_the_learners_outcome(spec, name):
    result = code.grade(spec, {"code": SELF_INFLICTED[name]})
    assert (result.score, result.max_score) == (0, 2), result.feedback
    assert [t["passed"] for t in result.feedback["tests"]] == [False, False]
    assert code.grade(spec, {"code": HONEST}).score == 2

"""Hostile submissions against the real sandbox. Each ends with score 0 (or a clear error), and
an honest submission graded right after, or at the same time, still passes. They run on the
zygote path (KAFAAT_SANDBOX_ZYGOTE=require: a fork of the slot's zygote, never the fallback), so
the honest submission after each is forked from the zygote the hostile one ran on, or its
replacement; test_zygote_sandbox.py has the cases that are the zygote's own."""

import os
import threading
import time
from pathlib import Path

import pytest

from assessment import kinds
from assessment.kinds.code import grader as code
from assessment.sandbox import runner
from assessment.sandbox.runner import ROOT_DIR
from tests.assessment.sandbox_helpers import idle_zygote_processes, slot_uids

SPEC = {
    "entrypoint": "solve",
    "reference_solution": "def solve(x):\n    return x * 2\n",
    "public_tests": [{"id": "t1", "args": [1]}],
    "hidden_tests": [{"id": "h1", "args": [123456789]}],
}
HONEST = "def solve(x):\n    return x * 2\n"


@pytest.fixture(autouse=True)
def zygote_required(monkeypatch):
    monkeypatch.setenv("KAFAAT_SANDBOX_ZYGOTE", "require")


@pytest.fixture(scope="module")
def spec():
    return kinds.prepare_spec("code", SPEC)


def grade(spec, source: str):
    return code.grade(spec, {"code": source})


def assert_honest_still_passes(spec):
    assert grade(spec, HONEST).score == 2


HOSTILE = {
    "infinite_loop": "def solve(x):\n    while True:\n        pass\n",
    "sleep": "import time\ndef solve(x):\n    time.sleep(60)\n",
    "fork_bomb": (
        "import os\ndef solve(x):\n    while True:\n        try:\n            os.fork()\n"
        "        except OSError:\n            pass\n"
    ),
    "memory_bomb": "def solve(x):\n    a = []\n    while True:\n        a.append(bytearray(50 * 1024 * 1024))\n",
    "output_flood": "import sys\ndef solve(x):\n    while True:\n        sys.__stdout__.write('x' * 65536)\n",
    "huge_file": (
        "def solve(x):\n    with open('/tmp/big', 'wb') as f:\n        while True:\n"
        "            f.write(b'x' * 1024 * 1024)\n"
    ),
    "network": (
        "import socket\ndef solve(x):\n    socket.create_connection(('127.0.0.1', 5432), timeout=2)\n    return x * 2\n"
    ),
    "read_etc": "def solve(x):\n    open('/etc/passwd').read()\n    return x * 2\n",
    "worker_environ": (
        "def solve(x):\n    data = open('/proc/1/environ').read()\n"
        "    assert 'DATABASE_URL' in data or 'SECRET' in data\n    return x * 2\n"
    ),
    "sys_exit_before_checks": "import sys\ndef solve(x):\n    sys.exit(0)\n",
    "os_exit_before_checks": "import os\ndef solve(x):\n    os._exit(0)\n",
    "always_equal": (
        "class Eq:\n    def __eq__(self, other):\n        return True\n    def __ne__(self, other):\n"
        "        return False\ndef solve(x):\n    return Eq()\n"
    ),
    "int_subclass_always_equal": (
        "class I(int):\n    def __eq__(self, other):\n        return True\ndef solve(x):\n    return I(0)\n"
    ),
    "forged_results_on_real_stdout": (
        'import os\nos.write(1, b\'{"id": "h1", "ok": true, "value": 0}\\n\')\ndef solve(x):\n    os._exit(0)\n'
    ),
    "ptrace_or_namespaces": (
        "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n"
        "def solve(x):\n    assert libc.unshare(0x10000000) != 0\n    assert libc.ptrace(16, 1, 0, 0) != 0\n"
        "    return x * 2\n"
    ),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_submission_scores_zero_and_harms_nothing(spec, name):
    started = time.monotonic()
    result = grade(spec, HOSTILE[name])
    if name == "ptrace_or_namespaces":
        # The assertions inside hold (the calls are refused), so the code "works": what matters is
        # that ptrace and new namespaces were denied, which the learner's own asserts prove.
        assert result.score == 2
    else:
        assert result.score == 0, (name, result.feedback)
    assert time.monotonic() - started < 120  # a bound on harm, not a speed claim
    assert_honest_still_passes(spec)


def test_background_process_does_not_outlive_the_run(spec, tmp_path):
    name = f"kfd{os.getpid() % 10**6}"  # the daemon's name in /proc/<pid>/comm (15 characters at most)
    source = (
        "import os, time\n"
        "def solve(x):\n"
        "    if os.fork() == 0:\n"
        "        os.setsid()\n"
        "        if os.fork() == 0:\n"
        f"            open('/proc/self/comm', 'w').write({name!r})\n"
        "            while True:\n"
        "                time.sleep(0.1)\n"
        "        os._exit(0)\n"
        "    return x * 2\n"
    )
    assert grade(spec, source).score == 2  # the answer is right; the daemon must still be gone
    # At once: the daemon lived in the run's own pid namespace, which is gone when the run returns.
    assert _named(name) == []
    # Nothing else of a run outlives it: the idle zygotes (this process's, and the session worker's
    # pool child's) are each bwrap, bwrap's pid 1, the launcher and the zygote, nothing more. A zygote an earlier
    # test stopped (the fork bomb's, the sleeper's) is killed but may take a moment to finish dying
    # on a loaded machine: it is given 10 s.
    assert runner._ZYGOTES.idle
    deadline = time.monotonic() + 10
    while True:
        zygotes = idle_zygote_processes()
        left = [pid for pid in _sandbox_processes_not_of_another_run() if int(pid) not in zygotes]
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert left == [], [(pid, _comm(pid), _proc_status(int(pid)), _cmdline(pid)) for pid in left]


def _comm(pid) -> str | None:
    try:
        return (Path("/proc") / str(pid) / "comm").read_text().strip()
    except OSError:
        return None


def _cmdline(pid) -> str | None:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()[-300:]
    except OSError:
        return None


def _named(name: str) -> list[str]:
    return [p.name for p in Path("/proc").iterdir() if p.name.isdigit() and _comm(p.name) == name]


def _proc_status(pid: int) -> tuple[int, int] | None:
    """(uid, ppid) of a process, or None when it is gone."""
    try:
        lines = (Path("/proc") / str(pid) / "status").read_text().splitlines()
    except OSError:
        return None
    field = {line.split(":", 1)[0]: line.split(":", 1)[1].split() for line in lines if ":" in line}
    return int(field["Uid"][0]), int(field["PPid"][0])


def _sandbox_processes_not_of_another_run() -> list[str]:
    """Processes under a sandbox uid that belong to this test: descendants of this process, or
    orphans. Sandboxes of other test runs on the same machine (their ancestry reaches another
    live process outside the sandbox uids) are not ours to count."""
    me, found, uids = os.getpid(), [], slot_uids()  # this run's slot uids (KAFAAT_SANDBOX_UID_BASE)
    for proc in Path("/proc").iterdir():
        status = _proc_status(int(proc.name)) if proc.name.isdigit() else None
        if status is None or status[0] not in uids:
            continue
        pid, parent = int(proc.name), status[1]
        while parent not in (0, 1, me):
            up = _proc_status(parent)
            if up is None or up[0] not in uids:
                break  # the first ancestor outside the sandbox uids: ours only if it is `me`
            parent = up[1]
        if parent in (0, 1, me) or _descends_from(parent, me):
            found.append(str(pid))
    return found


def _descends_from(pid: int, ancestor: int) -> bool:
    while pid not in (0, 1):
        if pid == ancestor:
            return True
        status = _proc_status(pid)
        if status is None:
            return False
        pid = status[1]
    return False


def test_hidden_inputs_and_hidden_outputs_never_reach_the_learner(spec):
    source = (
        "import sys, json\n"
        "DATA = open('/task/inputs.json').read()\n"
        "print(DATA)\n"
        "def solve(x):\n"
        "    print('SEEN', x)\n"
        "    raise ValueError(DATA + str(x))\n"
    )
    result = grade(spec, source)
    assert result.score == 0
    assert "123456789" not in str(result.feedback)  # the hidden input
    assert "246913578" not in str(result.feedback)  # the hidden expected output
    # Staff may see the hidden run's stderr; the learner sees a fixed status for the hidden test.
    assert result.feedback["tests"][1] == {"id": "h1", "public": False, "passed": False, "status": "crashed"}


def test_the_run_directory_holds_inputs_only_never_expected_outputs(spec):
    source = (
        "import os\n"
        "def solve(x):\n"
        "    names = sorted(os.listdir('/task'))\n"
        "    text = ''.join(open('/task/' + n).read() for n in names)\n"
        "    secret = str(123456789 * 2)\n"
        "    ok = names == ['harness.py', 'inputs.json', 'submission.py'] and text.count(secret) == 0\n"
        "    return x * 2 if ok else -1\n"
    )
    before = set(ROOT_DIR.glob("run-*"))
    assert grade(spec, source).score == 2
    assert set(ROOT_DIR.glob("run-*")) <= before  # and it is removed after the run


def test_a_fork_bomb_does_not_stop_an_honest_run_at_the_same_time(spec):
    results = {}

    def run(name, source):
        results[name] = grade(spec, source).score

    bomb = threading.Thread(target=run, args=("bomb", HOSTILE["fork_bomb"]))
    bomb.start()
    time.sleep(0.3)
    honest = threading.Thread(target=run, args=("honest", HONEST))
    honest.start()
    bomb.join(120)
    honest.join(120)
    assert results == {"bomb": 0, "honest": 2}

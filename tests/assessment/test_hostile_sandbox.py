"""Hostile submissions against the real sandbox. Each ends with score 0 (or a clear error), and
an honest submission graded right after, or at the same time, still passes."""

import os
import threading
import time
from pathlib import Path

import pytest

from assessment import kinds
from assessment.kinds.code import grader as code
from assessment.sandbox.runner import ROOT_DIR
from tests.assessment.sandbox_helpers import slot_uids

SPEC = {
    "entrypoint": "solve",
    "reference_solution": "def solve(x):\n    return x * 2\n",
    "public_tests": [{"id": "t1", "args": [1]}],
    "hidden_tests": [{"id": "h1", "args": [123456789]}],
}
HONEST = "def solve(x):\n    return x * 2\n"


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
    marker = "kafaat-daemon-marker-" + str(os.getpid())
    source = (
        "import os, time\n"
        "def solve(x):\n"
        "    if os.fork() == 0:\n"
        "        os.setsid()\n"
        "        if os.fork() == 0:\n"
        f"            import sys; sys.argv[0] = {marker!r}\n"
        "            while True:\n"
        "                time.sleep(0.1)\n"
        "        os._exit(0)\n"
        "    return x * 2\n"
    )
    assert grade(spec, source).score == 2  # the answer is right; the daemon must still be gone
    time.sleep(0.5)
    assert _sandbox_processes_not_of_another_run() == []


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

"""The per-slot zygote (assessment/sandbox/zygote.py) against the real bubblewrap: what one run
does to the state it was forked with (pandas, caches, sys.modules, /tmp, /dev/shm, SysV IPC,
processes) never reaches the next run on the same zygote; /tmp and /dev/shm are capped; the
zombies of a run are reaped before run_python returns; a run cannot signal, trace or read the
zygote. Every test runs with KAFAAT_SANDBOX_ZYGOTE=require (no fallback to a fresh interpreter)
and one slot, so that consecutive runs share one zygote, which each test checks by its pid."""

import json
import os
import secrets
import shutil
import signal
import subprocess
import threading
import time

import pytest

from assessment import kinds
from assessment.kinds.code import grader as code
from assessment.sandbox import runner
from assessment.sandbox.runner import run_python
from tests.assessment.sandbox_helpers import ZYGOTE_TREE, descendants, processes, sandbox_zombies, slot_uid

PANDAS_SPEC = {
    "entrypoint": "solve",
    "reference_solution": (
        "import pandas as pd\ndef solve(xs):\n    return float(pd.DataFrame({'x': xs})['x'].mean())\n"
    ),
    "public_tests": [{"id": "t1", "args": [[1, 2, 3]]}],
    "hidden_tests": [{"id": "h1", "args": [[2, 4, 9]]}],
}
HONEST = PANDAS_SPEC["reference_solution"]


@pytest.fixture(autouse=True)
def one_zygote(monkeypatch):
    """One slot, the zygote required: consecutive runs in this process share one zygote."""
    monkeypatch.setenv("KAFAAT_SANDBOX_SLOTS", "1")
    monkeypatch.setenv("KAFAAT_SANDBOX_ZYGOTE", "require")
    monkeypatch.setattr(runner._ZYGOTES, "failed", {})  # no earlier test's failed start holds it off
    yield
    runner.stop_zygotes()


@pytest.fixture(scope="module")
def spec():
    return kinds.prepare_spec("code", PANDAS_SPEC)


def run(source: str) -> runner.RunResult:
    result = run_python({"main.py": source}, script="main.py")
    assert result.zygote, result
    return result


def facts(source: str):
    """Run `source`, which prints one JSON line last; return it."""
    result = run(source)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def zygote_pid() -> int:
    """The pid of the one idle zygote's python process (bwrap -> bwrap's pid 1 -> zygote.py's
    launcher -> zygote.py, PID 1 of its own pid namespace), which forks every run."""
    [zygote] = runner._ZYGOTES.idle.values()
    tree = descendants(zygote.proc.pid)
    pythons = {p.pid: p for p in processes() if p.pid in tree and p.name != "bwrap" and p.state != "Z"}
    [pid] = [p.pid for p in pythons.values() if p.ppid in pythons]  # the launcher's child
    return pid


def test_a_monkeypatched_pandas_a_filled_cache_or_a_sys_modules_entry_do_not_reach_the_next_run(spec):
    assert code.grade(spec, {"code": HONEST}).score == 2
    before = zygote_pid()
    poison = (
        "import functools, sys, builtins, json\n"
        "import pandas as pd\n"
        "pd.DataFrame.mean = lambda self, *a, **k: 999\n"
        "pd.Series.mean = lambda self, *a, **k: 999\n"
        "pd.kafaat_poisoned = True\n"
        "builtins.float = lambda x=0: 999.0\n"
        "sys.modules['statistics'] = None\n"
        "@functools.cache\n"
        "def cached(x):\n"
        "    return x\n"
        "json.kafaat_cache = {i: cached(i) for i in range(1000)}\n"
        "def solve(xs):\n"
        "    return 999\n"
    )
    assert code.grade(spec, {"code": poison}).score == 0
    assert code.grade(spec, {"code": HONEST}).score == 2  # a fresh pandas mean, the real float
    seen = facts(
        "import json, sys, builtins, pandas\n"
        "print(json.dumps({'pandas': hasattr(pandas, 'kafaat_poisoned'), 'cache': hasattr(json, 'kafaat_cache'),\n"
        "    'statistics': sys.modules.get('statistics', 0) is None, 'float': builtins.float is type(1.0),\n"
        "    'mean': float(pandas.Series([1, 3]).mean())}))\n"
    )
    assert seen == {"pandas": False, "cache": False, "statistics": False, "float": True, "mean": 2.0}
    assert zygote_pid() == before  # the same zygote forked all of these runs


def test_files_in_tmp_and_dev_shm_and_sysv_ipc_do_not_survive_into_the_next_run():
    run("import os\nopen('/tmp/left', 'w').write('x')\nopen('/dev/shm/left', 'w').write('x')\n")
    before = zygote_pid()
    key = 0x4B414641
    made = facts(
        "import ctypes, json\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        f"print(json.dumps({{'shmid': libc.shmget({key}, 4096, 0o1666)}}))\n"  # IPC_CREAT | 0666
    )
    assert made["shmid"] >= 0
    seen = facts(
        "import ctypes, json, os\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        f"found = libc.shmget({key}, 0, 0o666)\n"
        "print(json.dumps({'tmp': os.listdir('/tmp'), 'shm': os.listdir('/dev/shm'), 'ipc': found,\n"
        "    'task': sorted(os.listdir('/task')), 'runs': os.listdir('/runs')}))\n"
    )
    assert seen == {"tmp": [], "shm": [], "ipc": -1, "task": ["main.py"], "runs": []}
    assert zygote_pid() == before


@pytest.mark.parametrize("mode", ["require", "0"])
@pytest.mark.parametrize("place", ["/tmp", "/dev/shm"])
def test_tmp_and_dev_shm_are_capped(place, mode, monkeypatch):
    # On the zygote and in a fresh interpreter ("0": the fallback, bwrap's own tmpfs mounts).
    monkeypatch.setenv("KAFAAT_SANDBOX_ZYGOTE", mode)
    # 8 MiB files (one file is also capped, at RLIMIT_FSIZE 16 MiB) until the tmpfs is full.
    result = run_python(
        {
            "main.py": (
                "import errno, json\n"
                "written, error = 0, None\n"
                "try:\n"
                "    for i in range(20):\n"
                f"        with open('{place}/f%d' % i, 'wb') as f:\n"
                "            for _ in range(8):\n"
                "                f.write(b'x' * (1 << 20))\n"
                "                f.flush()\n"
                "                written += 1 << 20\n"
                "except OSError as exc:\n"
                "    error = errno.errorcode.get(exc.errno)\n"
                "print(json.dumps({'written': written, 'error': error}))\n"
            )
        },
        script="main.py",
    )
    assert (result.returncode, result.zygote) == (0, mode == "require"), result.stderr
    seen = json.loads(result.stdout)
    assert seen["error"] == "ENOSPC"
    assert seen["written"] <= runner.TMP_SIZE


def test_the_zombies_of_a_run_that_double_forks_are_reaped_before_the_run_returns():
    run("pass\n")
    zygote = zygote_pid()
    source = (
        "import os, time\n"
        "for _ in range(5):\n"
        "    if os.fork() == 0:\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(0.05)\n"
        "            os._exit(0)\n"
        "        os._exit(0)\n"
        "print('done')\n"
    )
    assert run(source).stdout == "done\n"
    [holder] = runner._ZYGOTES.idle.values()
    tree = descendants(holder.proc.pid)
    # Straight after the run: no zombie anywhere under the zygote's bwrap or of the slot uid, and
    # the zygote has no child left (each run's B was reaped before its exit status was sent).
    assert [p for p in processes() if p.pid in tree and p.state == "Z"] == []
    assert sandbox_zombies() == []
    assert [p for p in processes() if p.ppid == zygote] == []
    assert len(tree) == ZYGOTE_TREE  # bwrap, its pid 1, the launcher and the zygote: nothing of the run


def test_a_run_cannot_see_signal_trace_or_read_the_zygote():
    run("pass\n")
    zygote = zygote_pid()
    seen = facts(
        "import ctypes, errno, json, os, signal\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "out = {'pids': sorted(int(p) for p in os.listdir('/proc') if p.isdigit()), 'me': os.getpid()}\n"
        f"try:\n    os.kill({zygote}, signal.SIGKILL)\n    out['kill_zygote'] = 'sent'\n"
        "except OSError as exc:\n    out['kill_zygote'] = errno.errorcode[exc.errno]\n"
        "try:\n    os.kill(-1, signal.SIGKILL)\n    out['kill_all'] = 'sent'\n"
        "except OSError as exc:\n    out['kill_all'] = errno.errorcode[exc.errno]\n"
        "out['ptrace_init'] = libc.ptrace(16, 1, 0, 0) == 0\n"
        f"out['ptrace_zygote'] = libc.ptrace(16, {zygote}, 0, 0) == 0\n"
        "for name in ('mem', 'environ', 'maps'):\n"
        "    try:\n        open('/proc/1/' + name, 'rb').read(16)\n        out[name] = 'read'\n"
        "    except OSError as exc:\n        out[name] = errno.errorcode[exc.errno]\n"
        "print(json.dumps(out))\n"
    )
    # Its pid namespace holds its PID 1 (B, the run's init) and itself: the zygote has no pid here.
    assert seen["pids"] == [1, seen["me"]]
    assert seen["kill_zygote"] == "ESRCH"
    assert seen["kill_all"] == "ESRCH"  # nothing else to kill in its namespace
    assert seen["ptrace_init"] is False and seen["ptrace_zygote"] is False
    assert {seen["mem"], seen["environ"], seen["maps"]} == {"EACCES"}
    assert zygote_pid() == zygote  # still there, the same one
    assert run("print('next')\n").stdout == "next\n"


def test_the_zygote_never_holds_a_learners_files_so_no_fork_inherits_them():
    # A fork starts with the zygote's memory: read it (as root, from outside) after a run whose
    # submission and inputs carry a marker. The zygote got the run's name and two fds, nothing else.
    marker = secrets.token_hex(16)
    run(f"SECRET = {marker!r}\nprint(SECRET)\n")
    zygote = zygote_pid()
    found, control, scanned = False, False, 0
    with open(f"/proc/{zygote}/maps") as maps, open(f"/proc/{zygote}/mem", "rb", 0) as mem:
        for line in maps:
            span, perms = line.split()[:2]
            if "r" not in perms:
                continue
            start, end = (int(x, 16) for x in span.split("-"))
            try:
                mem.seek(start)
                data = mem.read(end - start)
            except OSError:
                continue
            scanned += len(data)
            found |= marker.encode() in data
            control |= b'"script": "main.py"' in data  # the last request it got: the scan can see
    assert control and scanned > 50 << 20
    assert not found


def test_a_daemon_or_a_fork_bomb_does_not_survive_into_the_next_run(spec):
    daemon = (
        "import os, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        open('/tmp/daemon-alive', 'w').write('x')\n"
        "        while True:\n"
        "            time.sleep(0.05)\n"
        "    os._exit(0)\n"
        "time.sleep(0.2)\n"
        "print('left one')\n"
    )
    assert run(daemon).stdout == "left one\n"
    seen = facts("import json, os\nprint(json.dumps(sorted(int(p) for p in os.listdir('/proc') if p.isdigit())))\n")
    assert len(seen) == 2  # the run's PID 1 and itself: the daemon died with the last namespace
    bomb = (
        "import os\ndef solve(xs):\n    while True:\n        try:\n            os.fork()\n"
        "        except OSError:\n            pass\n"
    )
    assert code.grade(spec, {"code": bomb}).score == 0
    assert code.grade(spec, {"code": HONEST}).score == 2
    uid = slot_uid(0)
    [holder] = runner._ZYGOTES.idle.values()
    assert {p.pid for p in processes() if p.uid == uid and p.state != "Z"} <= descendants(holder.proc.pid)
    assert len(descendants(holder.proc.pid)) == ZYGOTE_TREE


def test_a_run_past_the_wall_clock_gets_the_zygote_replaced():
    run("pass\n")
    first = zygote_pid()
    result = run_python({"main.py": "while True:\n    pass\n"}, script="main.py", wall_seconds=1.5)
    assert result.timed_out and result.zygote
    assert runner._ZYGOTES.idle == {}  # stopped and reaped
    assert sandbox_zombies() == []
    assert run("print('again')\n").stdout == "again\n"
    assert zygote_pid() != first


def test_a_zygote_that_cannot_start_falls_back_to_a_fresh_interpreter_and_says_so(monkeypatch, caplog):
    monkeypatch.setenv("KAFAAT_SANDBOX_ZYGOTE", "1")
    monkeypatch.setattr(runner, "ZYGOTE_START_SECONDS", 0.0)  # it never says it is ready in time
    monkeypatch.setattr(runner._ZYGOTES, "failed", {})
    result = run_python({"main.py": "print('fresh')\n"}, script="main.py")
    assert (result.stdout, result.zygote) == ("fresh\n", False)
    assert "sandbox zygote unavailable" in caplog.text


def test_each_run_draws_its_own_random_numbers():
    draw = "import json, random\nimport numpy as np\nprint(json.dumps([random.random(), float(np.random.random())]))\n"
    first, second = facts(draw), facts(draw)
    assert first[0] != second[0] and first[1] != second[1]


def test_a_zygote_started_by_a_thread_that_ended_still_serves_the_next_run():
    # bwrap's --die-with-parent is tied to the thread that forked it: a zygote forked by a
    # request's thread was killed when that thread ended, under the next run another thread gave it.
    started = threading.Thread(target=run, args=("pass\n",))
    started.start()
    started.join(60)
    first = zygote_pid()
    result = run("print('next')\n")
    assert (result.stdout, result.returncode) == ("next\n", 0)
    assert zygote_pid() == first


def test_stopping_the_zygotes_leaves_no_thread_of_theirs():
    # The worker's main process stops its zygotes after the self-test, and later forks the pool's
    # replacement children: no spawner or reaper thread may be left to be copied into them.
    run("pass\n")
    runner.stop_zygotes()
    names = {t.name for t in threading.enumerate()}
    assert not any(n.startswith(("kafaat-zygote-spawner", "kafaat-zygote-reaper")) for n in names), names


# Ways a run's set-up inside the zygote fails before learner code runs: a tmpfs mount the kernel
# refuses (before stdout and stderr are the run's own), an rlimit above the zygote's hard limit
# (after: raising a hard limit needs CAP_SYS_RESOURCE on the host).
BROKEN_SETUPS = {
    "mount": lambda limits: {**limits, "tmp_size": "nonsense"},
    "rlimit": lambda limits: {**limits, "rlimits": {**limits["rlimits"], "RLIMIT_NOFILE": [4096, 4096]}},
}


@pytest.mark.parametrize("broken", sorted(BROKEN_SETUPS))
def test_a_run_whose_set_up_fails_in_the_zygote_falls_back_to_a_fresh_interpreter(broken, monkeypatch, caplog):
    # It used to come back as a plain exit 1 of the learner's run, with the zygote kept: every run
    # on it failed and none fell back, so correct code could not be graded.
    monkeypatch.setenv("KAFAAT_SANDBOX_ZYGOTE", "1")
    monkeypatch.setattr(runner, "_limits_for_runs", lambda real=runner._limits_for_runs: BROKEN_SETUPS[broken](real()))
    token = secrets.token_hex(8)
    result = run_python({"main.py": f"print({token!r})\nprint('hi')\n"}, script="main.py", started=token)
    assert (result.stdout, result.returncode, result.zygote) == ("hi\n", 0, False), result
    assert "sandbox zygote unavailable" in caplog.text and "could not start" in caplog.text
    assert runner._ZYGOTES.idle == {}  # the broken zygote was not kept
    assert sandbox_zombies() == []


def test_a_run_whose_set_up_fails_in_the_zygote_is_the_sandbox_unavailable_when_it_is_required(monkeypatch):
    monkeypatch.setattr(runner, "_limits_for_runs", lambda real=runner._limits_for_runs: BROKEN_SETUPS["mount"](real()))
    with pytest.raises(runner.SandboxUnavailable) as exc:
        run_python({"main.py": "print('hi')\n"}, script="main.py")
    assert "could not start" in str(exc.value)
    assert runner._ZYGOTES.idle == {}


REAPS_WITHOUT_THE_SLOT = {
    # An idle zygote stopped by a thread that does not hold its slot (give_back's eviction of the
    # oldest idle zygote, stop_all), and the sweep of every slot uid's zombies that ends each run.
    "evicted_zygote_stopped": lambda zygote: zygote.stop(),
    "end_of_run_sweep": lambda zygote: runner._reap_zombies(runner._slot_uids()),
}


@pytest.mark.parametrize("reap", sorted(REAPS_WITHOUT_THE_SLOT))
def test_no_thread_reaps_the_processes_of_a_run_on_a_slot_another_thread_holds(reap):
    # Reaping them stole the holder's exit status: its Popen then saw 0 for a process that exited 1.
    run("pass\n")
    [zygote] = runner._ZYGOTES.idle.values()  # on slot 0, the only slot, which it holds only per run
    if reap == "evicted_zygote_stopped":
        runner._ZYGOTES.idle.clear()  # as give_back takes it out of the pool before stopping it
    held, release, outcome = threading.Event(), threading.Event(), {}

    def holder():
        with runner._SUBREAPER, runner._Slot() as slot:
            argv = ["setpriv", f"--reuid={slot.uid}", f"--regid={slot.uid}", "--clear-groups", "/bin/false"]
            proc = subprocess.Popen(argv, env={})
            deadline = time.monotonic() + 30
            while [p.state for p in processes() if p.pid == proc.pid] != ["Z"] and time.monotonic() < deadline:
                time.sleep(0.01)
            held.set()
            release.wait(30)
            outcome["returncode"] = proc.wait(10)
            slot.mark_clean()

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert held.wait(30)
        with runner._SUBREAPER:
            REAPS_WITHOUT_THE_SLOT[reap](zygote)
    finally:
        release.set()
        thread.join(30)
    assert outcome == {"returncode": 1}
    runner.stop_zygotes()  # the swept one is still idle
    with runner._SUBREAPER:  # the stopped zygote's own leftovers, once nobody holds the slot
        assert runner._reap_run(slot_uid(0), time.monotonic() + 15)
    assert sandbox_zombies() == []


@pytest.mark.parametrize("mode", ["require", "0"])
def test_the_runs_directory_of_a_killed_workers_zygote_is_removed_with_its_hidden_inputs(mode, monkeypatch):
    # A SIGKILLed worker child never stops its zygote: zygote-<uid>-<pid>/run-*/inputs.json stayed
    # in /tmp for good. The next zygote start, or fresh run, removes it once that pid is dead; a
    # live process's is its own.
    monkeypatch.setenv("KAFAAT_SANDBOX_ZYGOTE", mode)
    gone = subprocess.Popen(["/bin/true"])
    gone.wait()
    alive = subprocess.Popen(["/bin/sleep", "60"])
    dirs = {pid: runner.ROOT_DIR / f"zygote-{slot_uid(0)}-{pid}" for pid in (gone.pid, alive.pid)}
    try:
        for d in dirs.values():
            (d / "run-abandoned").mkdir(parents=True)
            (d / "run-abandoned" / "inputs.json").write_text('{"tests": [{"id": "h1", "args": [123456789]}]}')
        # The live pid may have been reused after a killed worker's: its hour-old run goes too.
        (dirs[alive.pid] / "run-an-hour-old").mkdir()
        (dirs[alive.pid] / "run-an-hour-old" / "inputs.json").write_text('{"tests": []}')
        os.utime(dirs[alive.pid] / "run-an-hour-old", (time.time() - 3600, time.time() - 3600))
        result = run_python({"main.py": "print('hi')\n"}, script="main.py")
        assert (result.stdout, result.zygote) == ("hi\n", mode == "require")
        assert not dirs[gone.pid].exists()
        assert (dirs[alive.pid] / "run-abandoned" / "inputs.json").exists()
        assert not (dirs[alive.pid] / "run-an-hour-old").exists()
    finally:
        alive.kill()
        alive.wait()
        for d in dirs.values():
            shutil.rmtree(d, ignore_errors=True)


def test_a_zygote_lost_under_a_run_is_a_sandbox_failure_never_a_memory_limit():
    # The zygote dying before it sent the run's exit status came back as exit -9: a "memory limit"
    # for learner and staff. Now the run goes to a new zygote (or a fresh interpreter), as any
    # other failure of the zygote.
    run("pass\n")
    first = zygote_pid()
    name = f"kfl{os.getpid() % 10**6}"  # the run's name in /proc/<pid>/comm, seen from outside
    killed = threading.Event()

    def kill_the_zygote_once_the_run_runs():
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if any(p.name == name for p in processes()):
                os.kill(first, signal.SIGKILL)
                killed.set()
                return
            time.sleep(0.01)

    killer = threading.Thread(target=kill_the_zygote_once_the_run_runs)
    killer.start()
    result = run(f"import time\nopen('/proc/self/comm', 'w').write({name!r})\ntime.sleep(1)\nprint('done')\n")
    killer.join(30)
    assert killed.is_set()
    assert (result.stdout, result.returncode, result.timed_out) == ("done\n", 0, False), result
    assert zygote_pid() != first
    assert sandbox_zombies() == []


def test_a_run_has_no_capability_seccomp_no_new_privs_only_its_three_fds_and_a_read_only_root():
    # What the zygote's child sets up for each run, seen by the learner's process itself.
    seen = facts(
        "import errno, json, os\n"
        "with open('/proc/self/status') as f:\n"
        "    status = dict(line.split(':', 1) for line in f.read().splitlines() if ':' in line)\n"
        "keys = ('CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb', 'Seccomp', 'NoNewPrivs')\n"
        "out = {k: status[k].strip() for k in keys}\n"
        "def is_open(fd):\n"
        "    try:\n        os.fstat(fd)\n        return True\n"
        "    except OSError:\n        return False\n"
        "out['fds'] = [fd for fd in range(1024) if is_open(fd)]\n"
        "for place in ('/', '/task', '/dev'):\n"
        "    try:\n"
        "        open(os.path.join(place, 'kafaat-probe'), 'w').close()\n"
        "        out[place] = 'written'\n"
        "    except OSError as exc:\n"
        "        out[place] = errno.errorcode[exc.errno]\n"
        "    try:\n"
        "        os.mkdir(os.path.join(place, 'kafaat-probe-dir'))\n"
        "        out[place + ' mkdir'] = 'made'\n"
        "    except OSError as exc:\n"
        "        out[place + ' mkdir'] = errno.errorcode[exc.errno]\n"
        "print(json.dumps(out))\n"
    )
    no_caps = "0000000000000000"
    assert {k: seen[k] for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")} == dict.fromkeys(
        ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"), no_caps
    )
    assert (seen["Seccomp"], seen["NoNewPrivs"]) == ("2", "1")  # a filter, and no privilege to gain
    assert seen["fds"] == [0, 1, 2]
    for place in ("/", "/task", "/dev"):
        assert (seen[place], seen[f"{place} mkdir"]) == ("EROFS", "EROFS"), (place, seen)


class _FdDroppingSocket:
    """The zygote's control socket, but a run request reaches the zygote without its stdout and
    stderr: the zygote answers {"error": ...}, as it does when it cannot fork the run."""

    def __init__(self, sock):
        self.sock = sock

    def sendmsg(self, buffers, _ancdata=(), *rest):
        return self.sock.sendmsg(buffers)

    def __getattr__(self, name):
        return getattr(self.sock, name)


def test_a_zygote_that_refuses_a_run_is_replaced_and_the_run_graded(monkeypatch):
    # A refused run ({"error": ...}: the zygote could not fork it, nothing of the learner's ran)
    # raised SandboxUnavailable: the submission waited for a retry while a new zygote could run it.
    run("pass\n")
    first = zygote_pid()
    [zygote] = runner._ZYGOTES.idle.values()
    monkeypatch.setattr(zygote, "sock", _FdDroppingSocket(zygote.sock))
    result = run("print('graded')\n")
    assert (result.stdout, result.returncode, result.zygote) == ("graded\n", 0, True), result
    assert zygote_pid() != first
    assert not zygote.alive()
    assert sandbox_zombies() == []

"""Run untrusted Python in the bubblewrap sandbox, as shaped in shared/SANDBOX.md.

Layers, outermost first:
- a worker *slot*: an flock on /tmp/kafaat-sandbox/slot-<uid>.lock gives this run its own
  unprivileged uid (KAFAAT_SANDBOX_UID_BASE + K), so RLIMIT_NPROC and the final `kill -1` touch
  only this run;
- `/bin/sh` puts the process in the slot's cgroup v1 (memory + pids) when the host has them;
- `prlimit` sets CPU, address space, nproc, fsize, nofile and core rlimits;
- `setpriv` drops to the slot uid with no groups and no_new_privs;
- `bwrap` unshares every namespace (user namespaces disabled inside), binds /usr, the grader venv
  and the run directory read-only, mounts a 64 MiB /tmp, and loads the seccomp deny-list on fd 3;
- the whole thing is exec'd with env={} (bwrap's --clearenv alone leaves ours in /proc/1/environ).
The runner kills the process group at the wall clock, caps what it reads from stdout and stderr,
kills whatever the slot uid still runs, and reaps the zombies it adopted as a child subreaper.

**The zygote path** (the default, KAFAAT_SANDBOX_ZYGOTE): the same command line starts, once per
slot and process, zygote.py, which imports numpy and pandas and forks each run into its own pid,
mount, IPC, UTS and network namespaces with fresh capped /tmp and /dev/shm, no capability, the
rlimits and the seccomp filter (zygote.py says why a run cannot reach the next one). The slot's
lock is still taken per run; the wall clock and output caps stay here; a run that outlives the
wall clock, floods its output or loses its zygote gets the zygote and the slot uid killed and
reaped before run_python returns (a lost zygote is its failure, not the run's: the run is run
again on a new zygote, or a fresh interpreter). A zygote that cannot start, or that reports that a run's set-up
failed (before any learner code), is stopped and logged, and the run falls back to a fresh
interpreter (`_run`), unless KAFAAT_SANDBOX_ZYGOTE=require.

**Infrastructure or learner?** A caller that runs untrusted code passes `started`, a random token
its script writes as the first line of stdout once it runs inside the sandbox, before it loads
the untrusted code (the harness does). No token first on stdout means the sandbox never reached
that code (bwrap, setpriv or prlimit failed, the slot uid could not fork, the interpreter did not
start in time): SandboxUnavailable, whatever the exit status, so the run is retried, never
scored. Learner code cannot hide the token (it is in the pipe before that code runs) nor fake
a failure before it. Anything after the token (an exit, a kill, a flood, a fork bomb) is the
learner's outcome.

**Zombies.** Every normal run orphans a process: bwrap's outer process exits before it reaps one
of its own bwrap children, which the kernel then hands to the nearest *subreaper* ancestor, or to
init. A zombie whose parent never reaps it still counts against the slot uid's RLIMIT_NPROC (32),
so about 30 of them make every later run fail with `bwrap: Can't fork for pid 1`. Hence:
- the process that runs the sandbox is a subreaper for the duration of its runs, checked and set
  with PR_GET/PR_SET_CHILD_SUBREAPER per process at each run (`_Subreaper`). The state is not
  inherited across fork, so a cache would be wrong: a pool child that billiard forks to replace
  a killed one (after a SIGKILL, an OOM kill, a hard time limit) becomes a subreaper at its own
  first run, like any other process, and reaps its own orphans;
- each run ends by killing the slot uid's processes and reaping, before it returns, every process
  of the run it adopted, until none is left (`_reap_run`). Nothing waits for the next run;
- when the last run in a process ends, the process is put back as it was: the worker's main
  process, which runs the start-up self-test, is not left a subreaper that never reaps, so the
  orphans of a pool child killed mid-run go to init, which reaps them;
- a slot whose holder died mid-run (its lock file does not say `clean`) is cleaned up by the next
  holder before it runs anything;
- no thread reaps on a slot uid another thread of this process holds (`_HELD`): those zombies are
  that thread's run's, and reaping one would steal its exit status (an idle zygote stopped by
  another thread, the end-of-run sweep of every slot uid); that run's holder reaps what is left.

Environment: KAFAAT_SANDBOX_BWRAP (default `bwrap`), KAFAAT_SANDBOX_VENV (default: this venv),
KAFAAT_SANDBOX_SLOTS (default 8), KAFAAT_SANDBOX_UID_BASE (default 64000)."""

import array
import atexit
import ctypes
import fcntl
import functools
import hashlib
import json
import logging
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
ROOT_DIR = Path(tempfile.gettempdir()) / "kafaat-sandbox"
CPU_SECONDS = (5, 6)
ADDRESS_SPACE = 1 << 30
NPROC = 32
FSIZE = 16 << 20
NOFILE = 256
WALL_SECONDS = 10.0
STDOUT_CAP = 1 << 20
STDERR_CAP = 64 << 10
TMP_SIZE = 64 << 20
CGROUP_MEMORY = 1536 << 20
CGROUP_PIDS = 64
PR_SET_CHILD_SUBREAPER = 36
PR_GET_CHILD_SUBREAPER = 37
REAP_SECONDS = 5.0
SANDBOX_TMP = "/tmp"  # noqa: S108 - inside the sandbox: its own private tmpfs
SANDBOX_SHM = "/dev/shm"  # noqa: S108 - inside the sandbox: its own private, capped tmpfs
ZYGOTE_START_SECONDS = 60.0
ZYGOTE_MAX_RUNS = 500
ZYGOTE_RETRY_SECONDS = 30.0
ZYGOTE_IDLE_MAX = 2


class SandboxUnavailable(Exception):
    """The sandbox itself failed (no bwrap, no seccomp, broken venv, no free slot, the slot uid
    cannot fork, the code was never started): an infrastructure error, never the learner's."""


@dataclass
class RunResult:
    stdout: str
    stderr: str
    returncode: int | None
    timed_out: bool
    stdout_truncated: bool
    duration: float
    zygote: bool = False  # run by a fork of the slot's zygote, not a fresh interpreter


def _env(name: str, default: str) -> str:
    return os.environ.get(name) or default


def bwrap_path() -> str:
    return _env("KAFAAT_SANDBOX_BWRAP", "bwrap")


def venv_path() -> Path:
    return Path(_env("KAFAAT_SANDBOX_VENV", sys.prefix))


@functools.cache
def seccomp_program() -> bytes:
    """The BPF deny-list, compiled once per process by Debian's python3-seccomp."""
    try:
        proc = subprocess.run(
            ["/usr/bin/python3", "-I", str(HERE / "seccomp_bpf.py")], capture_output=True, timeout=30, env={}
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SandboxUnavailable(f"cannot build the seccomp filter: {exc}") from exc
    if proc.returncode != 0 or not proc.stdout:
        raise SandboxUnavailable(
            "cannot build the seccomp filter (is python3-seccomp installed?): "
            + proc.stderr.decode(errors="replace")[-500:]
        )
    return proc.stdout


def _prctl(option: int, arg) -> int:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(option, arg, 0, 0, 0) != 0:
        raise SandboxUnavailable(f"prctl({option}) failed: {os.strerror(ctypes.get_errno())}")
    return 0


class _Subreaper:
    """Makes this process a child subreaper while any thread of it runs the sandbox, then puts it
    back as it was. Asked of the kernel per process (PR_GET_CHILD_SUBREAPER), never cached: the
    state is not inherited across fork, and the count is reset in a forked child."""

    def __init__(self):
        self._reset()
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self.lock = threading.Lock()
        self.users = 0
        self.restore = False

    def __enter__(self):
        with self.lock:
            if self.users == 0:
                state = ctypes.c_int(0)
                _prctl(PR_GET_CHILD_SUBREAPER, ctypes.byref(state))
                if not state.value:
                    _prctl(PR_SET_CHILD_SUBREAPER, 1)
                self.restore = not state.value
            self.users += 1
        return self

    def __exit__(self, *exc):
        with self.lock:
            self.users -= 1
            if self.users == 0 and self.restore:
                self.restore = False
                _prctl(PR_SET_CHILD_SUBREAPER, 0)


_SUBREAPER = _Subreaper()


class _HeldSlots:
    """The slot uids this process's threads hold (from just before the slot's flock to its
    release), by thread. A thread reaps only on uids no other thread of ours holds: the zombies on
    a held uid are that run's, and reaping one steals its exit status (its Popen then sees 0).
    What is left there is reaped by that run's holder, whose end of run sweeps its own uid."""

    def __init__(self):
        self._reset()
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self.lock = threading.Lock()
        self.by_uid: dict[int, int] = {}

    def claim(self, uid: int) -> bool:
        """Mark `uid` as this thread's before it takes the slot's lock; False when another thread
        of ours has it (its flock would refuse us anyway)."""
        with self.lock:
            if uid in self.by_uid:
                return False
            self.by_uid[uid] = threading.get_ident()
            return True

    def release(self, uid: int) -> None:
        with self.lock:
            if self.by_uid.get(uid) == threading.get_ident():
                del self.by_uid[uid]

    def by_another(self, uid: int) -> bool:
        with self.lock:
            return self.by_uid.get(uid, threading.get_ident()) != threading.get_ident()

    def reap(self, pid: int, uid: int) -> bool:
        """waitpid(pid, WNOHANG) of a zombie of `uid`, unless another thread holds `uid` (checked
        and reaped under the lock, so no thread can take the slot in between); True when reaped."""
        with self.lock:
            if self.by_uid.get(uid, threading.get_ident()) != threading.get_ident():
                return False
            try:
                return os.waitpid(pid, os.WNOHANG)[0] == pid
            except ChildProcessError:
                return False


_HELD = _HeldSlots()


def _processes_of(uid: int) -> list[tuple[int, int, str]]:
    """(pid, ppid, state) of every process whose real uid is `uid`: a scan of /proc."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit() and (status := _status(int(name))) is not None and status[0] == uid:
            found.append((int(name), status[1], status[2]))
    return found


def _status(pid: int) -> tuple[int, int, str] | None:
    """(real uid, ppid, state) of a process, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            status = f.read()
        fields = dict(line.split(b":", 1) for line in status.splitlines() if b":" in line)
        return int(fields[b"Uid"].split()[0]), int(fields[b"PPid"]), fields[b"State"].split()[0].decode()
    except (OSError, KeyError, ValueError, IndexError):
        return None


def _own_children() -> set[int] | None:
    """This process's children, whichever of its threads is their parent (an orphan is adopted by
    any live thread of its subreaper); None when the kernel does not list children."""
    pids = set()
    try:
        for tid in os.listdir("/proc/self/task"):
            try:
                with open(f"/proc/self/task/{tid}/children") as f:
                    pids.update(int(p) for p in f.read().split())
            except ProcessLookupError:  # a thread that just ended
                continue
    except FileNotFoundError:  # no CONFIG_PROC_CHILDREN
        return None
    return pids


def _reap_run(uid: int, deadline: float) -> bool:
    """After a run's process was reaped and the slot uid killed: reap the run's processes this
    process adopted as a subreaper. Every process of the run descends from the one we started,
    so once that one is gone the rest are our children, or their descendants (a pid namespace's
    processes die with its pid 1): when no child of ours has the slot uid, the run is gone.
    Costs a few small reads, not a scan of /proc. True when nothing of the run is alive. False at
    once when another thread of ours holds the slot (a stopped idle zygote's): what is there now
    is that thread's run, reaped by it."""
    while True:
        if _HELD.by_another(uid):
            return False
        children = _own_children()
        if children is None:
            return _reap_slot(uid, deadline)
        alive = reaped = False
        for pid in children:
            status = _status(pid)
            if status is None or status[0] != uid:
                continue  # gone, or another thread's run (another slot uid), or not a sandbox's
            if status[2] == "Z":
                reaped |= _HELD.reap(pid, uid)
            else:
                alive = True
        if not alive and not reaped:
            return True
        if time.monotonic() > deadline:
            return not alive
        if alive:
            time.sleep(0.002)


def _slot_uids() -> range:
    base = int(_env("KAFAAT_SANDBOX_UID_BASE", "64000"))
    return range(base, base + int(_env("KAFAAT_SANDBOX_SLOTS", "8")))


def _reap_zombies(uids: range) -> None:
    """Reap, without waiting, the children of ours with a slot uid that are zombies: what a
    zygote stopped earlier left after its stop stopped waiting (a fork bomb's namespace can take
    long to die on a loaded machine). The zygote path's end-of-run sweep: a few small reads. The
    uids another thread of ours holds are skipped: their zombies are that thread's run's."""
    for pid in _own_children() or ():
        status = _status(pid)
        if status is not None and status[0] in uids and status[2] == "Z":
            _HELD.reap(pid, status[0])


def _reap_slot(uid: int, deadline: float) -> bool:
    """After the slot uid was killed, whoever started its processes (a holder that died mid-run):
    reap its zombies that are our children, until a scan of /proc finds nothing of that uid alive
    and nothing left to reap. Zombies of other parents are not ours to reap. True when the uid
    has nothing alive any more."""
    me = os.getpid()
    while True:
        alive = reaped = False
        for pid, ppid, state in _processes_of(uid):
            if state == "Z" and ppid == me:
                reaped |= _HELD.reap(pid, uid)
            elif state != "Z":
                alive = True
        if not alive and not reaped:
            return True
        if time.monotonic() > deadline:
            return not alive
        if alive:
            time.sleep(0.002)


class _Slot:
    """An exclusive uid for one run, held through an flock (works across processes). The lock file
    says `clean` once a run's processes are all gone; any other content means its holder died
    mid-run (a SIGKILLed or replaced worker child), so the next holder cleans up first."""

    CLEAN = b"clean"

    def __init__(self, prefer: tuple[int, ...] = ()):
        self.fd = None
        self.index = None
        self.held_uid = None  # base + index when taken (the uid base may change while it is held)
        self.prefer = prefer  # slots to try first (where this process has an idle zygote)

    def __enter__(self):
        slots = int(_env("KAFAAT_SANDBOX_SLOTS", "8"))
        base = int(_env("KAFAAT_SANDBOX_UID_BASE", "64000"))
        ROOT_DIR.mkdir(mode=0o755, exist_ok=True)
        deadline = time.monotonic() + 60
        order = list(dict.fromkeys([*(i for i in self.prefer if i < slots), *range(slots)]))
        while True:
            for i in order:
                if not _HELD.claim(base + i):
                    continue  # another thread of this process holds it
                # Named after the uid: what the lock guards is the uid, whatever the uid base.
                try:
                    fd = os.open(ROOT_DIR / f"slot-{base + i}.lock", os.O_CREAT | os.O_RDWR, 0o600)
                except BaseException:
                    _HELD.release(base + i)
                    raise
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(fd)
                    _HELD.release(base + i)
                    continue
                self.fd, self.index, self.held_uid = fd, i, base + i
                try:
                    if os.pread(fd, 16, 0) != self.CLEAN:
                        self.kill_leftovers()
                        _reap_slot(self.uid, time.monotonic() + REAP_SECONDS)
                    self._mark(b"busy")
                except BaseException:
                    self.__exit__()
                    raise
                return self
            if time.monotonic() > deadline:
                raise SandboxUnavailable("no free sandbox slot after 60 s")
            time.sleep(0.05)

    def _mark(self, state: bytes) -> None:
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, state, 0)

    def mark_clean(self) -> None:
        self._mark(self.CLEAN)

    @property
    def uid(self) -> int:
        return int(_env("KAFAAT_SANDBOX_UID_BASE", "64000")) + self.index

    def kill_leftovers(self) -> None:
        # kill(-1) as the slot uid: every process that uid still has, nothing else.
        try:
            subprocess.run(
                ["setpriv", f"--reuid={self.uid}", f"--regid={self.uid}", "--clear-groups", "/bin/kill", "-KILL", "-1"],
                env={},
                capture_output=True,
                timeout=10,
            )
        except subprocess.TimeoutExpired as exc:
            raise SandboxUnavailable(f"could not kill what the slot uid {self.uid} runs: {exc}") from exc

    def __exit__(self, *exc):
        try:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
        finally:
            _HELD.release(self.held_uid)


def _cgroup_dirs(index: int) -> list[Path]:
    """Per-slot cgroup v1 memory and pids groups, when the host lets us make them (root)."""
    dirs = []
    for controller, files in (
        ("memory", {"memory.limit_in_bytes": CGROUP_MEMORY, "memory.memsw.limit_in_bytes": None}),
        ("pids", {"pids.max": CGROUP_PIDS}),
    ):
        base = Path("/sys/fs/cgroup") / controller
        if not (base / "cgroup.procs").exists():
            continue
        d = base / "kafaat-sandbox" / f"slot-{index}"
        try:
            d.mkdir(parents=True, exist_ok=True)
            for name, value in files.items():
                if value is not None and (d / name).exists():
                    (d / name).write_text(str(value))
            dirs.append(d)
        except OSError:
            continue
    return dirs


def _traversable(path: Path) -> bool:
    """Whether any uid can reach `path`: every ancestor directory is o+x."""
    return all(p.stat().st_mode & 0o001 for p in [path, *path.parents])


def _reachable(src: Path) -> Path:
    """`src` itself when the slot uid can reach it; otherwise a hard-linked mirror of it under
    ROOT_DIR (made once, under a lock). pyenv puts the base interpreter below /root (mode 0700)."""
    if _traversable(src):
        return src
    tag = hashlib.sha256(f"{src}:{src.stat().st_mtime_ns}".encode()).hexdigest()[:12]
    mirror = ROOT_DIR / f"mirror-{src.name}-{tag}"
    done = mirror / ".kafaat-complete"
    if done.exists():
        return mirror
    with open(ROOT_DIR / "mirror.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(mirror, ignore_errors=True)
            if subprocess.run(["cp", "-al", str(src), str(mirror)], capture_output=True).returncode != 0:
                shutil.rmtree(mirror, ignore_errors=True)
                subprocess.run(["cp", "-a", str(src), str(mirror)], check=True, capture_output=True)
            mirror.chmod(0o755)
            done.touch()
    return mirror


def _interpreter_binds(venv: Path) -> list[str]:
    """The venv at /opt/venv, and the base interpreter its python links to, at its own path."""
    args = ["--ro-bind", str(_reachable(venv)), "/opt/venv"]
    base = (venv / "bin" / "python").resolve().parent.parent
    if not str(base).startswith("/usr/"):
        args += ["--ro-bind", str(_reachable(base)), str(base)]
    return args


def build_command(
    *, uid: int, run_dir: Path, venv: Path, seccomp_fd: int, argv: list[str], zygote: bool = False
) -> list[str]:
    """The sandbox's command line. `zygote`: the same, for the per-slot zygote (zygote.py): no
    seccomp and CAP_SYS_ADMIN + CAP_SETPCAP kept inside the sandbox's user namespace, so that it
    can unshare and mount for each run (each run drops them all and loads the seccomp filter
    itself); no CPU rlimit on it (each run sets its own); `run_dir` is the slot's runs directory,
    bound read-only at /runs, and /task a mount point for each run's own directory."""
    limits = [
        "prlimit",
        "--cpu=unlimited" if zygote else f"--cpu={CPU_SECONDS[0]}:{CPU_SECONDS[1]}",
        f"--as={ADDRESS_SPACE}",
        f"--nproc={NPROC}",
        f"--fsize={FSIZE}",
        f"--nofile={NOFILE}",
        "--core=0",
    ]
    priv = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--no-new-privs", "--"]
    bwrap = [
        bwrap_path(), "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent",
        "--new-session", "--cap-drop", "ALL", "--hostname", "sandbox", "--clearenv",
        "--setenv", "PATH", "/opt/venv/bin:/usr/bin:/bin", "--setenv", "HOME", SANDBOX_TMP,
        "--setenv", "LANG", "C.UTF-8", "--setenv", "OPENBLAS_NUM_THREADS", "1",
        "--setenv", "OMP_NUM_THREADS", "1", "--setenv", "MPLBACKEND", "Agg",
        "--ro-bind", "/usr", "/usr", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
        "--symlink", "usr/bin", "/bin", "--symlink", "usr/sbin", "/sbin",
        *_interpreter_binds(venv),
        *(["--ro-bind", str(run_dir), "/runs", "--dir", "/task", "--ro-bind", str(HERE / "zygote.py"), "/zygote.py"]
          if zygote else ["--ro-bind", str(run_dir), "/task"]),
        "--proc", "/proc", "--dev", "/dev", "--size", str(TMP_SIZE), "--tmpfs", SANDBOX_SHM,
        "--size", str(TMP_SIZE), "--tmpfs", SANDBOX_TMP, "--chdir", SANDBOX_TMP,
        *(["--cap-add", "CAP_SYS_ADMIN", "--cap-add", "CAP_SETPCAP"] if zygote else ["--seccomp", str(seccomp_fd)]),
        "--",
    ]  # fmt: skip
    return [*limits, "--", *priv, *bwrap, *argv]


def _result(out: bytes, err: bytes, returncode, timed_out, truncated, started, *, zygote=False) -> RunResult:
    """A run's result from what _read_fds read (either path)."""
    return RunResult(
        stdout=out.decode("utf-8", errors="replace"),
        # Staff read it from the database: PostgreSQL text cannot hold NUL.
        stderr=err.decode("utf-8", errors="replace").replace("\x00", "\ufffd"),
        returncode=returncode,
        timed_out=timed_out,
        stdout_truncated=truncated,
        duration=time.monotonic() - started,
        zygote=zygote,
    )


def _read_fds(out_fd: int, err_fd: int, deadline: float) -> tuple[bytes, bytes, bool, bool]:
    """Read stdout and stderr until both close or the deadline passes; keep at most the caps."""
    bufs = {out_fd: bytearray(), err_fd: bytearray()}
    caps = {out_fd: STDOUT_CAP, err_fd: STDERR_CAP}
    truncated = False
    open_fds = set(bufs)
    while open_fds:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return bytes(bufs[out_fd]), bytes(bufs[err_fd]), True, truncated
        ready, _, _ = select.select(list(open_fds), [], [], remaining)
        for fd in ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                open_fds.discard(fd)
                continue
            room = caps[fd] - len(bufs[fd])
            if room > 0:
                bufs[fd] += chunk[:room]
            if len(chunk) > room and fd == out_fd:
                truncated = True
            if fd == out_fd and truncated:
                # An output flood: no point waiting for the wall clock.
                return bytes(bufs[out_fd]), bytes(bufs[err_fd]), False, truncated
    return bytes(bufs[out_fd]), bytes(bufs[err_fd]), False, truncated


def _remove_abandoned_run_dirs(max_age: float = 600) -> None:
    """A worker killed mid-run leaves its run directory behind, hidden inputs included: remove
    the fresh path's older than max_age, and every zygote's runs directory
    (`zygote-<uid>-<pid>`, its run-* inside) whose process is dead (a SIGKILLed worker child
    never reaches its zygote's stop). A live pid may be another process that reused a killed
    worker's: its run-* older than max_age go too (a run lasts seconds)."""
    now = time.time()

    def remove_old(pattern: str, where: Path = ROOT_DIR) -> None:
        for old in where.glob(pattern):
            try:
                if now - old.stat().st_mtime > max_age:
                    shutil.rmtree(old, ignore_errors=True)
            except OSError:
                continue

    remove_old("run-*")
    for runs in ROOT_DIR.glob("zygote-*-*"):
        owner = runs.name.rsplit("-", 1)[1]
        if owner.isdigit() and not _pid_alive(int(owner)):
            shutil.rmtree(runs, ignore_errors=True)
        else:
            remove_old("run-*", runs)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class _ZygoteFailed(Exception):
    """The zygote could not start (or answer): the run falls back to a fresh interpreter, logged."""


def _limits_for_runs() -> dict:
    """What each run's B sets on itself (zygote.py): the same rlimits as prlimit sets today."""
    return {
        "rlimits": {
            "RLIMIT_CPU": list(CPU_SECONDS),
            "RLIMIT_AS": [ADDRESS_SPACE, ADDRESS_SPACE],
            "RLIMIT_NPROC": [NPROC, NPROC],
            "RLIMIT_FSIZE": [FSIZE, FSIZE],
            "RLIMIT_NOFILE": [NOFILE, NOFILE],
            "RLIMIT_CORE": [0, 0],
        },
        "tmp_size": TMP_SIZE,
    }


def _zygote_key(venv: Path) -> tuple:
    """What a zygote was started with: a run under another configuration gets another zygote."""
    return (bwrap_path(), str(venv), _env("KAFAAT_SANDBOX_UID_BASE", "64000"), _env("KAFAAT_SANDBOX_SLOTS", "8"))


class _Zygote:
    """One slot's zygote (zygote.py) in this process: started under the slot's bwrap command line,
    it runs as the slot uid and lives across runs. The slot's lock is held per run, as for a fresh
    interpreter, never while the zygote idles: another process may then run on that uid with its
    own zygote (the lock keeps the runs of one uid apart), and may kill this idle one (`kill -1` of
    a slot whose holder died mid-run), which `alive` sees and the next run replaces."""

    def __init__(self, slot: "_Slot", key: tuple, venv: Path, program: bytes):
        self.index, self.uid, self.key = slot.index, slot.uid, key
        self.runs, self.broken = 0, False
        self.sock = self.proc = self.reaper = None
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - the zygote's own stderr, read on failure
        # Per process and slot: the runs of this zygote only (another process's zygote on the
        # same uid has its own).
        self.runs_dir = ROOT_DIR / f"zygote-{slot.uid}-{os.getpid()}"
        try:
            self._start(slot, venv, program)
        except BaseException:
            self.stop()
            raise

    def _start(self, slot: "_Slot", venv: Path, program: bytes) -> None:
        _remove_abandoned_run_dirs()  # a zygote start is rare: the place to sweep a killed worker's
        shutil.rmtree(self.runs_dir, ignore_errors=True)
        self.runs_dir.mkdir(mode=0o755)
        self.runs_dir.chmod(0o755)
        cgroups = _cgroup_dirs(slot.index)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock = ours
        seccomp_fd = os.memfd_create("kafaat-seccomp", 0)
        try:
            os.write(seccomp_fd, program)
            os.lseek(seccomp_fd, 0, os.SEEK_SET)
            argv = ["/opt/venv/bin/python", "-I", "-B", "/zygote.py", str(seccomp_fd), str(theirs.fileno())]
            argv.append(json.dumps(_limits_for_runs()))
            cmd = build_command(uid=slot.uid, run_dir=self.runs_dir, venv=venv, seccomp_fd=-1, argv=argv, zygote=True)
            if cgroups:
                join = " ".join(f'echo $$ > "{d}/cgroup.procs" &&' for d in cgroups)
                cmd = ["/bin/sh", "-c", f'{join} exec "$@"', "sandbox", *cmd]
            # Forked by the pool's spawner thread, which lives as long as this process: bwrap's
            # --die-with-parent is a parent-death signal tied to the *thread* that forked it, so a
            # zygote forked by a request's or a test's short-lived thread would be killed when that
            # thread ends, under whatever run another thread then gives it.
            self.proc = _ZYGOTES.spawn(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=self.log,
                stderr=self.log,
                env={},
                pass_fds=(seccomp_fd, theirs.fileno()),
                start_new_session=True,
                cwd="/",
            )
        finally:
            os.close(seccomp_fd)
            theirs.close()
        # Reaps the zygote's bwrap the moment it dies, whoever killed it: an idle zygote is killed
        # by another process's `kill -1` of the slot uid (a slot whose holder died mid-run, a run
        # that outlived its wall clock), and must not stay a zombie until this process's next run.
        self.reaper = threading.Thread(target=self._reap_when_dead, name="kafaat-zygote-reaper", daemon=True)
        self.reaper.start()
        if self._recv(time.monotonic() + ZYGOTE_START_SECONDS) != {"ready": True}:
            raise _ZygoteFailed(f"the zygote did not start: {self._log_tail() or 'no output'}")

    def _reap_when_dead(self) -> None:
        try:
            self.proc.wait()
        except (OSError, subprocess.SubprocessError):
            pass

    def _log_tail(self) -> str:
        try:
            self.log.seek(0)
            return self.log.read()[-1000:].decode(errors="replace").strip()
        except (OSError, ValueError):
            return ""

    def _recv(self, deadline: float) -> dict | None:
        """The zygote's next message; None when it is gone or silent past the deadline."""
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([self.sock], [], [], remaining)[0]:
            return None
        try:
            data = self.sock.recv(4096)
            message = json.loads(data) if data else None
        except (OSError, ValueError):
            return None
        return message if type(message) is dict else None

    def alive(self) -> bool:
        return not self.broken and self.proc is not None and self.proc.poll() is None

    def run(self, files: dict[str, str], *, script: str, wall_seconds: float) -> RunResult:
        """One run, while the caller holds the slot. Raises _ZygoteFailed when the zygote did not
        take the run or could not set it up (nothing of the learner's code ran), or was lost
        before it gave the run's exit status (what ran is void): the caller may start another
        zygote and run it again."""
        run_dir = Path(tempfile.mkdtemp(prefix="run-", dir=self.runs_dir))
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        try:
            run_dir.chmod(0o755)
            for name, content in files.items():
                path = run_dir / name
                path.write_text(content, encoding="utf-8")
                path.chmod(0o644)
            started = time.monotonic()
            deadline = started + wall_seconds
            request = json.dumps({"run": run_dir.name, "script": script}).encode()
            try:
                self.sock.sendmsg([request], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [out_w, err_w]))])
            except OSError as exc:
                self.broken = True
                raise _ZygoteFailed(f"the zygote is gone: {exc}") from exc
            finally:
                os.close(out_w)
                os.close(err_w)
            reply = self._recv(deadline)
            if reply is None or "pid" not in reply:
                self.broken = True
                # Refused ({"error": ...}, e.g. it could not fork) or gone: nothing of the
                # learner's ran, so another zygote (or a fresh interpreter) takes the run.
                why = reply["error"] if reply is not None and "error" in reply else self._log_tail() or "no answer"
                raise _ZygoteFailed(f"the zygote did not take the run: {why}")
            out, err, timed_out, truncated = _read_fds(out_r, err_r, deadline)
            returncode = None
            if not timed_out and not truncated:
                reply = self._recv(deadline)
                if reply is not None and type(reply.get("exit")) is int:
                    returncode = reply["exit"]
                elif reply is not None and "failed" in reply:
                    # Set-up in the zygote's child failed before any learner code: this zygote
                    # cannot run code, so it goes and the run is tried elsewhere.
                    self.broken = True
                    raise _ZygoteFailed(f"in the zygote, {str(reply['failed'])[-1000:]}")
                else:
                    timed_out = time.monotonic() >= deadline
                    if not timed_out:
                        # The zygote died (or garbled its answer) under the run: not the learner's
                        # outcome, and never a kill that reads as a memory limit.
                        self.broken = True
                        why = self._log_tail() or "no exit status"
                        raise _ZygoteFailed(f"the zygote was lost during the run: {why}")
            if returncode is None:
                # Past the wall clock or an output flood: the whole zygote goes (the caller kills
                # the slot uid and reaps) and the next run gets another.
                self.broken = True
                returncode = -signal.SIGKILL
            self.runs += 1
            return _result(out, err, returncode, timed_out, truncated, started, zygote=True)
        finally:
            os.close(out_r)
            os.close(err_r)
            shutil.rmtree(run_dir, ignore_errors=True)

    def stop(self, slot: "_Slot | None" = None) -> bool:
        """Kill the zygote's process group (bwrap's --die-with-parent takes its pid namespace, every
        run in it included) and reap what it leaves, while this process is a subreaper
        (`_SUBREAPER`). With `slot` (held by the caller: a run that went wrong) every process of
        the slot uid is killed too. True when nothing of it is left alive."""
        self.broken = True
        gone = True
        try:
            if self.proc is not None:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            if slot is not None:
                slot.kill_leftovers()
            if self.proc is not None:
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    gone = False
                if self.reaper is not None:
                    self.reaper.join(1)  # it has reaped: let it end, so a fork after us has no thread of it
            # Longer than a fresh run's: a fork bomb's pid namespace dies slowly on a loaded host.
            gone = _reap_run(self.uid, time.monotonic() + 3 * REAP_SECONDS) and gone
        finally:
            if self.sock is not None:
                self.sock.close()
            self.log.close()
            shutil.rmtree(self.runs_dir, ignore_errors=True)
        return gone

    def forget(self) -> None:
        """In a forked child of this process: drop our copies of its fds, never touch the zygote
        (the parent's: it dies with the parent, --die-with-parent)."""
        for f in (self.sock, self.log):
            try:
                if f is not None:
                    f.close()
            except OSError:
                pass


class _ZygotePool:
    """This process's idle zygotes, by slot index. A forked child (a billiard pool child) starts
    with none: the parent's zygotes, and their --die-with-parent, belong to the parent."""

    def __init__(self):
        self._reset()
        os.register_at_fork(after_in_child=self._after_fork)

    def _reset(self) -> None:
        self.lock = threading.Lock()
        self.idle: dict[int, _Zygote] = {}
        self.failed: dict[tuple, tuple[float, str]] = {}  # key: (when a zygote last failed to start, why)
        self.forgotten: list = []
        self.spawner: ThreadPoolExecutor | None = None

    def _after_fork(self) -> None:
        for zygote in self.idle.values():
            zygote.forget()
        # Kept referenced: their Popen is not ours; the spawner's thread is not in this process.
        forgotten = [*self.forgotten, *self.idle.values(), self.spawner]
        self._reset()
        self.forgotten = forgotten

    def spawn(self, cmd: list[str], **kwargs) -> subprocess.Popen:
        """subprocess.Popen, called on this process's one spawner thread (started on first use, idle
        between starts), so that what it forks dies with this process, not with the calling thread."""
        with self.lock:
            if self.spawner is None:
                self.spawner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kafaat-zygote-spawner")
            spawner = self.spawner
        return spawner.submit(subprocess.Popen, cmd, **kwargs).result()

    def preferred(self, key: tuple) -> tuple[int, ...]:
        with self.lock:
            return tuple(i for i, z in self.idle.items() if z.key == key)

    def take(self, slot: _Slot, key: tuple) -> "_Zygote | None":
        """The idle zygote this process has on `slot` (held by the caller), if any."""
        with self.lock:
            zygote = self.idle.pop(slot.index, None)
        if zygote is not None and (zygote.key != key or not zygote.alive()):
            zygote.stop()
            zygote = None
        return zygote

    def start(self, slot: _Slot, key: tuple, venv: Path, program: bytes) -> _Zygote:
        with self.lock:
            failed_at = self.failed.get(key)
        if failed_at is not None and time.monotonic() - failed_at[0] < ZYGOTE_RETRY_SECONDS:
            raise _ZygoteFailed(
                f"the zygote failed to start {time.monotonic() - failed_at[0]:.0f} s ago ({failed_at[1]}); "
                f"no new one is tried for {ZYGOTE_RETRY_SECONDS:.0f} s"
            )
        try:
            zygote = _Zygote(slot, key, venv, program)
        except _ZygoteFailed as exc:
            self.failed_start(key, str(exc))
            raise
        with self.lock:
            self.failed.pop(key, None)
        return zygote

    def failed_start(self, key: tuple, why: str) -> None:
        """No zygote of `key` is tried again for ZYGOTE_RETRY_SECONDS (unless acquitted)."""
        with self.lock:
            self.failed[key] = (time.monotonic(), why)

    def acquit(self, key: tuple) -> None:
        """A fresh interpreter failed on the same slot right after the zygote did: the sandbox
        (a slot uid out of processes, a missing binary) was the fault, not the zygote, so the next
        run tries a zygote again instead of waiting out ZYGOTE_RETRY_SECONDS."""
        with self.lock:
            self.failed.pop(key, None)

    def give_back(self, zygote: _Zygote) -> None:
        """Keep a healthy zygote for the next run (at most ZYGOTE_IDLE_MAX; the slot's other idle
        zygote, of another configuration, is stopped)."""
        extra = []
        with self.lock:
            if zygote.alive() and zygote.runs < ZYGOTE_MAX_RUNS:
                old = self.idle.pop(zygote.index, None)
                if old is not None:
                    extra.append(old)
                self.idle[zygote.index] = zygote
                while len(self.idle) > ZYGOTE_IDLE_MAX:
                    extra.append(self.idle.pop(next(iter(self.idle))))
            else:
                extra.append(zygote)
        for z in extra:
            z.stop()

    def stop_all(self) -> None:
        """Stop the idle zygotes and the spawner thread: the worker's main process calls this after
        its self-test (at worker_ready), and later forks the pool's replacement children: no thread of
        ours should be copied into them."""
        with self.lock:
            idle, self.idle = list(self.idle.values()), {}
            spawner, self.spawner = self.spawner, None
        for zygote in idle:
            zygote.stop()
        if spawner is not None:
            spawner.shutdown(wait=True)


_ZYGOTES = _ZygotePool()


def stop_zygotes() -> None:
    """Stop this process's idle zygotes (the worker's main process after its start-up self-test:
    it grades nothing; a pool child that shuts down)."""
    with _SUBREAPER:
        _ZYGOTES.stop_all()


atexit.register(stop_zygotes)  # a normal exit reaps its zygotes; after os._exit they die with us


def _zygote_mode() -> str:
    """KAFAAT_SANDBOX_ZYGOTE: "1" (default) runs in the slot's zygote and falls back, logged, to a
    fresh interpreter when the zygote cannot start; "require" raises SandboxUnavailable instead;
    "0" always starts a fresh interpreter (the path before the zygote)."""
    return _env("KAFAAT_SANDBOX_ZYGOTE", "1")


def _run_in_zygote(files, *, script, wall_seconds, venv, program) -> RunResult | None:
    """The run in a fork of this process's zygote on the slot it locks for the run, or None
    (logged) when no zygote could take it. A zygote that did not take the run (gone since its last
    run) is replaced once. Called under _SUBREAPER."""
    key = _zygote_key(venv)
    error = None
    with _Slot(prefer=_ZYGOTES.preferred(key)) as slot:
        for _attempt in range(2):
            zygote = _ZYGOTES.take(slot, key)
            new = zygote is None
            try:
                if new:
                    zygote = _ZYGOTES.start(slot, key, venv, program)
                result = zygote.run(files, script=script, wall_seconds=wall_seconds)
            except _ZygoteFailed as exc:
                error = exc
                if zygote is not None:
                    zygote.stop(slot)
                    if new:  # started, but cannot run code: held off like one that cannot start
                        _ZYGOTES.failed_start(key, str(exc))
                zygote = None
                if new:
                    break  # a zygote that could not start is not started again for this run
                continue
            except BaseException:
                if zygote is not None:
                    zygote.stop(slot)
                raise
            if zygote.broken:
                # A run that outlived its wall clock, flooded its output or lost its zygote:
                # everything of the slot uid goes now, not at the next run.
                if zygote.stop(slot):
                    slot.mark_clean()
            else:
                slot.mark_clean()
                _ZYGOTES.give_back(zygote)
            _reap_zombies(_slot_uids())
            return result
    if _zygote_mode() == "require":
        raise SandboxUnavailable(f"the sandbox zygote is unavailable: {error}")
    log.warning("sandbox zygote unavailable, running in a fresh interpreter (slower): %s", error)
    return None


def run_python(
    files: dict[str, str], *, script: str, wall_seconds: float = WALL_SECONDS, started: str | None = None
) -> RunResult:
    """Write `files` into a fresh read-only run directory (/task inside) and run
    `/opt/venv/bin/python -I -B /task/<script>` in the sandbox. Raises SandboxUnavailable when the
    sandbox itself fails; anything the code inside does is only reflected in the result.

    `started`: a token the script writes as its first stdout line before it runs untrusted code
    (see the module docstring). When given, a run whose stdout does not begin with it raises
    SandboxUnavailable, and the token is not part of the result's stdout."""
    if shutil.which(bwrap_path()) is None:
        raise SandboxUnavailable(f"bubblewrap not found ({bwrap_path()!r}): install the Debian package bubblewrap")
    venv = venv_path()
    if not (venv / "bin" / "python").exists():
        raise SandboxUnavailable(f"grader venv not found at {venv}")
    program = seccomp_program()
    try:
        with _SUBREAPER:
            result, fell_back = None, False
            if _zygote_mode() != "0":
                result = _run_in_zygote(files, script=script, wall_seconds=wall_seconds, venv=venv, program=program)
                fell_back = result is None
            if result is None:
                try:
                    result = _run(files, script=script, wall_seconds=wall_seconds, venv=venv, program=program)
                except OSError:
                    if fell_back:
                        _ZYGOTES.acquit(_zygote_key(venv))
                    raise
    except OSError as exc:  # the worker's own side: cannot fork, write the run directory, lock a slot
        raise SandboxUnavailable(f"the sandbox could not run: {exc}") from exc
    if started is not None:
        line = f"{started}\n"
        if not result.stdout.startswith(line):
            if fell_back:
                _ZYGOTES.acquit(_zygote_key(venv))
            status = "time limit" if result.timed_out else f"exit status {result.returncode}"
            raise SandboxUnavailable(
                f"the sandbox did not reach the code ({status}): {result.stderr[-1000:].strip() or 'no output'}"
            )
        result.stdout = result.stdout[len(line) :]
    return result


def _run(files: dict[str, str], *, script: str, wall_seconds: float, venv: Path, program: bytes) -> RunResult:
    ROOT_DIR.mkdir(mode=0o755, exist_ok=True)
    _remove_abandoned_run_dirs()
    run_dir = Path(tempfile.mkdtemp(prefix="run-", dir=ROOT_DIR))
    try:
        run_dir.chmod(0o755)
        for name, content in files.items():
            path = run_dir / name
            path.write_text(content, encoding="utf-8")
            path.chmod(0o644)
        with _Slot() as slot:
            cgroups = _cgroup_dirs(slot.index)
            seccomp_fd = os.memfd_create("kafaat-seccomp", 0)
            try:
                os.write(seccomp_fd, program)
                os.lseek(seccomp_fd, 0, os.SEEK_SET)
                cmd = build_command(
                    uid=slot.uid,
                    run_dir=run_dir,
                    venv=venv,
                    seccomp_fd=seccomp_fd,
                    argv=["/opt/venv/bin/python", "-I", "-B", f"/task/{script}"],
                )
                if cgroups:
                    join = " ".join(f'echo $$ > "{d}/cgroup.procs" &&' for d in cgroups)
                    cmd = ["/bin/sh", "-c", f'{join} exec "$@"', "sandbox", *cmd]
                started = time.monotonic()
                proc = subprocess.Popen(
                    cmd,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    env={},
                    pass_fds=(seccomp_fd,),
                    start_new_session=True,
                    cwd="/",
                )
            finally:
                os.close(seccomp_fd)
            try:
                deadline = started + wall_seconds
                out, err, timed_out, truncated = _read_fds(proc.stdout.fileno(), proc.stderr.fileno(), deadline)
            finally:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                slot.kill_leftovers()
                try:
                    returncode = proc.wait(10)
                except subprocess.TimeoutExpired:
                    returncode = None
                proc.stdout.close()
                proc.stderr.close()
                # Reap what this run orphaned now, not at the next run; a slot left with live
                # processes stays marked busy, so its next holder kills them first.
                if _reap_run(slot.uid, time.monotonic() + REAP_SECONDS) and returncode is not None:
                    slot.mark_clean()
            if (
                not timed_out
                and returncode is not None
                and returncode < 0
                and time.monotonic() - started >= wall_seconds
            ):
                timed_out = True
            return _result(out, err, returncode, timed_out, truncated, started)
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)

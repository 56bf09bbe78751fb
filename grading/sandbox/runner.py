"""Run untrusted Python in the bubblewrap sandbox, as shaped in shared/SANDBOX.md.

Layers, outermost first:
- a worker *slot*: an flock on /tmp/kafaat-sandbox/slot-K.lock gives this run its own unprivileged
  uid (64000 + K), so RLIMIT_NPROC and the final `kill -1` touch only this run;
- `/bin/sh` puts the process in the slot's cgroup v1 (memory + pids) when the host has them;
- `prlimit` sets CPU, address space, nproc, fsize, nofile and core rlimits;
- `setpriv` drops to the slot uid with no groups and no_new_privs;
- `bwrap` unshares every namespace (user namespaces disabled inside), binds /usr, the grader venv
  and the run directory read-only, mounts a 64 MiB /tmp, and loads the seccomp deny-list on fd 3;
- the whole thing is exec'd with env={} (bwrap's --clearenv alone leaves ours in /proc/1/environ).
The runner kills the process group at the wall clock, caps what it reads from stdout and stderr,
kills whatever the slot uid still runs, and reaps the zombies it adopted as a child subreaper.

Environment: KAFAAT_SANDBOX_BWRAP (default `bwrap`), KAFAAT_SANDBOX_VENV (default: this venv),
KAFAAT_SANDBOX_SLOTS (default 8), KAFAAT_SANDBOX_UID_BASE (default 64000)."""

import ctypes
import fcntl
import functools
import hashlib
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

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
SANDBOX_TMP = "/tmp"  # noqa: S108 - inside the sandbox: its own private tmpfs


class SandboxUnavailable(Exception):
    """The sandbox cannot run here (no bwrap, no seccomp, broken venv): fail closed."""


@dataclass
class RunResult:
    stdout: str
    stderr: str
    returncode: int | None
    timed_out: bool
    stdout_truncated: bool
    duration: float


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


@functools.cache
def _become_subreaper() -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _reap_adopted(uids: set[int]) -> None:
    """Reap zombies we adopted (a sandbox's inner processes whose parent died first)."""
    me = str(os.getpid())
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() != me or not fields.get("State", "").strip().startswith("Z"):
            continue
        uid = int(fields.get("Uid", "0").split()[0])
        if uid in uids or fields.get("Name", "").strip() in {"bwrap", "setpriv", "prlimit", "sh"}:
            try:
                os.waitpid(int(entry.name), os.WNOHANG)
            except ChildProcessError:
                pass


class _Slot:
    """An exclusive uid for one run, held through an flock (works across processes)."""

    def __init__(self):
        self.fd = None
        self.index = None

    def __enter__(self):
        slots = int(_env("KAFAAT_SANDBOX_SLOTS", "8"))
        ROOT_DIR.mkdir(mode=0o755, exist_ok=True)
        deadline = time.monotonic() + 60
        while True:
            for i in range(slots):
                fd = os.open(ROOT_DIR / f"slot-{i}.lock", os.O_CREAT | os.O_RDWR, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(fd)
                    continue
                self.fd, self.index = fd, i
                return self
            if time.monotonic() > deadline:
                raise SandboxUnavailable("no free sandbox slot after 60 s")
            time.sleep(0.05)

    @property
    def uid(self) -> int:
        return int(_env("KAFAAT_SANDBOX_UID_BASE", "64000")) + self.index

    def kill_leftovers(self) -> None:
        # kill(-1) as the slot uid: every process that uid still has, nothing else.
        subprocess.run(
            ["setpriv", f"--reuid={self.uid}", f"--regid={self.uid}", "--clear-groups", "/bin/kill", "-KILL", "-1"],
            env={},
            capture_output=True,
            timeout=10,
        )

    def __exit__(self, *exc):
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


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


def build_command(*, uid: int, run_dir: Path, venv: Path, seccomp_fd: int, argv: list[str]) -> list[str]:
    limits = [
        "prlimit",
        f"--cpu={CPU_SECONDS[0]}:{CPU_SECONDS[1]}",
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
        *_interpreter_binds(venv), "--ro-bind", str(run_dir), "/task",
        "--proc", "/proc", "--dev", "/dev", "--size", str(TMP_SIZE), "--tmpfs", SANDBOX_TMP, "--chdir", SANDBOX_TMP,
        "--seccomp", str(seccomp_fd), "--",
    ]  # fmt: skip
    return [*limits, "--", *priv, *bwrap, *argv]


def _read_capped(proc: subprocess.Popen, deadline: float) -> tuple[bytes, bytes, bool, bool]:
    """Read stdout and stderr until both close or the deadline passes; keep at most the caps."""
    bufs = {proc.stdout.fileno(): bytearray(), proc.stderr.fileno(): bytearray()}
    caps = {proc.stdout.fileno(): STDOUT_CAP, proc.stderr.fileno(): STDERR_CAP}
    truncated = False
    open_fds = set(bufs)
    while open_fds:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return bytes(bufs[proc.stdout.fileno()]), bytes(bufs[proc.stderr.fileno()]), True, truncated
        ready, _, _ = select.select(list(open_fds), [], [], remaining)
        for fd in ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                open_fds.discard(fd)
                continue
            room = caps[fd] - len(bufs[fd])
            if room > 0:
                bufs[fd] += chunk[:room]
            if len(chunk) > room and fd == proc.stdout.fileno():
                truncated = True
            if fd == proc.stdout.fileno() and truncated:
                # An output flood: no point waiting for the wall clock.
                return bytes(bufs[proc.stdout.fileno()]), bytes(bufs[proc.stderr.fileno()]), False, truncated
    return bytes(bufs[proc.stdout.fileno()]), bytes(bufs[proc.stderr.fileno()]), False, truncated


def _remove_abandoned_run_dirs(max_age: float = 600) -> None:
    """A worker killed mid-run leaves its run directory behind: remove those older than max_age."""
    now = time.time()
    for old in ROOT_DIR.glob("run-*"):
        try:
            if now - old.stat().st_mtime > max_age:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            continue


def run_python(files: dict[str, str], *, script: str, wall_seconds: float = WALL_SECONDS) -> RunResult:
    """Write `files` into a fresh read-only run directory (/task inside) and run
    `/opt/venv/bin/python -I -B /task/<script>` in the sandbox. Raises SandboxUnavailable when the
    sandbox itself cannot start; anything the code inside does is only reflected in the result."""
    if shutil.which(bwrap_path()) is None:
        raise SandboxUnavailable(f"bubblewrap not found ({bwrap_path()!r}): install the Debian package bubblewrap")
    venv = venv_path()
    if not (venv / "bin" / "python").exists():
        raise SandboxUnavailable(f"grader venv not found at {venv}")
    program = seccomp_program()
    _become_subreaper()
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
                out, err, timed_out, truncated = _read_capped(proc, started + wall_seconds)
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
                _reap_adopted({slot.uid})
            if (
                not timed_out
                and returncode is not None
                and returncode < 0
                and time.monotonic() - started >= wall_seconds
            ):
                timed_out = True
            return RunResult(
                stdout=out.decode("utf-8", errors="replace"),
                stderr=err.decode("utf-8", errors="replace"),
                returncode=returncode,
                timed_out=timed_out,
                stdout_truncated=truncated,
                duration=time.monotonic() - started,
            )
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)

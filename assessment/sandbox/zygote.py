"""The per-slot zygote: runs INSIDE the sandbox (bwrap, as the slot uid), imports numpy and pandas
once, then forks a fresh child for each run. Started and spoken to by runner.py (`_Zygote`).

Standalone: the standard library, numpy and pandas only; it never imports Kafaat. It runs only this
trusted file: learner code runs in the grandchildren it forks, never in the zygote itself.

The zygote is started by the same prlimit + setpriv + bwrap command line as a fresh run (every
namespace unshared, user namespaces disabled inside, empty environment but PATH/HOME/LANG/thread
counts, /usr, the venv ro), except that bwrap keeps CAP_SYS_ADMIN and CAP_SETPCAP for it inside
the sandbox's own user namespace (never on the host), and loads no seccomp filter on it: it must
unshare and mount for each run. It binds the slot's runs directory read-only at /runs.

One run, as requested over the control socket ({"run": "run-<id>", "script": "harness.py"} with
the run's stdout and stderr pipes passed as fds):

    zygote: unshare(NEWPID) for its next child, fork, setns back to its own pid namespace
      └─> B, PID 1 of a fresh pid namespace: unshare(NEWNS | NEWIPC | NEWUTS | NEWNET), then
         - every mount private; a fresh /proc for the new pid namespace
           (/proc/sys, sysrq-trigger, irq, bus read-only, as bwrap's);
         - fresh size-capped tmpfs on /tmp and /dev/shm (TMP_SIZE each);
         - /runs/<id> bound read-only on /task, then /runs detached;
         - the sandbox root and /dev remounted read-only in this namespace;
         - stdin /dev/null, fd 1/2 the run's pipes, every other fd closed
           but the set-up pipe (b"ok" once C is forked, else why not);
         - rlimits (CPU, AS, NPROC, FSIZE, NOFILE, CORE), every capability
           dropped (bounding set, ambient, capset), no_new_privs, not dumpable;
         - the seccomp deny-list (the same BPF program bwrap loads today);
         - fork C (which closes the set-up pipe first), reap whatever is
           reparented to B, exit with C's status;
         └─> C: setsid, dumpable again, runs /task/<script> in-process
             (runpy, as `python -I -B /task/<script>` would), exits.

(Two forks per run, not three: a fork of the pandas-sized zygote costs about 4 ms here. For setns
to be allowed, the zygote runs as PID 1 of a pid namespace of its own user namespace, under a
small launcher that only waits for it: _own_pid_namespace. Before any run, the zygote also uses
pandas once on its own constant data and freezes the collector: _warm.)

**Why a run cannot reach the next learner's run**
- *Processes.* A run lives in its own pid namespace whose PID 1 (B) exits as soon as C does; the
  kernel then kills every process left in it (daemons, fork-bomb children). From inside, the
  zygote, its launcher and any other run have no pid: they cannot be signalled, ptraced or opened in /proc.
  ptrace, process_vm_*, pidfd_getfd and kcmp are denied by seccomp anyway, and B is not dumpable.
- *Files.* Every writable place is a tmpfs mounted by B for this run only (/tmp, /dev/shm), in a
  mount namespace that dies with the run. The shared mounts (the sandbox root, /dev, /usr, the
  venv) are read-only in the run's namespace, and the run cannot remount (no capability, seccomp
  denies mount and the new mount API, unshare and setns). /task is this run's directory only; the
  slot's runs directory is hidden under an empty read-only tmpfs before learner code runs.
- *IPC and sockets.* SysV IPC and POSIX message queues belong to the IPC namespace, abstract unix
  sockets to the network namespace: both are fresh per run.
- *Memory and module globals.* C is a copy-on-write fork of a zygote that never ran learner code
  and never held a learner's data: the zygote receives a run's name and two pipe fds, never its
  files (B reads them from /task), and never reads a run's output. A monkeypatched pandas, a filled
  cache or a sys.modules entry lives in C's private copy of the memory and vanishes with it.
- *Randomness.* `random` reseeds in each fork and numpy's global generator is reseeded in C, so
  no run draws the numbers of another. (The str hash seed is the zygote's, shared by its runs
  until it is replaced: it lets a run learn nothing of another run's data.)
- *Resources.* The rlimits are set afresh in each B (CPU time is counted per process, from 0);
  RLIMIT_NPROC is per uid as before, and what the run forked is gone when its namespace is.
- *Runner side.* The worker keeps the wall clock: a run that outlives it gets the whole zygote
  killed (slot uid `kill -1`, reaped) and a new one for the next run.

Protocol on the control socket (SOCK_SEQPACKET, JSON): the zygote sends {"ready": true} once
pandas is imported; per run it sends {"pid": B} then {"exit": status} (C's exit code, or 128 +
the signal that killed it, as bwrap reports), or {"failed": "..."} instead of the exit when the
run's set-up in B failed before C was forked (B says b"ok" on a pipe once C is forked, and
C closes its copy first: learner code can neither fake nor hide a set-up failure), or
{"error": "..."} when it could not fork."""

import array
import atexit
import ctypes
import json
import os
import resource
import runpy
import signal
import socket
import sys

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWPID, CLONE_NEWNET = 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, PR_CAP_AMBIENT = 4, 24, 38, 22, 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
SECCOMP_MODE_FILTER = 2
LINUX_CAPABILITY_VERSION_3 = 0x20080522
SETUP_OK = b"ok"
SETUP_REPORT_MAX = 2000

LIBC = ctypes.CDLL(None, use_errno=True)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(source, target, fstype, flags, data=None) -> None:
    _check(
        LIBC.mount(
            source and source.encode(), target.encode(), fstype and fstype.encode(), flags, data and data.encode()
        ),
        f"mount {target}",
    )


def _prctl(option, arg2=0, arg3=0) -> None:
    _check(LIBC.prctl(option, ctypes.c_ulong(arg2), ctypes.c_ulong(arg3), 0, 0), f"prctl({option})")


def _read_only(path: str) -> None:
    """Remount one mount of this namespace read-only (a per-mount flag: the zygote's is untouched)."""
    _mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)


def _mounts(run: str, tmp_size: int) -> None:
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    for sub in ("sys", "sysrq-trigger", "irq", "bus"):
        path = f"/proc/{sub}"
        if os.path.exists(path):
            _mount(path, path, None, MS_BIND | MS_REC)
            _read_only(path)
    for path in ("/tmp", "/dev/shm"):  # noqa: S108 - inside the sandbox: this run's own tmpfs
        _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, f"size={tmp_size},mode=1777")
    _mount(f"/runs/{run}", "/task", None, MS_BIND)
    _read_only("/task")
    # Hidden under an empty read-only tmpfs: bwrap's mounts are locked in this namespace (it
    # was made from the nested user namespace of --disable-userns), so they cannot be unmounted.
    _mount("tmpfs", "/runs", "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4096,mode=0555")
    _read_only("/dev")
    _read_only("/")


def _drop_privileges(limits: dict, program: bytes) -> None:
    for name, value in limits["rlimits"].items():
        resource.setrlimit(getattr(resource, name), tuple(value))
    with open("/proc/sys/kernel/cap_last_cap") as f:
        last_cap = int(f.read())
    for cap in range(last_cap + 1):
        _prctl(PR_CAPBSET_DROP, cap)
    _prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    header = _CapHeader(LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    _check(LIBC.capset(ctypes.byref(header), data), "capset")
    _prctl(PR_SET_NO_NEW_PRIVS, 1)
    _prctl(PR_SET_DUMPABLE, 0)
    buf = ctypes.create_string_buffer(program, len(program))
    prog = _SockFprog(len(program) // 8, ctypes.cast(buf, ctypes.c_void_p))
    _prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(prog))


def _status_code(status: int) -> int:
    """An exit status as bwrap reports one: the exit code, or 128 + the signal."""
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1


def _learner(script: str) -> None:
    """C: run /task/<script> the way `python -I -B /task/<script>` would, in this fork."""
    code = 0
    try:
        os.setsid()
        _prctl(PR_SET_DUMPABLE, 1)
        sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115
        sys.stdout = open(1, "w", encoding="utf-8", closefd=False, buffering=1)  # noqa: SIM115
        sys.stderr = open(2, "w", encoding="utf-8", closefd=False, errors="backslashreplace")  # noqa: SIM115
        sys.argv = [f"/task/{script}"]
        # Python's `random` reseeds itself in a fork (os.register_at_fork); numpy's global
        # generator does not: without this, every run would draw the zygote's same numbers.
        sys.modules["numpy"].random.seed()
        os.chdir("/tmp")  # noqa: S108 - this run's own tmpfs
        runpy.run_path(f"/task/{script}", run_name="__main__")
    except SystemExit as exc:
        code = exc.code if type(exc.code) is int else (0 if exc.code is None else 1)
        if exc.code is not None and type(exc.code) is not int:
            try:
                sys.stderr.write(f"{exc.code}\n")
            except BaseException:  # noqa: BLE001, S110 - the learner's object may raise anything
                pass
    except BaseException:  # noqa: BLE001 - reported on stderr, like an uncaught error
        code = 1
        try:
            import traceback

            traceback.print_exc()
        except BaseException:  # noqa: BLE001, S110
            pass
    try:
        atexit._run_exitfuncs()  # as the interpreter would at exit (the learner's included)
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:  # noqa: BLE001, S110 - the exit status is what it was
        pass
    os._exit(code & 0xFF)


def _init(run: str, script: str, out_fd: int, err_fd: int, ok_fd: int, limits: dict, program: bytes) -> None:
    """B, PID 1 of the run's pid namespace: set the run up, fork C, reap, exit with C's status.
    `ok_fd` (the zygote's set-up pipe) gets b"ok" once C is forked, or why the set-up failed: the
    zygote reports either to the runner, so a failure is never taken for the learner's exit 1."""
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # PID 1: unhandled signals from inside ignored
        _mounts(run, limits["tmp_size"])
        null = os.open("/dev/null", os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out_fd, 1)
        os.dup2(err_fd, 2)
        os.closerange(3, ok_fd)
        os.closerange(ok_fd + 1, 65536)
        os.chdir("/")
        _drop_privileges(limits, program)
        child = os.fork()
        if child == 0:
            os.close(ok_fd)  # before any learner code: C can neither forge nor hold back the report
            _learner(script)
        os.write(ok_fd, SETUP_OK)
        os.close(ok_fd)
        while True:
            pid, status = os.waitpid(-1, 0)
            if pid == child:
                code = _status_code(status)
                break
    except BaseException as exc:  # noqa: BLE001 - the run failed to start: say so to the zygote
        _report(ok_fd, exc)
    os._exit(code)


def _report(ok_fd: int, exc: BaseException) -> None:
    try:
        os.write(ok_fd, f"{exc!r}"[:SETUP_REPORT_MAX].encode(errors="replace"))
    except OSError:
        pass


def _run(
    request: dict, fds: list[int], limits: dict, program: bytes, ctl: socket.socket, own_pid_ns: int
) -> tuple[int, int]:
    """Fork B, PID 1 of a new pid namespace, for one run; return its pid and the read end of its
    set-up pipe. The zygote's own pid namespace stays its own: only its next child's is new, and
    setns puts the next child's back at once (unshare(CLONE_NEWPID) cannot be repeated until it is)."""
    out_fd, err_fd = fds
    ok_r, ok_w = os.pipe2(os.O_CLOEXEC)
    try:
        os.unshare(CLONE_NEWPID)
        try:
            pid = os.fork()
        except BaseException:
            os.setns(own_pid_ns, CLONE_NEWPID)
            raise
    except BaseException:
        os.close(ok_r)
        os.close(ok_w)
        raise
    if pid != 0:
        # Cannot fail: this is the zygote's own pid namespace, in its own user namespace (main()
        # made it so: _own_pid_namespace).
        os.setns(own_pid_ns, CLONE_NEWPID)
    if pid == 0:
        code = 1
        try:
            ctl.close()
            os.close(ok_r)
            os.close(own_pid_ns)
            os.unshare(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET)
        except BaseException as exc:  # noqa: BLE001
            _report(ok_w, exc)
            os._exit(code)
        _init(request["run"], request["script"], out_fd, err_fd, ok_w, limits, program)
    os.close(out_fd)
    os.close(err_fd)
    os.close(ok_w)
    return pid, ok_r


def _setup_outcome(ok_r: int) -> str | None:
    """After B is reaped (every writer of the pipe is gone): None when the run was set up, else
    why not."""
    data = b""
    try:
        while chunk := os.read(ok_r, 4096):
            data += chunk
    except OSError as exc:
        data = f"the set-up pipe: {exc}".encode()
    finally:
        os.close(ok_r)
    if data == SETUP_OK:
        return None
    return data.decode(errors="replace") or "it ended before saying so"


def _send(ctl: socket.socket, message: dict) -> None:
    ctl.send(json.dumps(message).encode())


def _warm(pandas) -> None:
    """What every run would otherwise pay for again: pandas loads some of its parts and fills
    some caches at their first use, not at import. Done here once, on the zygote's own constant
    data (never a learner's), they are inherited by every run. Then the collector freezes what
    exists: a run's collections never write to the inherited objects' headers, so the pages
    stay shared instead of being copied in every run."""
    import gc

    frame = pandas.DataFrame(
        {"ward": ["A", "A", "B"], "stay": [1.0, 2.0, 5.0], "day": pandas.date_range("2026-01-01", periods=3)}
    )
    frame.groupby("ward", as_index=False)["stay"].mean().to_dict("records")
    frame.merge(frame[["ward"]].drop_duplicates(), on="ward").sort_values("stay").pivot_table(
        index="ward", values="stay", aggfunc="sum"
    )
    frame["stay"].describe()
    del frame
    gc.collect()
    gc.freeze()


def _own_pid_namespace() -> None:
    """Go on as PID 1 of a pid namespace that this process's own user namespace owns (bwrap made
    the one it starts in from the outer user namespace, before --disable-userns nested this one):
    only then may setns give each run's fork back this namespace (_run). The process that
    started stays as the launcher: it waits for the zygote and exits with its status."""
    os.unshare(CLONE_NEWPID)
    zygote = os.fork()
    if zygote == 0:
        return
    os.closerange(3, 65536)  # the control socket is the zygote's alone: it sees EOF when the zygote goes
    os._exit(_status_code(os.waitpid(zygote, 0)[1]))


def main() -> None:
    program_fd, ctl_fd, limits = int(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3])
    _own_pid_namespace()
    with os.fdopen(program_fd, "rb") as f:
        program = f.read()
    ctl = socket.socket(fileno=ctl_fd)
    _prctl(PR_SET_DUMPABLE, 0)
    own_pid_ns = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
    import numpy  # noqa: F401 - the point of the zygote: imported once, before any fork
    import pandas  # noqa: F401

    _warm(pandas)
    if len(os.listdir("/proc/self/task")) != 1:  # a fork copies one thread: no lock may be held
        sys.exit("zygote: numpy or pandas started a thread (set OPENBLAS_NUM_THREADS=1)")
    sys.stdout.flush()
    sys.stderr.flush()
    _send(ctl, {"ready": True})
    while True:
        fds = array.array("i")
        msg, ancdata, _flags, _addr = ctl.recvmsg(4096, socket.CMSG_SPACE(2 * fds.itemsize))
        if not msg:
            return  # the runner closed its end: stop
        for level, kind, data in ancdata:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
        if len(fds) != 2:
            for fd in fds:
                os.close(fd)
            _send(ctl, {"error": "a run request needs its stdout and stderr"})
            continue
        try:
            pid, ok_r = _run(json.loads(msg), list(fds), limits, program, ctl, own_pid_ns)
        except OSError as exc:
            for fd in fds:
                try:
                    os.close(fd)
                except OSError:
                    pass
            _send(ctl, {"error": f"cannot fork the run: {exc.strerror or exc}"})
            continue
        _send(ctl, {"pid": pid})
        status = _status_code(os.waitpid(pid, 0)[1])
        failed = _setup_outcome(ok_r)
        _send(ctl, {"exit": status} if failed is None else {"failed": f"the run could not start: {failed}"})


if __name__ == "__main__":
    main()

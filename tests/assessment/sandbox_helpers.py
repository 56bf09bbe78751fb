"""Real processes for sandbox tests: zombies that use up a slot uid's process limit, the way a
non-reaping parent's zombies did (issue 11), and a look at /proc for zombies and process trees."""

import contextlib
import os
import subprocess
import sys
from pathlib import Path

PR_GET_CHILD_SUBREAPER = 37

# A root process that starts `n` short-lived processes as `uid` with setpriv and never waits for
# them: each stays a zombie of that uid, counted against the uid's RLIMIT_NPROC, and the slot uid
# cannot kill it (its parent is root). On stdin's end it reaps them and exits.
ZOMBIE_HOLDER = r"""
import os, sys, time
uid, n = int(sys.argv[1]), int(sys.argv[2])
pids = []
for _ in range(n):
    argv = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "/bin/true"]
    pids.append(os.posix_spawn("/usr/bin/setpriv", argv, {}))
def zombies():
    count = 0
    for pid in pids:
        try:
            state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        count += state == "Z"
    return count
deadline = time.monotonic() + 30
while zombies() < n and time.monotonic() < deadline:
    time.sleep(0.01)
print("ready", zombies(), flush=True)
sys.stdin.read()
for pid in pids:
    os.waitpid(pid, 0)
"""


def slot_uid(index: int = 0) -> int:
    return int(os.environ.get("KAFAAT_SANDBOX_UID_BASE") or "64000") + index


@contextlib.contextmanager
def zombies_of(uid: int, n: int):
    """`n` zombie processes of `uid` for the duration of the block."""
    holder = subprocess.Popen(
        [sys.executable, "-c", ZOMBIE_HOLDER, str(uid), str(n)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = holder.stdout.readline().split()
        assert line == ["ready", str(n)], line
        assert len([p for p in processes() if p.uid == uid and p.state == "Z"]) >= n
        yield holder.pid
    finally:
        holder.stdin.close()
        holder.wait(30)


class Proc:
    def __init__(self, pid: int, ppid: int, uid: int, state: str, name: str):
        self.pid, self.ppid, self.uid, self.state, self.name = pid, ppid, uid, state, name

    def __repr__(self) -> str:
        return f"<{self.name} pid={self.pid} ppid={self.ppid} uid={self.uid} {self.state}>"


def processes() -> list[Proc]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = dict(line.split(":", 1) for line in (entry / "status").read_text().splitlines() if ":" in line)
        except OSError:
            continue
        found.append(
            Proc(
                int(entry.name),
                int(fields["PPid"]),
                int(fields["Uid"].split()[0]),
                fields["State"].split()[0],
                fields["Name"].strip(),
            )
        )
    return found


def slot_uids() -> range:
    base = slot_uid(0)
    return range(base, base + int(os.environ.get("KAFAAT_SANDBOX_SLOTS") or "8"))


def sandbox_zombies() -> list[Proc]:
    """Zombies of this run's slot uids, whatever their parent."""
    uids = slot_uids()
    return [p for p in processes() if p.state == "Z" and p.uid in uids]


def zombies_under(parents: set[int]) -> list[Proc]:
    """Every zombie (any uid) whose parent is one of `parents`."""
    return [p for p in processes() if p.state == "Z" and p.ppid in parents]


def children_of(pid: int) -> list[Proc]:
    return [p for p in processes() if p.ppid == pid and p.state != "Z"]


def is_subreaper() -> bool:
    import ctypes

    value = ctypes.c_int(0)
    ctypes.CDLL(None, use_errno=True).prctl(PR_GET_CHILD_SUBREAPER, ctypes.byref(value), 0, 0, 0)
    return bool(value.value)


def descendants(pid: int) -> set[int]:
    """`pid` and every process below it."""
    procs = processes()
    found, frontier = set(), {pid}
    while frontier:
        found |= frontier
        frontier = {p.pid for p in procs if p.ppid in frontier} - found
    return found


def _cmdline(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


# An idle zygote's processes: bwrap, bwrap's pid 1, zygote.py's launcher and the zygote (PID 1 of
# its own pid namespace), and nothing more.
ZYGOTE_TREE = 4


def idle_zygote_processes() -> set[int]:
    """The processes of the idle sandbox zygotes on this run's slot uids: each is bwrap, bwrap's
    pid 1, the launcher and the zygote, and nothing more (no process of a finished run). This
    process's own are asserted to be exactly that; so are another live process's (the session's
    Celery worker: its pool child keeps the zygote it graded on), recognised as a tree of exactly those whose
    top bwrap's parent is outside the slot uids and alive. A run's leftover (a daemon, a fork-bomb
    child) is inside a zygote's tree, which then has more processes, or is an orphan:
    never part of what this returns."""
    from assessment.sandbox import runner

    found = set()
    for zygote in runner._ZYGOTES.idle.values():
        tree = descendants(zygote.proc.pid)
        assert len(tree) == ZYGOTE_TREE, [p for p in processes() if p.pid in tree]
        found |= tree
    procs = {p.pid: p for p in processes()}
    uids = slot_uids()
    for top in procs.values():
        parent = procs.get(top.ppid)
        if top.uid not in uids or top.name != "bwrap" or top.state == "Z" or parent is None:
            continue
        if parent.uid in uids or parent.pid == 1:
            continue
        tree = descendants(top.pid)
        names = sorted(procs[pid].name for pid in tree if pid in procs)
        if (
            len(tree) == ZYGOTE_TREE
            and names[:2] == ["bwrap", "bwrap"]
            and any("/zygote.py" in _cmdline(pid) for pid in tree)
        ):
            found |= tree
    return found

"""Print the sandbox's seccomp deny-list as a BPF program on stdout.

Runs under Debian's /usr/bin/python3 (python3-seccomp is built for it, not for our venv):
`/usr/bin/python3 -I seccomp_bpf.py > filter.bpf`. bwrap loads the program from a file descriptor
(`--seccomp FD`) just before it execs the harness, so bwrap itself may still mount and unshare."""

import errno
import sys

import seccomp

EPERM = seccomp.ERRNO(errno.EPERM)
DENIED = [
    # debugging / reading other processes
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
    # kernel attack surface with no use in an exercise
    "bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register",
    "keyctl", "add_key", "request_key",
    # mounts, old and new API
    "mount", "umount", "umount2", "pivot_root", "chroot", "open_tree", "move_mount", "fsopen", "fsconfig",
    "fsmount", "fspick", "mount_setattr",
    # namespaces
    "unshare", "setns",
    # modules, kexec, reboot, clocks, swap, accounting
    "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load", "reboot",
    "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "swapon", "swapoff", "acct",
    "quotactl", "lookup_dcookie", "name_to_handle_at", "open_by_handle_at", "syslog", "personality",
]  # fmt: skip
NAMESPACE_FLAGS = [
    0x00020000,  # CLONE_NEWNS
    0x02000000,  # CLONE_NEWCGROUP
    0x04000000,  # CLONE_NEWUTS
    0x08000000,  # CLONE_NEWIPC
    0x10000000,  # CLONE_NEWUSER
    0x20000000,  # CLONE_NEWPID
    0x40000000,  # CLONE_NEWNET
    0x00000080,  # CLONE_NEWTIME
]
TIOCSTI = 0x5412


def build() -> seccomp.SyscallFilter:
    f = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    for name in DENIED:
        try:
            f.add_rule(EPERM, name)
        except (RuntimeError, ValueError, OSError):
            pass  # not a syscall on this architecture
    # clone3 passes its flags in memory that seccomp cannot read: ENOSYS makes libc fall back to
    # clone, whose flags are checked below.
    f.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    for flag in NAMESPACE_FLAGS:
        f.add_rule(EPERM, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
    f.add_rule(EPERM, "ioctl", seccomp.Arg(1, seccomp.MASKED_EQ, 0xFFFFFFFF, TIOCSTI))
    return f


if __name__ == "__main__":
    sys.stdout.flush()
    build().export_bpf(sys.stdout)

"""The code sandbox: `run_tests` runs a submission on test inputs in bubblewrap and returns the
values it produced, parsed by the checker; `self_test` says whether the sandbox works here."""

import json
import secrets
import signal
from dataclasses import dataclass
from pathlib import Path

from . import checker
from .runner import RunResult, SandboxUnavailable, run_python, stop_zygotes

HARNESS = (Path(__file__).resolve().parent / "harness.py").read_text(encoding="utf-8")

__all__ = ["SandboxUnavailable", "TestRun", "run_tests", "self_test", "stop_zygotes"]


@dataclass
class TestRun:
    results: dict[str, dict]  # id -> {"ok": True, "value": ...} | {"ok": False, "error": "..."}
    load_error: str | None
    run: RunResult

    @property
    def limit(self) -> str | None:
        """Which limit stopped the run: "time" (wall clock, or the CPU rlimit's SIGXCPU),
        "output" (the runner kills a flood: checked before the kill's SIGKILL), "memory" (killed,
        as the cgroup's OOM killer does), or None."""
        code = self.run.returncode
        if self.run.timed_out or code in (-signal.SIGXCPU, 128 + signal.SIGXCPU):
            return "time"
        if self.run.stdout_truncated:
            return "output"
        if code in (-signal.SIGKILL, 128 + signal.SIGKILL):
            return "memory"
        return None

    @property
    def limit_message(self) -> str | None:
        if self.run.timed_out:
            return "time limit exceeded"
        if self.run.stdout_truncated:
            return "output limit exceeded"
        if self.run.returncode is not None and self.run.returncode not in (0,) and not self.results:
            return f"the program stopped (exit status {self.run.returncode})"
        return None


def run_tests(*, code: str, entrypoint: str, tests: list[dict]) -> TestRun:
    """Run `code` on each test's inputs (never its expected output) in the sandbox. Raises
    SandboxUnavailable when the sandbox failed before the harness could load `code`."""
    started = secrets.token_hex(16)
    inputs = {
        "entrypoint": entrypoint,
        "started": started,
        "tests": [{k: t[k] for k in ("id", "args", "kwargs") if k in t} for t in tests],
    }
    run = run_python(
        {"submission.py": code, "harness.py": HARNESS, "inputs.json": json.dumps(inputs)},
        script="harness.py",
        started=started,
    )
    results, load_error = checker.parse_results(run.stdout, {t["id"] for t in tests})
    return TestRun(results=results, load_error=load_error, run=run)


SELF_TEST_CODE = """
import os, socket
def probe():
    facts = {"env": sorted(os.environ), "uid": os.getuid()}
    facts["etc_passwd"] = os.path.exists("/etc/passwd")
    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
        facts["network"] = True
    except OSError:
        facts["network"] = False
    try:
        facts["environ1"] = open("/proc/1/environ").read()
    except OSError:
        facts["environ1"] = ""
    import numpy, pandas
    facts["pandas"] = int(pandas.DataFrame({"a": [1, 2]})["a"].sum())
    return facts
"""


def self_test() -> str | None:
    """None when the sandbox works and contains what it must; else the reason, for operators.
    Leaves no zygote behind: the worker's main process runs it and never grades (a pool child
    that runs it again starts a new zygote at its next run)."""
    try:
        outcome = run_tests(code=SELF_TEST_CODE, entrypoint="probe", tests=[{"id": "probe", "args": []}])
    except SandboxUnavailable as exc:
        return str(exc)
    except OSError as exc:
        return f"the sandbox could not start: {exc}"
    finally:
        stop_zygotes()
    result = outcome.results.get("probe")
    if not result or not result["ok"]:
        detail = (outcome.load_error or (result or {}).get("error") or outcome.run.stderr[-500:]).strip()
        return f"the sandbox self-test did not run: {detail or outcome.limit_message or 'no output'}"
    facts = result["value"]
    if type(facts) is not dict:
        return "the sandbox self-test returned nothing usable"
    problems = []
    if facts.get("network"):
        problems.append("the network is reachable")
    if facts.get("etc_passwd"):
        problems.append("/etc is visible")
    if facts.get("uid") == 0:
        problems.append("code runs as root")
    if facts.get("environ1") and "SECRET" in facts["environ1"]:
        problems.append("the worker's environment is readable")
    if facts.get("pandas") != 3:
        problems.append("pandas does not work inside the sandbox")
    return "; ".join(problems) or None

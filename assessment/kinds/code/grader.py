"""Code grader (Python, numpy and pandas available). The learner's code runs in the bubblewrap
sandbox on the test *inputs*; the checker compares the JSON values it returned with the expected
outputs that prepare_spec computed at publish time from the reference solution, or, where the
sandbox could not run at publish time, that the first grading computes (complete_spec).

Public and hidden tests run in two separate sandbox runs: the public run never sees a hidden
input, so whatever it prints, raises or returns can be shown to the learner; of the hidden run
the learner only learns each test's status from a fixed set (passed, failed, crashed, time limit,
memory limit), which nothing the code prints, raises or exits with can extend.
Spec: entrypoint, starter_code, reference_solution, public_tests and hidden_tests
({id, args, kwargs}) and tolerance {rel, abs}: see validate_spec."""

import keyword
import logging
import math

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from assessment import sandbox
from assessment.kinds.base import GraderError, GradeResult, GraderUnavailable, SpecError
from assessment.sandbox import checker

from . import shown

log = logging.getLogger(__name__)

DEFAULT_TOLERANCE = {"rel": 1e-6, "abs": 1e-9}
MAX_TESTS = 50


def _tests(spec: dict) -> list[tuple[dict, bool]]:
    return [(t, True) for t in spec.get("public_tests", [])] + [(t, False) for t in spec.get("hidden_tests", [])]


def validate_spec(spec: dict) -> None:
    entry = spec.get("entrypoint")
    if not isinstance(entry, str) or not entry.isidentifier() or keyword.iskeyword(entry):
        raise SpecError("entrypoint", _("give the name of the function learners define, e.g. solve"))
    for key in ("starter_code", "reference_solution"):
        if not isinstance(spec.get(key, ""), str):
            raise SpecError(key, _("must be text"))
    if not spec.get("reference_solution", "").strip():
        raise SpecError("reference_solution", _("a code assignment needs a reference solution"))
    seen = set()
    for key in ("public_tests", "hidden_tests"):
        tests = spec.get(key, [])
        if not isinstance(tests, list):
            raise SpecError(key, _("must be a list of tests"))
        for i, t in enumerate(tests):
            where = f"{key}[{i}]"
            if not isinstance(t, dict) or not isinstance(t.get("id"), str) or not t["id"]:
                raise SpecError(f"{where}.id", _("each test needs a text id"))
            if t["id"] in seen:
                raise SpecError(
                    f"{where}.id", _("two tests are named %(name)s: give each test its own name") % {"name": t["id"]}
                )
            seen.add(t["id"])
            if not isinstance(t.get("args", []), list):
                raise SpecError(f"{where}.args", _("args must be a list"))
            if not isinstance(t.get("kwargs", {}), dict):
                raise SpecError(f"{where}.kwargs", _("kwargs must be a mapping"))
    if not seen:
        raise SpecError("public_tests", _("a code assignment needs at least one test"))
    if len(seen) > MAX_TESTS:
        raise SpecError(
            "hidden_tests", ngettext("at most %(max)s test", "at most %(max)s tests", MAX_TESTS) % {"max": MAX_TESTS}
        )
    tol = spec.get("tolerance", DEFAULT_TOLERANCE)
    if not isinstance(tol, dict) or not all(_tolerance_ok(tol.get(k, 0)) for k in ("rel", "abs")):
        raise SpecError("tolerance", _("tolerance is {rel: number, abs: number}, both 0 or more"))


def _tolerance_ok(value) -> bool:
    """A finite number, 0 or more (the grader turns it into a float)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value) and value >= 0
    except OverflowError:  # an int beyond the float range
        return False


def _storable(value) -> bool:
    """Whether every text in a JSON value can be stored (PostgreSQL jsonb: no NUL, no lone
    surrogate): the expected outputs are stored with the assignment's version."""
    if type(value) is str:
        return checker.storable(value) == value
    if type(value) is list:
        return all(_storable(v) for v in value)
    if type(value) is dict:
        return all(_storable(k) and _storable(v) for k, v in value.items())
    return True


def expected_outputs(spec: dict) -> dict:
    """Run the reference solution in the sandbox on every test: {test id: the value it returned}.
    Raises SpecError when the reference solution does not load or fails a test, and
    sandbox.SandboxUnavailable when the sandbox cannot run here."""
    tests = [t for t, _public in _tests(spec)]
    outcome = sandbox.run_tests(code=spec["reference_solution"], entrypoint=spec["entrypoint"], tests=tests)
    if outcome.load_error == checker.MISSING_ENTRYPOINT:
        raise SpecError(
            "reference_solution",
            _("the reference solution does not define the function %(name)s") % {"name": spec["entrypoint"]},
        )
    if outcome.load_error:
        raise SpecError(
            "reference_solution",
            _("the reference solution does not load: %(error)s") % {"error": outcome.load_error},
        )
    expected = {}
    for t in tests:
        result = outcome.results.get(t["id"])
        if result is None:
            why = outcome.limit_message or outcome.run.stderr[-300:] or _("no result")
            raise SpecError(
                "reference_solution",
                _("the reference solution gave no result for test %(test)s: %(reason)s")
                % {"test": t["id"], "reason": why},
            )
        if not result["ok"]:
            raise SpecError(
                "reference_solution",
                _("the reference solution fails test %(test)s: %(error)s")
                % {"test": t["id"], "error": result["error"]},
            )
        if not _storable(result["value"]):
            raise SpecError(
                "reference_solution",
                _(
                    "the reference solution returns text that cannot be stored for test %(test)s"
                    " (a NUL character or a lone surrogate)"
                )
                % {"test": t["id"]},
            )
        expected[t["id"]] = result["value"]
    return expected


def prepare_spec(spec: dict) -> dict:
    """The spec to store, with `expected` when the sandbox runs here. Where it cannot (no
    bubblewrap, not root, a broken grader venv), the spec is stored without `expected`: the
    course still imports and publishes, and the first grading by a worker whose sandbox runs
    computes the expected outputs (complete_spec) and stores them with the version."""
    spec = {k: v for k, v in spec.items() if k != "expected"}
    try:
        return {**spec, "expected": expected_outputs(spec)}
    except sandbox.SandboxUnavailable as exc:
        log.info("expected outputs deferred to the first grading, the sandbox cannot run here: %s", exc)
        return spec


def checked_spec(spec: dict) -> dict:
    """prepare_spec for an instructor who asked to check the reference solution now: the sandbox
    being unavailable is a field error then, not a deferral."""
    spec = {k: v for k, v in spec.items() if k != "expected"}
    try:
        return {**spec, "expected": expected_outputs(spec)}
    except sandbox.SandboxUnavailable as exc:
        raise SpecError(
            "reference_solution",
            _("the sandbox is unavailable, so the expected outputs cannot be computed: %(reason)s") % {"reason": exc},
        ) from exc


def complete_spec(spec: dict) -> dict | None:
    """The spec with the expected outputs it was stored without (prepare_spec deferred them), or
    None when it has them. Raises GraderUnavailable while the sandbox cannot run (the submission
    waits queued) and GraderError when the reference solution fails (staff see why)."""
    if isinstance(spec.get("expected"), dict):
        return None
    try:
        return {**spec, "expected": expected_outputs(spec)}
    except sandbox.SandboxUnavailable as exc:
        raise GraderUnavailable(str(exc)) from exc
    except SpecError as exc:
        raise GraderError(f"the expected outputs cannot be computed: {exc.message}") from exc


def public_spec(spec: dict) -> dict:
    return {
        "entrypoint": spec.get("entrypoint"),
        "starter_code": spec.get("starter_code", ""),
        # Each with `shown`, its arguments as the learner's page writes them (JSON, DataFrame tables).
        "public_tests": [{**t, "shown": shown.arguments(t)} for t in spec.get("public_tests", [])],
        "hidden_test_count": len(spec.get("hidden_tests", [])),
    }


def _run(code: str, spec: dict, tests: list[dict]):
    try:
        return sandbox.run_tests(code=code, entrypoint=spec["entrypoint"], tests=tests)
    except sandbox.SandboxUnavailable as exc:
        raise GraderUnavailable(str(exc)) from exc


# What a hidden test's row may say: one of these, whatever the learner's code printed, raised or
# exited with (none of which ever reaches the learner from a hidden run).
PASSED, FAILED, CRASHED, TIME_LIMIT, MEMORY_LIMIT = "passed", "failed", "crashed", "time_limit", "memory_limit"
_LIMIT_STATUS = {"time": TIME_LIMIT, "memory": MEMORY_LIMIT}


def _notice(code: str, **params) -> dict:
    """A message for the learner, stored as a code and its parameters: pages render it in the
    reader's language (messages.notice_text), never the worker's."""
    return {"code": f"code.{code}", "params": params}


def _status(result: dict | None, ok: bool, run) -> str:
    """A test's status from the fixed set, for a run whose text the learner may not read."""
    if ok:
        return PASSED
    if result is not None:
        if result["ok"]:
            return FAILED
        return MEMORY_LIMIT if result["error"].startswith("MemoryError") else CRASHED
    if run.load_error and run.load_error.startswith("MemoryError"):
        return MEMORY_LIMIT
    return _LIMIT_STATUS.get(run.limit, CRASHED)


def _public_notice(run, entrypoint: str) -> dict | None:
    """What went wrong with the public run as a whole (it never sees a hidden input, so its
    details, exit status included, are the learner's own to read)."""
    if run.load_error == checker.MISSING_ENTRYPOINT:
        return _notice("missing_function", name=entrypoint)
    if run.load_error:
        return _notice("load_error", error=run.load_error)
    if run.limit:
        return _notice("public_limit", limit=run.limit)
    if run.run.returncode not in (0, None) and not run.results:
        return _notice("public_stopped", status=run.run.returncode)
    return None


def grade(spec: dict, answer: dict) -> GradeResult:
    """Score one point per test passed. The feedback holds each test's row and `messages` as codes
    with parameters (`{"code": "code.load_error", "params": {"error": ...}}`, see messages.py);
    a hidden test's row is its id and a status from the fixed set above, nothing else."""
    # A spec stored where the sandbox could not run has no expected outputs yet: compute them
    # (the grading service stores them with the version, so this runs once per version).
    spec = complete_spec(spec) or spec
    expected = spec["expected"]
    code = answer.get("code") if isinstance(answer, dict) else None
    if not isinstance(code, str):
        return GradeResult(score=0, max_score=1, feedback={"messages": [_notice("no_code")]})
    tol = spec.get("tolerance") or DEFAULT_TOLERANCE
    rel, abs_ = float(tol.get("rel", 1e-6)), float(tol.get("abs", 1e-9))
    public = list(spec.get("public_tests", []))
    hidden = list(spec.get("hidden_tests", []))
    rows, staff, messages = [], [], []
    passed = 0
    if public:
        run = _run(code, spec, public)
        staff.append(f"public run: exit {run.run.returncode}, {run.run.duration:.2f}s\n{run.run.stderr[-4000:]}")
        notice = _public_notice(run, spec["entrypoint"])
        if notice:
            messages.append(notice)
        for t in public:
            result = run.results.get(t["id"])
            ok = bool(result and result["ok"] and checker.equal(expected[t["id"]], result["value"], rel=rel, abs_=abs_))
            passed += ok
            row = {"id": t["id"], "public": True, "passed": ok, "status": _status(result, ok, run)}
            row["input"] = checker.preview(t.get("args", []))
            row["expected"] = checker.preview(expected[t["id"]])
            if result and result["ok"]:
                row["got"] = checker.preview(result["value"])
            elif result:
                row["error"] = result["error"][:300]
            rows.append(row)
    if hidden:
        run = _run(code, spec, hidden)
        # Staff see the hidden run's exit status and stderr; the learner reads one status per test
        # from the fixed set, never a text, a number or a message of that run.
        staff.append(f"hidden run: exit {run.run.returncode}, {run.run.duration:.2f}s\n{run.run.stderr[-4000:]}")
        if run.load_error:
            staff.append(f"hidden run load error: {run.load_error}")
        for t in hidden:
            result = run.results.get(t["id"])
            ok = bool(result and result["ok"] and checker.equal(expected[t["id"]], result["value"], rel=rel, abs_=abs_))
            passed += ok
            rows.append({"id": t["id"], "public": False, "passed": ok, "status": _status(result, ok, run)})
    total = len(public) + len(hidden)
    feedback = {"tests": rows, "passed": passed, "total": total}
    if messages:
        feedback["messages"] = messages
    return GradeResult(score=passed, max_score=total, feedback=feedback, staff_log="\n".join(staff)[-16000:])

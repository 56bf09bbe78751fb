"""One grader per assignment kind. A grader is a pure function of (spec, answer) that returns a
GradeResult; it never touches the database, so `try_grader` and the workers share it.

The spec contract (AssignmentVersion.spec), shared with the course archive format:
- `validate_spec(kind, spec)` raises SpecError naming the field path when a spec is malformed;
- `prepare_spec(kind, spec)` runs at publish time (new version): hashes flags, computes the
  expected outputs of code tests from the reference solution; returns the spec to store;
- `public_spec(kind, spec)` is what a learner may see (no answers, hashes, hidden tests or
  expected outputs)."""

import math
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

# Points of one question, rubric level...: a weight, so anything this large is a typo. It keeps
# every kind's total finite, and the score scaled to the assignment's points (at most 99,999.99)
# computable.
MAX_POINTS = 10_000


class GraderError(Exception):
    """The grader itself could not grade (bad spec, sandbox broken): the submission fails with
    this reason for staff, and staff can retry it."""


class GraderUnavailable(Exception):
    """The grader cannot run on this worker right now (the sandbox is broken): the submission
    goes back to queued, untouched, and waits for a worker whose sandbox works (fail closed)."""


class SpecError(ValueError):
    """A spec is malformed. `path` names the field, e.g. `questions[2].choices`."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message


@dataclass
class GradeResult:
    score: float
    max_score: float
    feedback: dict = field(default_factory=dict)
    staff_log: str = ""
    needs_review: bool = False


def _module(kind: str):
    from . import code, essay, flag, quiz

    modules = {"quiz": quiz, "flag": flag, "code": code, "essay": essay}
    try:
        return modules[kind]
    except KeyError:
        raise GraderError(f"no grader for assignment kind {kind!r}") from None


def get_grader(kind: str):
    return _module(kind).grade


def _non_finite(value, path: str = "") -> str | None:
    """The path of the first NaN or infinite number in a spec (the database refuses to store
    them, and they make no grade), or None."""
    if isinstance(value, float) and not math.isfinite(value):
        return path
    if isinstance(value, dict):
        items = ((f"{path}.{k}" if path else str(k), v) for k, v in value.items())
    elif isinstance(value, list | tuple):
        items = ((f"{path}[{i}]", v) for i, v in enumerate(value))
    else:
        return None
    for sub_path, sub_value in items:
        found = _non_finite(sub_value, sub_path)
        if found is not None:
            return found
    return None


def check_points(value, path: str) -> None:
    """A weight in a spec: a number from 0 to MAX_POINTS (SpecError naming `path` otherwise)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= MAX_POINTS:
        raise SpecError(path, _("points must be a number from 0 to %(max)s") % {"max": f"{MAX_POINTS:,}"})


def validate_spec(kind: str, spec) -> None:
    if not isinstance(spec, dict):
        raise SpecError("", "the spec must be a mapping")
    bad = _non_finite(spec)
    if bad is not None:
        raise SpecError(bad, _("must be a finite number (not NaN or infinity)"))
    validate = getattr(_module(kind), "validate_spec", None)
    if validate:
        validate(spec)


def prepare_spec(kind: str, spec: dict) -> dict:
    prepare = getattr(_module(kind), "prepare_spec", None)
    return prepare(spec) if prepare else spec


def public_spec(kind: str, spec: dict) -> dict:
    public = getattr(_module(kind), "public_spec", None)
    return public(spec) if public else {}

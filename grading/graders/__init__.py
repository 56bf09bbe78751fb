"""One grader per assignment kind. A grader is a pure function of (spec, answer) that returns a
GradeResult; it never touches the database, so `try_grader` and the workers share it.

The spec contract (AssignmentVersion.spec), shared with the course archive format:
- `validate_spec(kind, spec)` raises SpecError naming the field path when a spec is malformed;
- `prepare_spec(kind, spec)` runs at publish time (new version): hashes flags, computes the
  expected outputs of code tests from the reference solution; returns the spec to store;
- `public_spec(kind, spec)` is what a learner may see (no answers, hashes, hidden tests or
  expected outputs)."""

from dataclasses import dataclass, field


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


def validate_spec(kind: str, spec) -> None:
    if not isinstance(spec, dict):
        raise SpecError("", "the spec must be a mapping")
    validate = getattr(_module(kind), "validate_spec", None)
    if validate:
        validate(spec)


def prepare_spec(kind: str, spec: dict) -> dict:
    prepare = getattr(_module(kind), "prepare_spec", None)
    return prepare(spec) if prepare else spec


def public_spec(kind: str, spec: dict) -> dict:
    public = getattr(_module(kind), "public_spec", None)
    return public(spec) if public else {}

"""One grader per assignment kind. A grader is a pure function of (spec, answer) that returns a
GradeResult; it never touches the database, so `try_grader` and the workers share it."""

from dataclasses import dataclass, field


class GraderError(Exception):
    """The grader itself could not grade (bad spec, sandbox broken): the submission fails with
    this reason for staff, and staff can retry it."""


@dataclass
class GradeResult:
    score: float
    max_score: float
    feedback: dict = field(default_factory=dict)
    staff_log: str = ""
    needs_review: bool = False


def get_grader(kind: str):
    from . import quiz

    graders = {"quiz": quiz.grade}
    try:
        return graders[kind]
    except KeyError:
        raise GraderError(f"no grader for assignment kind {kind!r}") from None

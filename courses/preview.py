"""The instructor's preview of an assignment, with "try it": the instructor answers as a learner
would, and the kind's own grader grades the answer at once, in the request (for code: the real
sandbox). Nothing is written: no submission, no grade, no notification, no event. Grading owns
submissions; this module only borrows the pure graders of assessment.kinds."""

import logging
import re
import secrets
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _

from assessment import kinds
from kernel.errors import PermissionDenied

from . import permissions
from .models import Assignment

log = logging.getLogger(__name__)

_SEED = re.compile(r"preview-[0-9a-f]{16}")


def preview_seed(value: str | None = None) -> str:
    """The seed of a preview's draw: `value` when it is one this module made (the form posts it
    back, so a try is graded on the questions it showed), otherwise a fresh random one."""
    if isinstance(value, str) and _SEED.fullmatch(value):
        return value
    return f"preview-{secrets.token_hex(8)}"


def preview_spec(*, kind: str, spec: dict, seed: str) -> dict:
    """The spec one attempt answers. A kind may draw or shuffle per attempt (an optional
    `attempt_spec(spec, seed)` on its Kind); the others answer the version's spec as it is."""
    found = kinds.find(kind)
    attempt_spec = getattr(found, "attempt_spec", None)
    return attempt_spec(spec, seed) if attempt_spec else spec


@dataclass
class TryResult:
    """What a try gives: the score scaled to the assignment's points and the grader's feedback,
    as a learner's graded submission shows them; or `needs_review` (an essay: an instructor
    grades it, `words` long); or `problem`, why the grader could not grade it now. `staff_log` is
    what the grader logged for staff (the sandbox's stderr), which a learner never reads."""

    score: Decimal = Decimal(0)
    max_score: Decimal = Decimal(0)
    feedback: dict = field(default_factory=dict)
    needs_review: bool = False
    words: int = 0
    problem: str = ""
    staff_log: str = ""

    @property
    def questions(self) -> list:
        """A quiz's feedback per question (the shared feedback include lists them)."""
        return list((self.feedback or {}).get("questions") or [])


def _scaled(score: float, max_score: float, points: Decimal) -> Decimal:
    """The grader's score as a share of the assignment's points, rounded as grading rounds it."""
    if max_score <= 0:
        return Decimal("0.00")
    share = Decimal(str(score)) / Decimal(str(max_score))
    return (share * points).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def assignment_try(*, user, assignment: Assignment, spec: dict, answer: dict) -> TryResult:
    """Validate `answer` as a learner's would be, then grade it on `spec` (the version's spec, or
    the attempt's from preview_spec) with the kind's grader, synchronously. Writes nothing.
    Raises PermissionDenied unless `user` edits the course, AnswerRefused (naming the learner
    form's field) for an answer a learner could not submit."""
    if not permissions.is_course_editor(user=user, course=assignment.course):
        raise PermissionDenied(_("Only this course's instructors and staff may edit it."))
    kinds.validate_answer(assignment.kind, spec, answer)
    try:
        result = kinds.get(assignment.kind).grade(spec, answer)
    except kinds.GraderUnavailable as exc:
        log.warning("try it: the sandbox is unavailable: %s", exc)
        return TryResult(
            problem=_("The code sandbox is not available right now, so this answer could not be run. Try again later.")
        )
    except kinds.GraderError as exc:
        return TryResult(problem=_("The grader could not grade this answer: %(reason)s") % {"reason": exc})
    except Exception:  # a grader's bug must give the instructor a message, not a 500
        log.exception("try it: the grader crashed")
        return TryResult(problem=_("The grader failed on this answer. Check the assignment's specification."))
    points = assignment.points.quantize(Decimal("0.01"))
    if result.needs_review:
        return TryResult(max_score=points, needs_review=True, words=int(result.feedback.get("words", 0)))
    return TryResult(
        score=_scaled(result.score, result.max_score, points),
        max_score=points,
        feedback=dict(result.feedback),
        staff_log=result.staff_log,
    )

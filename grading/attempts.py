"""The spec one attempt answers. A kind may give each attempt its own questions (a quiz drawing
from question banks, or shuffling them: Kind.attempt_spec); they are decided by the attempt's
seed alone, so the learner's form, the answer check at submission, the grader on the worker and
every regrade of that attempt see the same questions, and nothing needs storing."""

from assessment import kinds


def attempt_seed(*, version_id: int, user_id: int, attempt: int) -> str:
    """The seed of a learner's attempt at one assignment version: attempt 1 shows the same
    questions on every reload and is graded on them; attempt 2, or another learner, may differ."""
    return f"{version_id}:{user_id}:{attempt}"


def attempt_spec(*, kind: str, version, user_id: int, attempt: int) -> dict:
    """The spec (as stored, with its answers) this attempt of this learner answers."""
    seed = attempt_seed(version_id=version.pk, user_id=user_id, attempt=attempt)
    return kinds.attempt_spec(kind, version.spec, seed)


def submission_spec(submission) -> dict:
    """The spec a stored submission answered."""
    return attempt_spec(
        kind=submission.assignment.kind,
        version=submission.version,
        user_id=submission.user_id,
        attempt=submission.attempt,
    )

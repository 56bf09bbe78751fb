"""Grading's part of a learner's export and erasure, collected by the privacy app
(GradingConfig.privacy_export and .privacy_erase)."""

from .models import GradeRecord, Submission


def export(*, user) -> dict[str, list[dict]]:
    """The user's submissions: answers, scores and feedback."""
    return {
        "submissions": [
            {
                "id": s.pk,
                "course": s.assignment.course.code,
                "assignment": s.assignment.title,
                "attempt": s.attempt,
                "status": s.status,
                "answer": s.answer,
                "score": s.score,
                "max_score": s.max_score,
                "feedback": s.feedback,
                "submitted_at": s.submitted_at,
                "graded_at": s.graded_at,
            }
            for s in Submission.objects.filter(user=user).select_related("assignment__course").order_by("id")
        ],  # fmt: skip
    }


def erase(*, user, now, reason: str) -> None:
    """Wipe the free text and code of the user's submissions and the feedback of their grades;
    keep the scores (aggregates still count them)."""
    Submission.objects.filter(user=user).update(answer={}, feedback={}, staff_log="")
    GradeRecord.objects.filter(submission__user=user).update(feedback={}, reason="")

"""Quiz grader. Spec: {"questions": [{"id", "type": "single"|"multiple", "prompt", "choices":
[{"id", "text"}], "answer": [choice ids], "points", "feedback": {"correct", "incorrect"}}]}.
Answer: {question id: [choice ids]}."""

from . import GraderError, GradeResult


def grade(spec: dict, answer: dict) -> GradeResult:
    questions = spec.get("questions")
    if not isinstance(questions, list) or not questions:
        raise GraderError("quiz spec has no questions")
    total = 0.0
    earned = 0.0
    per_question = []
    for q in questions:
        points = float(q.get("points", 1))
        total += points
        expected = set(q.get("answer") or [])
        given = answer.get(q["id"]) if isinstance(answer, dict) else None
        given_set = set(given) if isinstance(given, list) else set()
        correct = given_set == expected
        if correct:
            earned += points
        fb = q.get("feedback") or {}
        per_question.append(
            {
                "id": q["id"],
                "correct": correct,
                "points": points if correct else 0.0,
                "out_of": points,
                "feedback": fb.get("correct" if correct else "incorrect", ""),
            }
        )
    return GradeResult(score=earned, max_score=total, feedback={"questions": per_question})

"""Quiz grader. Spec: {"questions": [{"id", "type": "single"|"multiple", "prompt", "choices":
[{"id", "text"}], "answer": [choice ids], "points", "feedback": {"correct", "incorrect"}}]}.
Answer: {question id: [choice ids]}."""

from . import GraderError, GradeResult, SpecError


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


def validate_spec(spec: dict) -> None:
    questions = spec.get("questions")
    if not isinstance(questions, list) or not questions:
        raise SpecError("questions", "a quiz needs at least one question")
    seen = set()
    for i, q in enumerate(questions):
        where = f"questions[{i}]"
        if not isinstance(q, dict) or not isinstance(q.get("id"), str) or not q["id"]:
            raise SpecError(f"{where}.id", "each question needs a text id")
        if q["id"] in seen:
            raise SpecError(f"{where}.id", f"duplicate question id {q['id']!r}")
        seen.add(q["id"])
        choices = q.get("choices")
        if not isinstance(choices, list) or len(choices) < 2:
            raise SpecError(f"{where}.choices", "a choice question needs at least two choices")
        ids = [c.get("id") for c in choices if isinstance(c, dict)]
        if len(ids) != len(choices) or len(set(ids)) != len(ids):
            raise SpecError(f"{where}.choices", "each choice needs a unique id")
        answer = q.get("answer")
        if not isinstance(answer, list) or not answer or not set(answer) <= set(ids):
            raise SpecError(f"{where}.answer", "the answer must list one or more of the choice ids")
        if q.get("type", "single") == "single" and len(answer) != 1:
            raise SpecError(f"{where}.answer", "a single-choice question has exactly one right answer")


def public_spec(spec: dict) -> dict:
    return {
        "questions": [
            {k: v for k, v in q.items() if k not in {"answer", "feedback"}} for q in spec.get("questions", [])
        ]
    }

"""Quiz grader. Question types: single, multiple (optional partial credit), numeric
(|given - value| <= tolerance) and text (accepted answers compared after normalization).
Answer: {question id: [choice ids] | "number" | "text"}.

Spec: `questions` (each with an optional `explanation`, shown once graded), the options
`shuffle_questions` and `shuffle_choices` (booleans) and `draws`, questions picked from the
course's bank: [{"tag": competency code, "count": N, "points": P}]. A quiz has at least one
question or one draw; the draws become questions when the quiz is published and attempted (the
bank's module, not this one)."""

import math
import re
import unicodedata

from django.utils.text import slugify
from django.utils.translation import gettext as _

from assessment.kinds.base import GraderError, GradeResult, SpecError, check_points

TYPES = {"single", "multiple", "numeric", "text"}


def normalize(text: str) -> str:
    """casefold, strip accents, collapse whitespace."""
    decomposed = unicodedata.normalize("NFKD", str(text).casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", stripped).strip()


def parse_number(value) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip().replace(",", ".").replace(" ", ""))
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _choice_score(q: dict, given, points: float) -> float:
    expected = set(q.get("answer") or [])
    if isinstance(given, str):
        given = [given]
    given_set = {g for g in given if isinstance(g, str)} if isinstance(given, list) else set()
    if given_set == expected:
        return points
    if q.get("type") == "multiple" and q.get("partial_credit"):
        right = len(given_set & expected)
        wrong = len(given_set - expected)
        return max(0.0, points * (right - wrong) / len(expected))
    return 0.0


def _question_score(q: dict, given, points: float) -> float:
    kind = q.get("type", "single")
    if kind in {"single", "multiple"}:
        return _choice_score(q, given, points)
    if kind == "numeric":
        number = parse_number(given)
        if number is None:
            return 0.0
        return points if abs(number - float(q["value"])) <= float(q.get("tolerance", 0)) + 1e-12 else 0.0
    if kind == "text":
        if not isinstance(given, str):
            return 0.0
        accepted = {normalize(a) for a in q.get("accepted", [])}
        return points if normalize(given) in accepted else 0.0
    raise GraderError(f"unknown question type {kind!r}")


def grade(spec: dict, answer: dict) -> GradeResult:
    questions = spec.get("questions")
    if not isinstance(questions, list) or not questions:
        raise GraderError("quiz spec has no questions")
    answer = answer if isinstance(answer, dict) else {}
    total = earned = 0.0
    per_question = []
    for q in questions:
        points = float(q.get("points", 1))
        total += points
        got = round(_question_score(q, answer.get(q["id"]), points), 4)
        earned += got
        correct = got >= points
        fb = q.get("feedback") or {}
        per_question.append(
            {
                "id": q["id"],
                "correct": correct,
                "partial": 0 < got < points,
                "points": got,
                "out_of": points,
                "feedback": fb.get("correct" if correct else "incorrect", ""),
                "explanation": q.get("explanation", ""),
            }
        )
    return GradeResult(score=earned, max_score=total, feedback={"questions": per_question})


def _check_draws(draws) -> None:
    if not isinstance(draws, list):
        raise SpecError("draws", _("draws must be a list of {tag, count, points}"))
    for i, d in enumerate(draws):
        where = f"draws[{i}]"
        if not isinstance(d, dict):
            raise SpecError(where, _("each draw needs a tag, a count and points"))
        tag = d.get("tag")
        if not isinstance(tag, str) or not tag or slugify(tag) != tag:
            raise SpecError(f"{where}.tag", _("the tag must be a competency code (a slug)"))
        count = d.get("count")
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise SpecError(f"{where}.count", _("the number of questions must be a whole number of 1 or more"))
        check_points(d.get("points", 1), f"{where}.points")


def validate_spec(spec: dict) -> None:
    if not isinstance(spec, dict):
        raise SpecError("", _("a quiz spec is a mapping"))
    questions = spec.get("questions", [])
    if not isinstance(questions, list):
        raise SpecError("questions", _("questions must be a list"))
    if "draws" in spec:
        _check_draws(spec["draws"])
    for key in ("shuffle_questions", "shuffle_choices"):
        if key in spec and not isinstance(spec[key], bool):
            raise SpecError(key, _("this option is true or false"))
    if not questions and not spec.get("draws"):
        raise SpecError("questions", _("a quiz needs at least one question or one draw from a question bank"))
    seen = set()
    for i, q in enumerate(questions):
        where = f"questions[{i}]"
        if not isinstance(q, dict) or not isinstance(q.get("id"), str) or not q["id"]:
            raise SpecError(f"{where}.id", _("each question needs a text id"))
        if q["id"] in seen:
            raise SpecError(f"{where}.id", _("duplicate question id %(id)s") % {"id": repr(q["id"])})
        seen.add(q["id"])
        kind = q.get("type", "single")
        if kind not in TYPES:
            raise SpecError(
                f"{where}.type", _("the type must be one of %(types)s") % {"types": ", ".join(sorted(TYPES))}
            )
        check_points(q.get("points", 1), f"{where}.points")
        if not isinstance(q.get("prompt", ""), str):
            raise SpecError(f"{where}.prompt", _("the prompt must be text"))
        if not isinstance(q.get("explanation", ""), str):
            raise SpecError(f"{where}.explanation", _("the explanation must be text"))
        if "feedback" in q and not isinstance(q["feedback"], dict):
            raise SpecError(f"{where}.feedback", _("feedback must be a mapping with correct and incorrect"))
        if kind in {"single", "multiple"}:
            choices = q.get("choices")
            if not isinstance(choices, list) or len(choices) < 2:
                raise SpecError(f"{where}.choices", _("a choice question needs at least two choices"))
            ids = [c.get("id") for c in choices if isinstance(c, dict)]
            if len(ids) != len(choices) or len(set(ids)) != len(ids) or not all(isinstance(x, str) for x in ids):
                raise SpecError(f"{where}.choices", _("each choice needs a unique text id"))
            answer = q.get("answer")
            if not isinstance(answer, list) or not answer or not set(answer) <= set(ids):
                raise SpecError(f"{where}.answer", _("the answer must list one or more of the choice ids"))
            if kind == "single" and len(answer) != 1:
                raise SpecError(f"{where}.answer", _("a single-choice question has exactly one right answer"))
        elif kind == "numeric":
            if parse_number(q.get("value")) is None or isinstance(q.get("value"), str):
                raise SpecError(f"{where}.value", _("a numeric question needs a number as its value"))
            tol = q.get("tolerance", 0)
            if isinstance(tol, bool) or not isinstance(tol, int | float) or tol < 0:
                raise SpecError(f"{where}.tolerance", _("the tolerance must be a number of 0 or more"))
        else:
            accepted = q.get("accepted")
            if not isinstance(accepted, list) or not accepted or not all(isinstance(a, str) and a for a in accepted):
                raise SpecError(f"{where}.accepted", _("a text question needs a list of accepted answers"))


def public_spec(spec: dict) -> dict:
    hidden = {"answer", "feedback", "value", "tolerance", "accepted", "partial_credit", "explanation"}
    return {"questions": [{k: v for k, v in q.items() if k not in hidden} for q in spec.get("questions", [])]}

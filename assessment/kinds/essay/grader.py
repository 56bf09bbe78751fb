"""Essay grader: nothing automatic. The submission goes to needs_review, and an instructor picks
one level per rubric criterion (in grading: submission_review).
Spec: {"rubric": {"criteria": [{"id", "title", "description", "levels": [{"id", "title",
"points", "description"}]}]}, "min_words": 0, "max_words": 1500, "model_answer": "..."}; a
criterion's and a level's description (what the level looks like: its descriptor) and the model
answer (graders see it beside the rubric; learners never do) are optional. Answer: {"text": "..."}."""

from django.utils.translation import gettext as _

from assessment.kinds.base import GradeResult, SpecError, check_points


def word_count(text: str) -> int:
    return len(text.split())


def max_points(spec: dict) -> float:
    return float(sum(max(level["points"] for level in c["levels"]) for c in spec["rubric"]["criteria"]))


def score_levels(spec: dict, chosen: dict[str, str]) -> tuple[float, list[dict]]:
    """Points for one chosen level id per criterion id. Raises KeyError naming a missing choice."""
    total = 0.0
    detail = []
    for c in spec["rubric"]["criteria"]:
        levels = {level["id"]: level for level in c["levels"]}
        level = levels[chosen[c["id"]]]
        total += float(level["points"])
        detail.append(
            {
                "id": c["id"],
                "title": c["title"],
                "level": level["id"],
                "level_title": level["title"],
                "points": float(level["points"]),
                "out_of": float(max(lv["points"] for lv in c["levels"])),
            }
        )
    return total, detail


def grade(spec: dict, answer: dict) -> GradeResult:
    text = answer.get("text", "") if isinstance(answer, dict) else ""
    return GradeResult(
        score=0.0,
        max_score=max_points(spec),
        feedback={"words": word_count(text)},
        needs_review=True,
    )


# The model answer graders see beside the rubric (never the learner: public_spec leaves it out).
MAX_MODEL_ANSWER_CHARS = 50_000


def validate_spec(spec: dict) -> None:
    rubric = spec.get("rubric")
    criteria = rubric.get("criteria") if isinstance(rubric, dict) else None
    if not isinstance(criteria, list) or not criteria:
        raise SpecError("rubric.criteria", _("an essay needs a rubric with at least one criterion"))
    seen = set()
    for i, c in enumerate(criteria):
        where = f"rubric.criteria[{i}]"
        if not isinstance(c, dict) or not isinstance(c.get("id"), str) or not c["id"] or c["id"] in seen:
            raise SpecError(f"{where}.id", _("each criterion needs a unique text id"))
        seen.add(c["id"])
        if not isinstance(c.get("title"), str) or not c["title"]:
            raise SpecError(f"{where}.title", _("each criterion needs a title"))
        if not isinstance(c.get("description", ""), str):
            raise SpecError(f"{where}.description", _("a description is text"))
        levels = c.get("levels")
        if not isinstance(levels, list) or not levels:
            raise SpecError(f"{where}.levels", _("each criterion needs at least one level"))
        level_ids = set()
        for j, level in enumerate(levels):
            lw = f"{where}.levels[{j}]"
            if not isinstance(level, dict) or not isinstance(level.get("id"), str) or level["id"] in level_ids:
                raise SpecError(f"{lw}.id", _("each level needs a unique text id"))
            level_ids.add(level["id"])
            if not isinstance(level.get("title"), str):
                raise SpecError(f"{lw}.title", _("each level needs a title"))
            if not isinstance(level.get("description", ""), str):
                raise SpecError(f"{lw}.description", _("a description is text"))
            check_points(level.get("points"), f"{lw}.points")
    if max_points(spec) <= 0:
        raise SpecError("rubric.criteria", _("the rubric's best levels must be worth more than 0 points"))
    model = spec.get("model_answer", "")
    if not isinstance(model, str) or len(model) > MAX_MODEL_ANSWER_CHARS:
        raise SpecError("model_answer", _("the model answer is text of at most 50,000 characters"))
    lo, hi = spec.get("min_words", 0), spec.get("max_words")
    if isinstance(lo, bool) or not isinstance(lo, int) or lo < 0:
        raise SpecError("min_words", _("must be a whole number of 0 or more"))
    if hi is not None and (isinstance(hi, bool) or not isinstance(hi, int) or hi < max(lo, 1)):
        raise SpecError("max_words", _("must be a whole number not below the minimum"))


def public_spec(spec: dict) -> dict:
    return {"rubric": spec.get("rubric"), "min_words": spec.get("min_words", 0), "max_words": spec.get("max_words")}

"""The questions one quiz attempt answers.

A quiz spec may draw questions from the course's question banks:

    draws: [{tag: <competency code>, count: N, points: P}]
    shuffle_questions: true       # optional, the order of the questions
    shuffle_choices: true         # optional, the order of each choice question's options

At publish time (courses) each drawn tag's bank is frozen into the version's spec under `pools`
({tag: [question]}, a derived key: never authored nor archived), so an attempt stays gradable
whatever the bank becomes. `attempt_spec(spec, seed)` then gives the attempt's questions: the
fixed ones, then `count` drawn from each draw's pool (with the draw's points; two draws on one
tag never draw the same question), shuffled if asked, all decided by the seed alone."""

import hashlib
import random

POOLS = "pools"


def _rng(seed: str) -> random.Random:
    # From a digest, not hash(): the same on every worker whatever PYTHONHASHSEED says.
    return random.Random(int.from_bytes(hashlib.sha256(seed.encode("utf-8")).digest()[:16], "big"))


def drawn_id(tag: str, question_id: str) -> str:
    """A drawn question's id in the attempt: prefixed by its tag, so it never collides with a
    fixed question's id or another bank's."""
    return f"{tag}:{question_id}"


def attempt_spec(spec: dict, seed: str) -> dict:
    """The spec an attempt answers: `questions` holds the fixed and the drawn questions, in the
    order the learner sees them; `draws` and `pools` are gone. Deterministic in (spec, seed)."""
    draws = spec.get("draws") or []
    if not draws and not spec.get("shuffle_questions") and not spec.get("shuffle_choices"):
        return spec
    rng = _rng(seed)
    questions = [dict(q) for q in spec.get("questions") or [] if isinstance(q, dict)]
    pools = spec.get(POOLS) or {}
    left: dict[str, list] = {}  # per tag, its pool in a random order, less what was drawn already
    for draw in draws if isinstance(draws, list) else []:
        if not isinstance(draw, dict) or not isinstance(draw.get("tag"), str):
            continue
        tag, count = draw["tag"], draw.get("count")
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            continue
        if tag not in left:
            pool = [q for q in pools.get(tag) or [] if isinstance(q, dict)]
            left[tag] = rng.sample(pool, len(pool))
        chosen, left[tag] = left[tag][:count], left[tag][count:]
        for q in chosen:
            q = {**q, "id": drawn_id(tag, str(q.get("id", "")))}
            if "points" in draw:
                q["points"] = draw["points"]
            questions.append(q)
    if spec.get("shuffle_questions"):
        rng.shuffle(questions)
    if spec.get("shuffle_choices"):
        for q in questions:
            if isinstance(q.get("choices"), list):
                q["choices"] = rng.sample(q["choices"], len(q["choices"]))
    out = {k: v for k, v in spec.items() if k not in {"draws", POOLS}}
    out["questions"] = questions
    return out

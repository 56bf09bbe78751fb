"""Flag grader (capture-the-flag exercises). The spec keeps only a salted SHA-256 of the flag;
comparison is constant-time. Spec: {"flag_hash": "sha256$<salt hex>$<digest hex>",
"case_sensitive": true, "max_wrong_per_hour": 10, "artifacts": ["auth.log"], "hints": [{"text": "...",
"after_wrong": 3}]}; authoring may give {"flag": "..."} instead, which prepare_spec replaces by its
hash. `artifacts` (optional) names course files the learner downloads; each of `hints` (optional)
is shown to a learner once they made `after_wrong` wrong attempts, never before. Answer:
{"flag": "..."}."""

import hashlib
import hmac
import secrets

from django.utils.translation import gettext as _

from assessment.kinds.base import GraderError, GradeResult, SpecError

DEFAULT_MAX_WRONG_PER_HOUR = 10


def hash_flag(flag: str, *, salt: str | None = None, case_sensitive: bool = True) -> str:
    salt = salt or secrets.token_hex(16)
    text = flag.strip() if case_sensitive else flag.strip().casefold()
    digest = hashlib.sha256(bytes.fromhex(salt) + text.encode("utf-8")).hexdigest()
    return f"sha256${salt}${digest}"


def check_flag(spec: dict, given: str) -> bool:
    try:
        algo, salt, digest = spec["flag_hash"].split("$")
        bytes.fromhex(salt)
    except (KeyError, ValueError, AttributeError):
        raise GraderError("flag spec has no valid flag_hash") from None
    if algo != "sha256":
        raise GraderError(f"unknown flag hash algorithm {algo!r}")
    candidate = hash_flag(given, salt=salt, case_sensitive=spec.get("case_sensitive", True)).split("$")[2]
    return hmac.compare_digest(candidate, digest)


def grade(spec: dict, answer: dict) -> GradeResult:
    given = answer.get("flag") if isinstance(answer, dict) else None
    ok = isinstance(given, str) and check_flag(spec, given)
    return GradeResult(score=1.0 if ok else 0.0, max_score=1.0, feedback={"flag": {"correct": ok}})


def max_wrong_per_hour(spec: dict) -> int:
    return int(spec.get("max_wrong_per_hour", DEFAULT_MAX_WRONG_PER_HOUR))


# Bounds an instructor never needs to pass: they keep a spec (and the learner's page) small.
MAX_HINTS = 20
MAX_HINT_CHARS = 2000
MAX_ARTIFACTS = 50
MAX_AFTER_WRONG = 1000


def validate_spec(spec: dict) -> None:
    has_flag = isinstance(spec.get("flag"), str) and spec["flag"].strip()
    has_hash = isinstance(spec.get("flag_hash"), str)
    if not has_flag and not has_hash:
        raise SpecError("flag", _("give the flag (or its flag_hash)"))
    if has_hash:
        parts = spec["flag_hash"].split("$")
        if len(parts) != 3 or parts[0] != "sha256":
            raise SpecError("flag_hash", _("expected sha256$<salt hex>$<digest hex>"))
        try:
            bytes.fromhex(parts[1])
            bytes.fromhex(parts[2])
        except ValueError:
            raise SpecError("flag_hash", _("salt and digest must be hexadecimal")) from None
    if not isinstance(spec.get("case_sensitive", True), bool):
        raise SpecError("case_sensitive", _("must be true or false"))
    limit = spec.get("max_wrong_per_hour", DEFAULT_MAX_WRONG_PER_HOUR)
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise SpecError("max_wrong_per_hour", _("must be a whole number of 1 or more"))
    _validate_artifacts(spec.get("artifacts", []))
    _validate_hints(spec.get("hints", []))


def _validate_artifacts(artifacts) -> None:
    """File names of the course (courses.models.CourseFile); that each exists is the course's
    check (the archive import, the builder's choices), as assessment cannot read courses."""
    if not isinstance(artifacts, list) or len(artifacts) > MAX_ARTIFACTS:
        raise SpecError("artifacts", _("expected a list of at most %(n)d file names") % {"n": MAX_ARTIFACTS})
    seen = set()
    for i, name in enumerate(artifacts):
        if not isinstance(name, str) or not name or "/" in name or "\\" in name or name in seen:
            raise SpecError(f"artifacts[{i}]", _("each artifact is the name of a course file, listed once"))
        seen.add(name)


def _validate_hints(hints) -> None:
    if not isinstance(hints, list) or len(hints) > MAX_HINTS:
        raise SpecError("hints", _("expected a list of at most %(n)d hints") % {"n": MAX_HINTS})
    for i, hint in enumerate(hints):
        where = f"hints[{i}]"
        if not isinstance(hint, dict):
            raise SpecError(where, _("each hint has a text and after_wrong"))
        text = hint.get("text")
        if not isinstance(text, str) or not text.strip():
            raise SpecError(f"{where}.text", _("each hint needs a text"))
        if len(text) > MAX_HINT_CHARS:
            raise SpecError(f"{where}.text", _("a hint is at most %(n)d characters") % {"n": MAX_HINT_CHARS})
        after = hint.get("after_wrong")
        if isinstance(after, bool) or not isinstance(after, int) or not 0 <= after <= MAX_AFTER_WRONG:
            raise SpecError(
                f"{where}.after_wrong", _("must be a whole number from 0 to %(n)d") % {"n": MAX_AFTER_WRONG}
            )


def unlocked_hints(spec: dict, *, wrong: int) -> list[str]:
    """The hints a learner who made `wrong` wrong attempts may read, in the spec's order."""
    return [h["text"] for h in spec.get("hints") or [] if h["after_wrong"] <= wrong]


def next_hint_after(spec: dict, *, wrong: int) -> int | None:
    """How many more wrong attempts unlock the next hint (None: no hint left to unlock)."""
    waiting = [h["after_wrong"] - wrong for h in spec.get("hints") or [] if h["after_wrong"] > wrong]
    return min(waiting) if waiting else None


def extras(spec: dict, *, wrong: int) -> dict:
    """What a flag's page shows beside the prompt for a learner with `wrong` wrong attempts: the
    attached files, the hints unlocked and how many more wrong flags unlock the next one. Locked
    hints never leave this function."""
    return {
        "artifacts": list(spec.get("artifacts") or []),
        "hints": unlocked_hints(spec, wrong=wrong),
        "next_hint_after": next_hint_after(spec, wrong=wrong),
        "wrong": wrong,
    }


def prepare_spec(spec: dict) -> dict:
    spec = dict(spec)
    flag = spec.pop("flag", None)
    if isinstance(flag, str) and flag.strip():
        spec["flag_hash"] = hash_flag(flag, case_sensitive=spec.get("case_sensitive", True))
    spec.setdefault("case_sensitive", True)
    spec.setdefault("max_wrong_per_hour", DEFAULT_MAX_WRONG_PER_HOUR)
    return spec


def public_spec(spec: dict) -> dict:
    """What a learner may see: never the flag nor its hash, and no hint (which hints a learner has
    unlocked depends on their wrong attempts: the grading app asks unlocked_hints)."""
    public = {"case_sensitive": spec.get("case_sensitive", True)}
    if spec.get("artifacts"):
        public["artifacts"] = list(spec["artifacts"])
    return public

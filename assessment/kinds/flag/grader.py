"""Flag grader (capture-the-flag exercises). The spec keeps only a salted SHA-256 of the flag;
comparison is constant-time. Spec: {"flag_hash": "sha256$<salt hex>$<digest hex>",
"case_sensitive": true, "max_wrong_per_hour": 10}; authoring may give {"flag": "..."} instead,
which prepare_spec replaces by its hash. Answer: {"flag": "..."}."""

import hashlib
import hmac
import secrets

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


def validate_spec(spec: dict) -> None:
    has_flag = isinstance(spec.get("flag"), str) and spec["flag"].strip()
    has_hash = isinstance(spec.get("flag_hash"), str)
    if not has_flag and not has_hash:
        raise SpecError("flag", "give the flag (or its flag_hash)")
    if has_hash:
        parts = spec["flag_hash"].split("$")
        if len(parts) != 3 or parts[0] != "sha256":
            raise SpecError("flag_hash", "expected sha256$<salt hex>$<digest hex>")
        try:
            bytes.fromhex(parts[1])
            bytes.fromhex(parts[2])
        except ValueError:
            raise SpecError("flag_hash", "salt and digest must be hexadecimal") from None
    if not isinstance(spec.get("case_sensitive", True), bool):
        raise SpecError("case_sensitive", "must be true or false")
    limit = spec.get("max_wrong_per_hour", DEFAULT_MAX_WRONG_PER_HOUR)
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise SpecError("max_wrong_per_hour", "must be a whole number of 1 or more")


def prepare_spec(spec: dict) -> dict:
    spec = dict(spec)
    flag = spec.pop("flag", None)
    if isinstance(flag, str) and flag.strip():
        spec["flag_hash"] = hash_flag(flag, case_sensitive=spec.get("case_sensitive", True))
    spec.setdefault("case_sensitive", True)
    spec.setdefault("max_wrong_per_hour", DEFAULT_MAX_WRONG_PER_HOUR)
    return spec


def public_spec(spec: dict) -> dict:
    return {"case_sensitive": spec.get("case_sensitive", True)}

"""The kind registry: one folder per assignment kind (assessment/kinds/<kind>/) gives its spec
validation, answer validation, grader and learner form as one `Kind` (see base.Kind). Adding a
kind is adding its folder: every package here that defines KIND is registered. Graders are pure
functions of (spec, answer) that never touch the database, so `try_grader` and the workers share
them.

The spec contract (AssignmentVersion.spec), shared with the course archive format:
- `validate_spec(kind, spec)` raises SpecError naming the field path when a spec is malformed;
- `prepare_spec(kind, spec)` runs at publish time (new version): hashes flags, computes the
  expected outputs of code tests from the reference solution; returns the spec to store. It needs
  nothing of the machine: what needs the sandbox is left out when the sandbox cannot run here;
- `complete_spec(kind, spec)` gives the stored spec with what prepare_spec left out (or None):
  grading runs it before grading and stores the result with the version;
- `public_spec(kind, spec)` is what a learner may see (no answers, hashes, hidden tests or
  expected outputs);
- `editable_spec(kind, spec)` is what an instructor edits and an archive carries: the spec
  without the keys prepare_spec derives;
- `attempt_spec(kind, spec, seed)` is the spec one attempt answers (drawn and shuffled questions),
  the same for the same seed: the learner form, answer check and grader of an attempt use it."""

import importlib
import pkgutil

from django.utils.translation import gettext as _

from .base import (
    MAX_POINTS,
    AnswerRefused,
    BuilderContext,
    GraderError,
    GradeResult,
    GraderUnavailable,
    Kind,
    SpecError,
    _non_finite,
    check_points,
    content_attrs,
)

__all__ = [
    "KINDS",
    "MAX_POINTS",
    "AnswerRefused",
    "BuilderContext",
    "GradeResult",
    "GraderError",
    "GraderUnavailable",
    "Kind",
    "SpecError",
    "attempt_spec",
    "check_points",
    "complete_spec",
    "content_attrs",
    "editable_spec",
    "feedback_notices",
    "find",
    "get",
    "get_grader",
    "grades_at_once",
    "prepare_spec",
    "public_spec",
    "validate_answer",
    "uses_sandbox",
    "validate_spec",
]


def _discover() -> dict[str, Kind]:
    found = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.ispkg:
            kind = getattr(importlib.import_module(f"{__name__}.{info.name}"), "KIND", None)
            if isinstance(kind, Kind):
                found[kind.name] = kind
    return found


KINDS: dict[str, Kind] = _discover()


def find(kind: str) -> Kind | None:
    return KINDS.get(kind)


def get(kind: str) -> Kind:
    try:
        return KINDS[kind]
    except KeyError:
        raise GraderError(f"no grader for assignment kind {kind!r}") from None


def uses_sandbox(kind: str) -> bool:
    """Whether the kind's grader runs learner code in the sandbox (False for an unknown kind)."""
    found = find(kind)
    return bool(found and found.uses_sandbox)


def grades_at_once(kind: str) -> bool:
    """Whether the kind's grader is quick, pure Python (Kind.grades_at_once; False when unknown)."""
    found = find(kind)
    return bool(found and found.grades_at_once)


def get_grader(kind: str):
    return get(kind).grade


def validate_spec(kind: str, spec) -> None:
    if not isinstance(spec, dict):
        raise SpecError("", "the spec must be a mapping")
    bad = _non_finite(spec)
    if bad is not None:
        raise SpecError(bad, _("must be a finite number (not NaN or infinity)"))
    get(kind).validate_spec(spec)


def prepare_spec(kind: str, spec: dict) -> dict:
    prepare = get(kind).prepare_spec
    return prepare(spec) if prepare else spec


def complete_spec(kind: str, spec: dict) -> dict | None:
    """The spec with the derived keys prepare_spec left out, or None when none is missing. Raises
    GraderUnavailable when what computes them (the sandbox) cannot run, GraderError otherwise."""
    found = find(kind)
    complete = found.complete_spec if found else None
    return complete(spec) if complete else None


def public_spec(kind: str, spec: dict) -> dict:
    public = get(kind).public_spec
    return public(spec) if public else {}


def editable_spec(kind: str, spec: dict) -> dict:
    """The spec without its derived keys (any kind, known or not: nothing is derived then)."""
    found = find(kind)
    derived = found.derived_keys if found else ()
    return {k: v for k, v in (spec or {}).items() if k not in derived}


def attempt_spec(kind: str, spec: dict, seed: str) -> dict:
    """The spec the attempt with this seed answers (the stored spec for a kind without draws)."""
    found = find(kind)
    if found is None or found.attempt_spec is None:
        return spec
    return found.attempt_spec(spec, seed)


def answer_review(kind: str, spec: dict, answer, *, reveal: bool) -> dict:
    """The kind's `review` of a graded answer ({} for a kind without one, or unknown)."""
    found = find(kind)
    if found is None or found.review is None:
        return {}
    return found.review(spec, answer, reveal)


def validate_answer(kind: str, spec: dict, answer) -> None:
    """Raise AnswerRefused (naming the learner form's field) unless `answer` can be submitted."""
    if not isinstance(answer, dict):
        raise AnswerRefused(_("The answer is not in the expected form."), field="answer")
    found = find(kind)
    if found is not None:  # no kind, no rule on the answer: its grader will fail, for staff to see
        found.validate_answer(spec, answer)


def feedback_notices(feedback) -> list[str]:
    """The messages of a grader's feedback, in the active language: each stored code rendered by
    its kind (`"code.load_error"` by the code kind's `notice_text`); feedback stored as a sentence
    before the codes existed (`"message"`) is shown as written."""
    if not isinstance(feedback, dict):
        return []
    texts = []
    old = feedback.get("message")
    if isinstance(old, str) and old:
        texts.append(old)
    for item in feedback.get("messages") or []:
        if not isinstance(item, dict) or not isinstance(item.get("code"), str):
            continue
        kind, _sep, code = item["code"].partition(".")
        found = find(kind)
        params = item.get("params") if isinstance(item.get("params"), dict) else {}
        text = found.notice_text(code, params) if found and found.notice_text else ""
        if text:
            texts.append(text)
    return texts

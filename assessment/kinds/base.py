"""What every kind shares: the grade a grader returns, the errors a kind raises, the points bound
of a spec, and `Kind`, the one record per kind that the registry (assessment.kinds) collects."""

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from kernel.errors import ApplicationError

# Points of one question, rubric level...: a weight, so anything this large is a typo. It keeps
# every kind's total finite, and the score scaled to the assignment's points (at most 99,999.99)
# computable.
MAX_POINTS = 10_000


class GraderError(Exception):
    """The grader itself could not grade (bad spec, sandbox broken): the submission fails with
    this reason for staff, and staff can retry it."""


class GraderUnavailable(Exception):
    """The grader cannot run on this worker right now (the sandbox is broken): the submission
    goes back to queued, untouched, and waits for a worker whose sandbox works (fail closed)."""


class SpecError(ValueError):
    """A spec is malformed. `path` names the field, e.g. `questions[2].choices`."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message


class AnswerRefused(ApplicationError):
    """An answer that is not in the form its kind expects (empty, too long...): `field` names the
    learner form's field, and the message is for the learner."""


@dataclass
class GradeResult:
    score: float
    max_score: float
    feedback: dict = field(default_factory=dict)
    staff_log: str = ""
    needs_review: bool = False


def _non_finite(value, path: str = "") -> str | None:
    """The path of the first NaN or infinite number in a spec (the database refuses to store
    them, and they make no grade), or None."""
    if isinstance(value, float) and not math.isfinite(value):
        return path
    if isinstance(value, dict):
        items = ((f"{path}.{k}" if path else str(k), v) for k, v in value.items())
    elif isinstance(value, list | tuple):
        items = ((f"{path}[{i}]", v) for i, v in enumerate(value))
    else:
        return None
    for sub_path, sub_value in items:
        found = _non_finite(sub_value, sub_path)
        if found is not None:
            return found
    return None


def check_points(value, path: str) -> None:
    """A weight in a spec: a number from 0 to MAX_POINTS (SpecError naming `path` otherwise)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= MAX_POINTS:
        raise SpecError(path, _("points must be a number from 0 to %(max)s") % {"max": f"{MAX_POINTS:,}"})


@dataclass(frozen=True)
class Kind:
    """Everything about one assignment kind, given by its folder (assessment/kinds/<name>/):
    - `validate_spec(spec)` raises SpecError (naming the field path) when a spec is malformed;
    - `prepare_spec(spec)` runs at publish time (a new version): hashes flags, computes the
      expected outputs of code tests from the reference solution; returns the spec to store;
    - `public_spec(spec)` is what a learner may see (no answers, hashes, hidden tests or
      expected outputs), with what the learner's page needs ready to write (code: each public
      test's arguments as JSON text or DataFrame tables, `shown`);
    - `validate_answer(spec, answer)` raises AnswerRefused when the answer cannot be submitted;
    - `grade(spec, answer)` returns a GradeResult, a pure function (no database);
    - `learner_form` is the form a learner answers with (`form.answer()` gives the answer);
    - `complete_spec(spec)` gives the spec with the derived keys prepare_spec had to leave out
      (a code assignment published where the sandbox could not run has no expected outputs), or
      None when nothing is missing; run by grading before it grades, which stores the result;
    - `derived_keys`: spec keys that prepare_spec computes, so never authored, edited nor
      carried by a course archive (the archive format of a kind is its spec without them);
    - `builder` is the instructor's authoring form for the kind (see `Builder` below), None for a
      kind authored only as source (YAML);
    - `attempt_spec(spec, seed)` is the spec one attempt answers (a quiz's questions drawn from
      its pools and shuffled), a pure function of the stored spec and the attempt's seed, so the
      learner's form, the answer check and every grading of that attempt see the same questions;
      None: every attempt answers the stored spec;
    - `notice_text(code, params)` renders, in the active language, a message the grader stored in
      the feedback as `{"code": "<kind>.<code>", "params": {...}}` (see `feedback_notices`);
    - `review(attempt_spec, answer, reveal)` is what a learner reads back per question once graded:
      {question id: {"answer": their answer in words, "right_answer": the right one in words when
      `reveal` (the assignment's policy allows it), else None}}; None for a kind with no questions;
    - `body_template`: the template of the kind's own section on the learner's page, before the
      answer form (a SQL dataset's tables, a release's targets), given course, assignment and
      public (its public_spec); None: the page shows the prompt and the form only;
    - `feedback_template`: the template that shows the kind's own part of a graded answer's
      feedback (a grader that names it sets `feedback["kind"]` to the kind's name), given
      feedback and language (the course's); None: the page shows the score and the notices;
    - `uses_sandbox`: its grader runs learner code in the sandbox (code, a SQL query...), so its
      submissions go to the sandbox queue, which only workers whose sandbox passed its self-test
      consume (grading.services.enqueue_grading);
    - `grades_at_once`: its grader is pure, quick Python on the answer (a quiz, a flag): the worker
      claims, grades and records it in one transaction under the row lock, with no lease to keep
      (grading.services.submission_grade)."""

    name: str
    grade: Callable[[dict, dict], GradeResult]
    validate_spec: Callable[[dict], None]
    validate_answer: Callable[[dict, dict], None]
    learner_form: type
    prepare_spec: Callable[[dict], dict] | None = None
    complete_spec: Callable[[dict], dict | None] | None = None
    public_spec: Callable[[dict], dict] | None = None
    derived_keys: tuple[str, ...] = ()
    builder: type | None = None
    attempt_spec: Callable[[dict, str], dict] | None = None
    notice_text: Callable[[str, dict], str] | None = None
    review: Callable[[dict, dict, bool], dict] | None = None
    body_template: str | None = None
    feedback_template: str | None = None
    uses_sandbox: bool = False
    grades_at_once: bool = False


@dataclass
class BuilderContext:
    """What a builder may offer from the course around the assignment (assessment cannot read
    courses: the authoring view fills this in):
    - `tags`: the course's question-bank tags, [(competency code, label, number of questions)];
    - `files`: the course's attached files, [(name, size in bytes)];
    - `read_file(name) -> bytes | None`: a course file's content (a CSV dataset picked into a test);
    - `language`: the course's language ("fr", "ar", "en"), the language of its content fields
      (see content_attrs); "" when unknown."""

    tags: list = field(default_factory=list)
    files: list = field(default_factory=list)
    read_file: Callable[[str], bytes | None] = lambda name: None
    language: str = ""


def content_attrs(context: BuilderContext, **attrs) -> dict:
    """The widget attrs of a builder field whose text is course content (a prompt, a choice, a
    hint...): the course's language, and the direction its own text decides (dir=auto), so a
    French course's text reads left to right in the Arabic studio, and Arabic text right to left
    in the French one. Code, ids and numbers keep dir="ltr" instead."""
    return {**attrs, **({"lang": context.language} if context.language else {}), "dir": "auto"}


# The Builder contract (assessment/kinds/<kind>/builder.py defines `Builder`, a django Form):
#   Builder(data=None, files=None, *, spec=None, context=BuilderContext())
#     unbound: shows `spec` (an editable spec: no derived keys), or a starter when spec is None;
#     bound: the posted fields.
#   Builder.data_from_spec(spec) -> dict        the POST data that stands for `spec`
#   builder.edit_action() -> bool               a row operation was asked (POST key
#     "builder_action": add, duplicate, delete, move...): it is applied, the form re-renders
#     with the new rows and nothing is saved
#   builder.to_spec() -> dict                   after is_valid(): the spec, keys in canonical order
#   builder.add_spec_error(exc: SpecError)      the message on the field exc.path names
#   Builder.template_name                       renders the fields, inside the page's <form>
# Round trip: Builder(data=Builder.data_from_spec(s)).to_spec() == s for any valid spec s.

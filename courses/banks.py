"""Question banks: a course's questions tagged by competency, which its quizzes draw from.

A bank is one QuestionBank row per (course, competency), its questions in the quiz kind's
question format and checked by the quiz kind's own rules. Quizzes never read a bank when they
are answered: publishing a quiz version freezes the banks it draws from into the version's spec
(`pools`, see assessment.kinds.quiz.attempt), so editing or deleting a bank changes what the
next version draws, never what an attempt already answered."""

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from assessment import kinds
from assessment.kinds.quiz.attempt import POOLS
from kernel.errors import ApplicationError, PermissionDenied

from . import permissions
from .models import Competency, Course, QuestionBank

QUIZ = "quiz"


# --- reads ---------------------------------------------------------------------------------------


def bank_list(*, course: Course) -> list[QuestionBank]:
    """The course's banks, by tag, each with its competency. One query."""
    return list(QuestionBank.objects.filter(course=course).select_related("competency").order_by("competency__code"))


def bank_get(*, course: Course, tag: str) -> QuestionBank | None:
    return QuestionBank.objects.filter(course=course, competency__code=tag).select_related("competency").first()


def bank_tags(*, course: Course) -> list[tuple[str, str, int]]:
    """[(competency code, its name, number of questions)]: what a quiz builder offers to draw."""
    return [(b.competency.code, b.competency.name, len(b.questions)) for b in bank_list(course=course)]


# --- checks ----------------------------------------------------------------------------------------


def validate_questions(questions) -> None:
    """A bank's questions by the quiz kind's rules; SpecError naming `questions[i].field`."""
    if not isinstance(questions, list):
        raise kinds.SpecError("questions", _("expected a list of questions"))
    kinds.validate_spec(QUIZ, {"questions": questions})


def _draw_error(path: str, message: str) -> ApplicationError:
    return ApplicationError(message, field=f"spec.{path}")


def draw_pools(*, course: Course | None, spec: dict) -> dict:
    """The spec of a quiz version to publish, with its `pools`: for each tag its `draws` name,
    a snapshot of the course's bank. Refused (a field error on spec.draws[i]...) when a draw is
    malformed, names a tag with no bank, or asks more questions than the bank holds. A spec
    without draws comes back without pools."""
    spec = {k: v for k, v in spec.items() if k != POOLS}  # derived: never taken from the author
    draws = spec.get("draws")
    if draws is None or draws == []:
        return spec
    if not isinstance(draws, list):
        raise _draw_error("draws", _("expected a list of draws"))
    wanted: dict[str, int] = {}
    for i, draw in enumerate(draws):
        where = f"draws[{i}]"
        if not isinstance(draw, dict):
            raise _draw_error(where, _("each draw needs a tag and a count"))
        tag, count = draw.get("tag"), draw.get("count")
        if not isinstance(tag, str) or not tag:
            raise _draw_error(f"{where}.tag", _("name the competency to draw from"))
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise _draw_error(f"{where}.count", _("the count must be a whole number of 1 or more"))
        if "points" in draw:
            try:
                kinds.check_points(draw["points"], f"{where}.points")
            except kinds.SpecError as exc:
                raise _draw_error(exc.path, exc.message) from exc
        wanted[tag] = wanted.get(tag, 0) + count
    banks = {}
    if course is not None:
        banks = {
            b.competency.code: b
            for b in QuestionBank.objects.filter(course=course, competency__code__in=wanted).select_related(
                "competency"
            )
        }
    for i, draw in enumerate(draws):
        bank = banks.get(draw["tag"])
        have = len(bank.questions) if bank else 0
        if have < wanted[draw["tag"]]:
            if bank is None:
                message = _("this course has no question bank tagged %(tag)s") % {"tag": draw["tag"]}
                raise _draw_error(f"draws[{i}].tag", message)
            message = ngettext(
                "the bank %(tag)s holds %(have)d question, fewer than the %(want)d drawn",
                "the bank %(tag)s holds %(have)d questions, fewer than the %(want)d drawn",
                have,
            ) % {
                "tag": draw["tag"],
                "have": have,
                "want": wanted[draw["tag"]],
            }
            raise _draw_error(f"draws[{i}].count", message)
    return {**spec, POOLS: {tag: banks[tag].questions for tag in sorted(wanted)}}


# --- writes ----------------------------------------------------------------------------------------


def _require_editor(*, user, course: Course) -> None:
    if not permissions.is_course_editor(user=user, course=course):
        raise PermissionDenied(_("Only this course's instructors and staff may edit it."))


@transaction.atomic
def question_bank_save(*, user, course: Course, competency: Competency, questions: list) -> QuestionBank:
    """Replace the questions of the course's bank on `competency` (creating it), after the quiz
    kind's checks (a field error on questions[i]... otherwise). Published quiz versions keep the
    questions they froze; the next version of a quiz drawing from it draws from these."""
    _require_editor(user=user, course=course)
    try:
        validate_questions(questions)
    except kinds.SpecError as exc:
        raise ApplicationError(exc.message, field=exc.path or "questions") from exc
    bank, _created = QuestionBank.objects.select_for_update().get_or_create(
        course=course, competency=competency, defaults={"questions": questions}
    )
    if not _created:
        bank.questions = questions
        bank.save(update_fields=["questions", "updated_at"])
    return bank


@transaction.atomic
def question_bank_delete(*, user, course: Course, competency: Competency) -> bool:
    """Delete the course's bank on `competency`. Quiz versions already published keep their
    snapshot; a new version still drawing from it is refused. Returns whether one existed."""
    _require_editor(user=user, course=course)
    deleted, _detail = QuestionBank.objects.filter(course=course, competency=competency).delete()
    return bool(deleted)

"""What an essay must be to be submitted: text, within the spec's word limits."""

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from assessment.kinds.base import AnswerRefused

from .grader import word_count

MAX_ESSAY_CHARS = 100 * 1024


def validate_answer(spec: dict, answer: dict) -> None:
    text = answer.get("text")
    if not isinstance(text, str) or not text.strip():
        raise AnswerRefused(_("Write your essay before submitting."), field="text")
    words = word_count(text)
    lo, hi = spec.get("min_words", 0) or 0, spec.get("max_words")
    if len(text) > MAX_ESSAY_CHARS or (hi and words > hi):
        raise AnswerRefused(
            ngettext(
                "Your essay has %(n)d word; the limit is %(max)d.",
                "Your essay has %(n)d words; the limit is %(max)d.",
                words,
            )
            % {"n": words, "max": hi or 0},
            field="text",
        )
    if words < lo:
        raise AnswerRefused(
            ngettext(
                "Your essay has %(n)d word; write at least %(min)d.",
                "Your essay has %(n)d words; write at least %(min)d.",
                words,
            )
            % {"n": words, "min": lo},
            field="text",
        )

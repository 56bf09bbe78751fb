"""What a code answer must be to be submitted: code, of at most 64 KB."""

from django.utils.translation import gettext as _

from assessment.kinds.base import AnswerRefused

MAX_CODE_CHARS = 64 * 1024


def validate_answer(spec: dict, answer: dict) -> None:
    code = answer.get("code")
    if not isinstance(code, str) or not code.strip():
        raise AnswerRefused(_("Write your code before submitting."), field="code")
    if len(code) > MAX_CODE_CHARS:
        raise AnswerRefused(_("Your code is too long (64 KB at most)."), field="code")

"""What a flag answer must be to be submitted: a flag, of at most 500 characters."""

from django.utils.translation import gettext as _

from assessment.kinds.base import AnswerRefused


def validate_answer(spec: dict, answer: dict) -> None:
    flag = answer.get("flag")
    if not isinstance(flag, str) or not flag.strip():
        raise AnswerRefused(_("Enter the flag."), field="flag")
    if len(flag) > 500:
        raise AnswerRefused(_("A flag is at most 500 characters."), field="flag")

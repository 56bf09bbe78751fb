"""What a deid answer must be to be submitted: {"csv": text} or {"code": text}, as the spec's
answer mode allows, within the caps (the grader checks them again: try_grader skips this)."""

from django.utils.translation import gettext as _

from assessment.kinds.base import AnswerRefused

from . import grader, table


def validate_answer(spec: dict, answer: dict) -> None:
    mode = spec.get("answer_mode", "either")
    csv_text, code = answer.get("csv"), answer.get("code")
    has_csv = isinstance(csv_text, str) and bool(csv_text.strip())
    has_code = isinstance(code, str) and bool(code.strip())
    if has_csv and has_code:
        raise AnswerRefused(_("Submit either a table or code, not both."), field="csv")
    if mode == "code" or (mode == "either" and has_code):
        if not has_code:
            raise AnswerRefused(_("Write your code before submitting."), field="code")
        if len(code) > grader.MAX_CODE_CHARS:
            raise AnswerRefused(_("Your code is too long (64 KB at most)."), field="code")
        return
    if not has_csv:
        raise AnswerRefused(_("Paste your released table (CSV) before submitting."), field="csv")
    if len(csv_text) > table.MAX_CHARS:
        raise AnswerRefused(
            _("Your table is too large (%(max)s characters at most).") % {"max": table.MAX_CHARS}, field="csv"
        )

"""What a quiz answer must be to be submitted: every question answered."""

from django.utils.translation import gettext as _

from assessment.kinds.base import AnswerRefused


def validate_answer(spec: dict, answer: dict) -> None:
    ids = [q["id"] for q in spec.get("questions", [])]
    if any(answer.get(qid) in (None, "", []) for qid in ids):
        raise AnswerRefused(_("Answer every question before submitting."), field="answer")

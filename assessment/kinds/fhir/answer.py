"""What a FHIR answer must be to be submitted: JSON text within the limits (source.py), a JSON
object of the resource type the exercise asks for. Whether it is valid FHIR is the grader's
question: the learner is graded, and sees every problem by element path."""

from assessment.kinds.base import AnswerRefused

from . import grader, source
from .messages import notice_text


def validate_answer(spec: dict, answer: dict) -> None:
    try:
        grader.read(spec, answer.get("resource"))
    except source.Refused as exc:
        raise AnswerRefused(notice_text(exc.code, exc.params), field="resource") from None

"""What a SQL answer must be to be submitted: one query, of at most 20,000 characters."""

from django.utils.translation import gettext as _

from assessment.kinds.base import AnswerRefused

from .limits import MAX_QUERY_CHARS


def validate_answer(spec: dict, answer: dict) -> None:
    query = answer.get("query")
    if not isinstance(query, str) or not query.strip():
        raise AnswerRefused(_("Write your query before submitting."), field="query")
    if len(query) > MAX_QUERY_CHARS:
        raise AnswerRefused(_("Your query is too long (20,000 characters at most)."), field="query")
    if "\x00" in query:
        raise AnswerRefused(_("Your query holds a NUL character."), field="query")

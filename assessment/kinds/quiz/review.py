"""What a learner reads back after a quiz is graded, per question: the answer they gave, in words
(the chosen options' texts, the number or text typed), and, when the assignment's policy reveals
them, the right answer. A pure function of the attempt's spec and the answer (no database)."""

from django.utils.translation import gettext as _


def _choice_texts(q: dict, ids) -> list[str]:
    texts = {c.get("id"): str(c.get("text", "")) for c in q.get("choices") or [] if isinstance(c, dict)}
    if isinstance(ids, str):
        ids = [ids]
    return [texts[i] for i in (ids if isinstance(ids, list) else []) if i in texts]


def _given(q: dict, given) -> str:
    kind = q.get("type", "single")
    if kind in {"single", "multiple"}:
        return ", ".join(_choice_texts(q, given))
    return str(given).strip() if isinstance(given, str | int | float) and not isinstance(given, bool) else ""


def _right(q: dict) -> str:
    kind = q.get("type", "single")
    if kind in {"single", "multiple"}:
        return ", ".join(_choice_texts(q, q.get("answer") or []))
    if kind == "numeric":
        value, tolerance = q.get("value"), q.get("tolerance") or 0
        if tolerance:
            return _("%(value)s (± %(tolerance)s)") % {"value": value, "tolerance": tolerance}
        return str(value)
    if kind == "text":
        return " / ".join(str(a) for a in q.get("accepted") or [])
    return ""


def review(spec: dict, answer: dict, reveal: bool) -> dict:
    """{question id: {"answer": what the learner gave, in words ("" for no answer), "right_answer":
    the right answer in words when `reveal`, else None}} for the questions of `spec` (the
    attempt's own spec: its drawn and shuffled questions)."""
    answer = answer if isinstance(answer, dict) else {}
    out = {}
    for q in spec.get("questions") or []:
        if not isinstance(q, dict) or "id" not in q:
            continue
        out[q["id"]] = {"answer": _given(q, answer.get(q["id"])), "right_answer": _right(q) if reveal else None}
    return out

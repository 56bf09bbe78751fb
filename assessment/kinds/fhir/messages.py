"""The words of the fhir kind's stored codes, rendered in the active language when a page is made:
the grader stores `{"code": "fhir.<name>", "params": {...}}` notices and failures
`{"path", "code", "params"}`, never a sentence (a worker's language is nobody's). The detail of a
schema error comes from pydantic in English; the sentence around it is in the reader's language."""

from django.utils.translation import gettext as _


def notice_text(code: str, params: dict) -> str:
    """One notice or failure of a FHIR answer's feedback; "" for a code this version does not know."""
    p = params if isinstance(params, dict) else {}
    texts = {
        # The answer could not be read (refused before any parsing, or not the resource asked for).
        "too_large": lambda: _("The JSON is too large (%(limit)s KB at most).") % {"limit": p.get("limit", "")},
        "encoding": lambda: _("The text is not valid UTF-8 (it holds bytes or characters that are not text)."),
        "nul": lambda: _("The text holds a NUL character, which JSON text cannot hold."),
        "too_deep": lambda: (
            _("The JSON is nested too deeply (%(limit)s levels at most).") % {"limit": p.get("limit", "")}
        ),
        "too_many": lambda: _("The JSON has too many elements (%(limit)s at most).") % {"limit": p.get("limit", "")},
        "string_too_long": lambda: (
            _("A text value of the JSON is too long (%(limit)s characters at most).") % {"limit": p.get("limit", "")}
        ),
        "empty": lambda: _("Write the resource in JSON before submitting."),
        "not_json": lambda: (
            _("This is not valid JSON (line %(line)s, column %(column)s).")
            % {"line": p.get("line", ""), "column": p.get("column", "")}
        ),
        "duplicate_key": lambda: (
            _("The element %(key)s is written twice in the same object.") % {"key": p.get("key", "")}
        ),
        "constant": lambda: _("%(value)s is not a JSON number.") % {"value": p.get("value", "")},
        "not_object": lambda: _('A FHIR resource is a JSON object: it starts with { and has a "resourceType".'),
        "wrong_type": lambda: (
            _("Expected a resource of type %(expected)s, found %(found)s.")
            % {"expected": p.get("expected", ""), "found": p.get("found") or _("no resourceType")}
        ),
        "invalid_schema": lambda: _("The resource is not valid FHIR: it earns no point until it is."),
        "more_failures": lambda: _("…and %(n)s more problems.") % {"n": p.get("n", "")},
        # Failures, each shown next to its element path.
        "missing": lambda: _("required element missing"),
        "unknown_element": lambda: _("this element does not exist here in FHIR (check its spelling)"),
        "not_list": lambda: _("must be a list (a JSON array [ ])"),
        "not_text": lambda: _("must be text (in double quotes)"),
        "invalid": lambda: _("not valid FHIR: %(detail)s") % {"detail": p.get("detail", "")},
        "unknown_type": lambda: _("%(type)s is not a FHIR resource type") % {"type": p.get("type", "")},
        "no_resource": lambda: _("the Bundle has no %(type)s resource") % {"type": p.get("type", "")},
        "rule_required": lambda: _("required by the exercise, missing or empty"),
        "rule_equals": lambda: _("must be %(expected)s") % {"expected": p.get("expected", "")},
        "rule_code": lambda: (
            _("must hold the code %(code)s of the system %(system)s")
            % {"code": p.get("code", ""), "system": p.get("system", "")}
        ),
        "identifier": lambda: (
            _("needs an identifier with the system %(system)s and a value") % {"system": p.get("system", "")}
        ),
        "reference": lambda: (
            _("the reference %(reference)s points to no resource of the Bundle") % {"reference": p.get("reference", "")}
        ),
    }
    text = texts.get(code)
    return text() if text else ""


def failure_text(failure) -> str:
    """A failure as one line: its element path, then what is wrong."""
    if not isinstance(failure, dict):
        return ""
    text = notice_text(str(failure.get("code", "")), failure.get("params") or {})
    path = failure.get("path") or ""
    return f"{path}: {text}" if path else text

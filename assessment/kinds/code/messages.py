"""The words of the code grader's stored message codes, rendered in the active language when a
page is made (the grader stores `{"code": "code.<name>", "params": {...}}`, never a sentence: a
worker's language is nobody's)."""

from django.utils.translation import gettext as _


def notice_text(code: str, params: dict) -> str:
    """One message of a code submission's feedback; "" for a code this version does not know."""
    if code == "no_code":
        return _("No code was submitted.")
    if code == "missing_function":
        return _("The function %(name)s is missing.") % {"name": params.get("name", "")}
    if code == "load_error":
        return _("Your code could not be loaded: %(error)s") % {"error": params.get("error", "")}
    if code == "public_limit":
        limit = params.get("limit")
        if limit == "time":
            return _("Public tests: time limit exceeded.")
        if limit == "memory":
            return _("Public tests: memory limit exceeded.")
        if limit == "output":
            return _("Public tests: output limit exceeded.")
        return ""
    if code == "public_stopped":
        return _("Public tests: the program stopped (exit status %(status)s).") % {"status": params.get("status", "")}
    return ""

"""The words of the SQL grader's stored message codes, rendered in the reader's language (the
grader stores `{"code": "sql.<name>", "params": {...}}`, never a sentence)."""

from django.utils.translation import gettext as _


def error_text(error: str, message: str = "") -> str:
    """A query's error (harness.run_query's codes) in words."""
    if error == "syntax":
        return _("SQLite refused the query: %(message)s") % {"message": message}
    if error == "denied":
        return _("Only reading is allowed: no ATTACH, PRAGMA, extension, write or schema change.")
    if error == "time":
        return _("The query took too long (a recursive query that never ends, or too large a join?).")
    if error == "memory":
        return _("The query needed too much memory.")
    if error == "too_long":
        return _("A value of the result is too long.")
    if error == "several_statements":
        return _("Write one statement only (a single SELECT).")
    if error == "not_a_query":
        return _("This statement returns no rows: write a SELECT.")
    if error == "too_many_rows":
        return _("The result has too many rows (5,000 at most).")
    if error == "too_many_columns":
        return _("The result has too many columns (50 at most).")
    if error == "output_too_large":
        return _("The result is too large.")
    if error == "dataset":
        return _("The dataset could not be built: %(message)s") % {"message": message}
    return _("The query stopped before giving a result.")


def notice_text(code: str, params: dict) -> str:
    """One message of a SQL submission's feedback; "" for a code this version does not know."""
    if code == "no_query":
        return _("No query was submitted.")
    if code == "public_different":
        return _("On the public dataset, your result differs from the expected one.")
    if code.startswith("error_"):
        return _("Public dataset: %(error)s") % {"error": error_text(code[6:], str(params.get("message", "")))}
    return ""

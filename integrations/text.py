"""Text a client sends that we cannot store or show: PostgreSQL's text refuses NUL, and UTF-8
cannot encode a lone surrogate (JSON lets "\\ud800" through). One check for every input path
(the API's JSON parser, the sync's rows), and one way to show such text back: escaped."""

from django.utils.translation import gettext_lazy as _

UNSTORABLE_CODE = "invalid_character"
UNSTORABLE_MESSAGE = _("Must not contain a NUL character or an unpaired surrogate.")


def is_unstorable(value: str) -> bool:
    """True when `value` holds a NUL or a lone surrogate (a valid pair decodes to one character)."""
    if "\x00" in value:
        return True
    if value.isascii():
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def safe_text(value: str) -> str:
    """`value` with every character UTF-8 cannot encode written as its escape (\\ud800)."""
    return value.encode("utf-8", "backslashreplace").decode("utf-8")

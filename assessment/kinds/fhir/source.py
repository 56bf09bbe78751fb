"""Reading a FHIR JSON text safely: every limit is checked on the text BEFORE json.loads runs, so a
hostile answer (10 MB, 100,000 nested brackets, a million tiny elements, invalid UTF-8) is refused
in one quick pass of a regular expression and never reaches the parser nor pydantic.

`load(text)` returns the parsed JSON value or raises `Refused(code, params)`; `load_bytes(data)`
decodes strict UTF-8 first. The codes are notice codes of the kind (messages.notice_text renders
them as `fhir.<code>` in the reader's language):
- too_large: more than MAX_BYTES bytes of UTF-8 (or MAX_BYTES characters, checked first);
- encoding: not valid UTF-8 (bytes), or a lone surrogate in the text (no UTF-8 form at all);
- nul: a NUL character (PostgreSQL cannot store it, and FHIR text never holds one);
- too_deep: brackets nested deeper than MAX_DEPTH (counted outside strings);
- too_many: more than MAX_ITEMS elements (commas and opening brackets outside strings);
- string_too_long: one string of more than MAX_STRING characters;
- empty, not_json (line, column), duplicate_key (key), constant (NaN, Infinity, 1e999), not_object.
A NUL or a lone surrogate written as a JSON escape is refused after parsing (nul, encoding)."""

import json
import math
import re

MAX_BYTES = 256 * 1024
MAX_DEPTH = 32
MAX_ITEMS = 20_000
MAX_STRING = 16 * 1024

# A string (maybe unterminated: it then runs to the end of the text), or one structural character.
# The string alternative cannot backtrack badly: its closing quote is optional, so it never fails.
_TOKEN = re.compile(r'"(?:[^"\\]+|\\.)*"?|[\[\]{},]', re.DOTALL)
_SURROGATE = re.compile("[\ud800-\udfff]")


class Refused(ValueError):
    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code = code
        self.params = params


def _reject_constant(name):
    raise Refused("constant", value=name)


def _pairs(pairs):
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise Refused("duplicate_key", key=key[:100])
        seen[key] = value
    return seen


def _number(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 reads as infinity: no JSON number is
        raise Refused("constant", value=text[:40])
    return value


def _check_strings(value) -> None:
    """Escapes inside the JSON (\\u0000, \\udc80) give what the text itself could not hold:
    refused alike, as nothing downstream (PostgreSQL's jsonb) can store it."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            texts = (item,)
        elif isinstance(item, dict):
            texts = tuple(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
            continue
        else:
            continue
        for text in texts:
            if "\x00" in text:
                raise Refused("nul")
            if _SURROGATE.search(text):
                raise Refused("encoding")


def check_text(text) -> None:
    """Refuse a text that breaks a limit; nothing is parsed."""
    if not isinstance(text, str):
        raise Refused("empty")
    if len(text) > MAX_BYTES:
        raise Refused("too_large", limit=MAX_BYTES // 1024)
    if _SURROGATE.search(text):
        raise Refused("encoding")
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise Refused("too_large", limit=MAX_BYTES // 1024)
    if "\x00" in text:
        raise Refused("nul")
    if not text.strip():
        raise Refused("empty")
    depth = items = 0
    for match in _TOKEN.finditer(text):
        token = match.group()
        first = token[0]
        if first == '"':
            if len(token) - 2 > MAX_STRING:
                raise Refused("string_too_long", limit=MAX_STRING)
        elif first in "[{":
            depth += 1
            items += 1
            if depth > MAX_DEPTH:
                raise Refused("too_deep", limit=MAX_DEPTH)
        elif first in "]}":
            depth -= 1
        else:
            items += 1
        if items > MAX_ITEMS:
            raise Refused("too_many", limit=MAX_ITEMS)


def load(text):
    """The JSON value of `text`, every limit checked first (Refused otherwise)."""
    check_text(text)
    try:
        value = json.loads(text, object_pairs_hook=_pairs, parse_constant=_reject_constant, parse_float=_number)
    except json.JSONDecodeError as exc:
        raise Refused("not_json", line=exc.lineno, column=exc.colno) from None
    except Refused:
        raise
    except (ValueError, RecursionError):  # a number of more than 4,300 digits, say
        raise Refused("not_json", line=1, column=1) from None
    _check_strings(value)
    return value


def load_bytes(data: bytes):
    if len(data) > MAX_BYTES:
        raise Refused("too_large", limit=MAX_BYTES // 1024)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused("encoding") from None
    return load(text.removeprefix("\ufeff"))


def load_object(text) -> dict:
    value = load(text)
    if not isinstance(value, dict):
        raise Refused("not_object")
    return value

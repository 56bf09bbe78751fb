"""The API's JSON parser: the one place every JSON body of /api/v1/ goes through, so no view can
forget its checks. Before parsing: the body's size (at most the view's `max_body_bytes`, else
DATA_UPLOAD_MAX_MEMORY_SIZE; over it, 413 `body_too_large`) and its nesting depth (at most
MAX_DEPTH levels, else 400 `too_deep`: Python's parser would recurse into a RecursionError).
After: every key and string value must be storable text (integrations.text; else 400
`invalid_character`, one detail per path). Errors are in our words, with the line and column,
never Python's own text."""

import json
import operator
import re
from itertools import accumulate, repeat

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.parsers import BaseParser
from rest_framework.renderers import JSONRenderer

from ..text import UNSTORABLE_CODE, UNSTORABLE_MESSAGE, is_unstorable, safe_text

MAX_DEPTH = 64
MAX_DETAILS = 100
# A JSON string, escapes included (unrolled: no backtracking), and the brackets outside strings.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)


class BodyTooLarge(exceptions.APIException):
    status_code = 413
    default_code = "body_too_large"


class TooDeep(exceptions.ParseError):
    default_code = "too_deep"


def body_limit(view) -> int:
    return getattr(view, "max_body_bytes", None) or settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def too_large(limit: int) -> BodyTooLarge:
    return BodyTooLarge(
        _("The request body is larger than %(n)d bytes (%(mib)s MiB).") % {"n": limit, "mib": f"{limit / 2**20:g}"}
    )


def read_capped(request, stream, limit: int) -> bytes:
    """The body, refused (413) when its Content-Length, or what it really holds, exceeds `limit`."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise too_large(limit)
    data = stream.read(limit + 1) if stream is not None else b""
    if len(data) > limit:
        raise too_large(limit)
    return data


# Brackets as heights: an opening one 2, a closing one 0 (so height - 1 is +1 or -1); every other
# byte is deleted. bytes.translate does both in C: a 1.4 MB batch is scanned in about 1.5 ms
# (a Python loop over its 20,000 brackets took 29 ms).
_HEIGHT = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")


def _max_depth_over(data: bytes, limit: int) -> bool:
    steps = data.translate(_HEIGHT, _NOT_BRACKET)
    return max(accumulate(map(operator.sub, steps, repeat(1)), initial=0)) > limit


def depth_exceeds(data: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether `data`'s arrays and objects nest deeper than `limit`, brackets inside strings aside.
    Counting every bracket first is an upper bound (and cheap); strings are stripped only when it
    exceeds the limit."""
    if data.count(b"[") + data.count(b"{") <= limit or not _max_depth_over(data, limit):
        return False
    return _max_depth_over(_STRING.sub(b"", data), limit)


def _unstorable_paths(value, path: tuple, out: list) -> None:
    if isinstance(value, str):
        if is_unstorable(value):
            out.append(path)
    elif isinstance(value, dict):
        for key, item in value.items():
            if is_unstorable(key):
                out.append((*path, safe_text(key)))
            else:
                _unstorable_paths(item, (*path, key), out)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _unstorable_paths(item, (*path, index), out)


def _detail(path: tuple) -> dict:
    # A path into a batch's rows names the row and its field, as every row error does.
    if len(path) >= 2 and path[0] == "rows" and isinstance(path[1], int):
        out = {"row": path[1], "field": ".".join(map(str, path[2:])) or None}
    else:
        out = {"field": ".".join(map(str, path)) or None}
    return {**out, "code": UNSTORABLE_CODE, "message": str(UNSTORABLE_MESSAGE)}


def unstorable_check(data) -> None:
    """Refuse (400, one detail per path, the first MAX_DETAILS) a parsed body holding unstorable text."""
    paths: list[tuple] = []
    _unstorable_paths(data, (), paths)
    if paths:
        raise UnstorableText(details=[_detail(p) for p in paths[:MAX_DETAILS]], total=len(paths))


class UnstorableText(exceptions.ValidationError):
    """Carries details already in the API's format (errors.exception_handler shows them as they are)."""

    def __init__(self, *, details: list[dict], total: int):
        super().__init__(str(UNSTORABLE_MESSAGE), code=UNSTORABLE_CODE)
        self.details = details
        self.total = total


def _not_a_number(name):
    raise ValueError(name)


class ApiJSONParser(BaseParser):
    # Not a JSONParser subclass: DRF would hand it `request.body`, read whole under the site's
    # limit before the view's own (max_body_bytes) could apply. It reads the stream itself.
    media_type = "application/json"
    renderer_class = JSONRenderer

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        request = parser_context["request"]
        data = read_capped(request, stream, body_limit(parser_context.get("view")))
        if depth_exceeds(data):
            raise TooDeep(_("The JSON body nests arrays and objects deeper than %(n)d levels.") % {"n": MAX_DEPTH})
        try:
            text = data.decode(parser_context.get("encoding") or settings.DEFAULT_CHARSET)
        except UnicodeDecodeError as exc:
            raise exceptions.ParseError(_("The body is not valid UTF-8 (byte %(n)d).") % {"n": exc.start + 1}) from None
        try:
            parsed = json.loads(text, parse_constant=_not_a_number)
        except json.JSONDecodeError as exc:
            raise exceptions.ParseError(
                _("The body is not valid JSON (line %(line)d, column %(column)d).")
                % {"line": exc.lineno, "column": exc.colno}
            ) from None
        except ValueError:  # NaN, Infinity
            raise exceptions.ParseError(_("The body is not valid JSON: NaN and Infinity are not numbers.")) from None
        if b"\\u" in data:  # NUL and lone surrogates can only come in as \u escapes
            unstorable_check(parsed)
        return parsed

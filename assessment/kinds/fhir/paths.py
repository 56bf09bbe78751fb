"""A small FHIRPath-like language for the instructor's rules, over the resource's JSON.

Supported subset (anything else is refused when the spec is validated):
    Path   := Type ( "." Step )*            e.g. Observation.code.coding.system
    Step   := name [ "[" n "]" ]            a child element; a list flattens into the collection;
                                            [n] keeps the n-th item (from 0) of the collection
            | "where(" name "=" 'text' ")"  keeps the items whose child `name` equals 'text'
Type is a resource type (Patient, Observation...); element names are written as in the JSON
(valueQuantity, not value). Evaluating a path gives the collection of the values it reaches
(FHIRPath semantics: a missing element is an empty collection, never an error). A path on a Bundle
that starts with another resource type applies to each entry resource of that type."""

import re

NAME = r"[a-z][A-Za-z0-9_]{0,63}"
TYPE = re.compile(r"[A-Z][A-Za-z]{1,63}")
_STEP = re.compile(
    rf"(?P<name>{NAME})(?:\[(?P<index>\d{{1,4}})\])?|where\((?P<key>{NAME})\s*=\s*'(?P<value>[^'\\]*)'\)"
)
MAX_PATH = 300
MAX_STEPS = 20


class PathError(ValueError):
    pass


def _split(text: str) -> list[str]:
    """The dot-separated parts, dots inside where('...') kept."""
    parts, current, quoted = [], [], False
    for char in text:
        if char == "'":
            quoted = not quoted
        if char == "." and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def parse(text) -> tuple[str, list[tuple]]:
    """(resource type, steps) of a path; each step is ("child", name, index | None) or
    ("where", name, value). PathError says what is wrong."""
    if not isinstance(text, str) or not text.strip():
        raise PathError("empty")
    if len(text) > MAX_PATH:
        raise PathError("too_long")
    first, *rest = _split(text.strip())
    if not TYPE.fullmatch(first):
        raise PathError("type")
    if len(rest) > MAX_STEPS:
        raise PathError("too_long")
    steps = []
    for part in rest:
        match = _STEP.fullmatch(part)
        if not match:
            raise PathError("step")
        if match.group("key"):
            steps.append(("where", match.group("key"), match.group("value")))
        else:
            index = match.group("index")
            steps.append(("child", match.group("name"), int(index) if index is not None else None))
    return first, steps


def evaluate(resource, steps: list[tuple]) -> list:
    """The collection `steps` reach from `resource` (a parsed JSON object)."""
    items = [resource]
    for step in steps:
        if step[0] == "where":
            _op, key, value = step
            items = [it for it in items if isinstance(it, dict) and it.get(key) == value]
            continue
        _op, name, index = step
        found = []
        for it in items:
            if isinstance(it, dict) and name in it:
                child = it[name]
                found.extend(child if isinstance(child, list) else [child])
        items = [found[index]] if index is not None and index < len(found) else ([] if index is not None else found)
    return [it for it in items if it is not None]


def tail(steps: list[tuple]) -> str:
    """The steps written back, for a failure's element path (".code.coding.system")."""
    out = []
    for step in steps:
        if step[0] == "where":
            out.append(f".where({step[1]}='{step[2]}')")
        else:
            out.append(f".{step[1]}" + (f"[{step[2]}]" if step[2] is not None else ""))
    return "".join(out)

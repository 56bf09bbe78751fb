"""FHIR grader: the learner's JSON resource is read under strict limits (source.py), validated
against the FHIR models of `fhir.resources` (R4B: the pinned 8.3.0 has no R4 package; R4B is
wire-compatible with R4 for Patient, Observation, Encounter and Bundle), then checked against the
instructor's rules. JSON is data: nothing of the answer runs, so the worker grades it itself,
without the sandbox.

Spec (keys in canonical order):
- `resource_type`: what the learner writes: Patient, Observation, Encounter or Bundle;
- `rules`: [{"path": "Observation.code.coding.system", "required": true} |
  {"path": ..., "equals": "final" (text, number or true/false)} |
  {"path": "Observation.code", "code": {"system": "http://loinc.org", "code": "8867-4"}}];
  paths are the FHIRPath-like subset of paths.py; `required`: some non-empty value is there;
  `equals`: some value equals it; `code`: some Coding there (or in a CodeableConcept there) has
  that system and code. On a Bundle, a path starting with another resource type applies to each
  entry resource of that type (and fails when there is none);
- `identifier_system` (optional): the resource (or each `identifier_type` resource of a Bundle,
  then required) has an identifier with this system and a value;
- `resolve_references` (optional, Bundle only): every `reference` of the entries resolves to an
  entry's fullUrl, to `Type/id` of an entry, or (`#id`) to a contained resource of its entry;
- `starter` (optional): the JSON text the learner's form starts from (may be incomplete);
- `reference_answer`: the instructor's JSON, which must pass every check (validate_spec runs it).

Scoring: a resource that is not valid FHIR earns 0 (every problem is still listed); a valid one
earns one point per check (each rule, the identifier, the references); with no check at all,
validity is the one point. An answer that cannot be read (too large, too deep, not JSON, not the
resource type asked) earns 0 with a notice. Answer: {"resource": "<JSON text>"}."""

import math
import re

from django.utils.translation import gettext as _

from assessment.kinds.base import GradeResult, SpecError

from . import paths, source
from .messages import failure_text, notice_text

RESOURCE_TYPES = ("Patient", "Observation", "Encounter", "Bundle")
CHECKS = ("required", "equals", "code")
MAX_RULES = 50
MAX_VALUE_CHARS = 500
MAX_FAILURES = 50


# --- the FHIR models ---------------------------------------------------------------------------


def _models():
    from fhir.resources import R4B  # noqa: PLC0415 - 0.2 s to import: only when something is checked

    return R4B


def known_type(name) -> bool:
    """Whether `name` is a FHIR resource type (not a datatype such as Coding)."""
    if not isinstance(name, str) or not paths.TYPE.fullmatch(name):
        return False
    r4b = _models()
    from fhir.resources.R4B.resource import Resource  # noqa: PLC0415

    try:
        return issubclass(r4b.get_fhir_model_class(name), Resource)
    except (ValueError, AttributeError, TypeError):
        return False


def _walk(value, path: str):
    """(path, object) of every JSON object inside `value`, itself included."""
    stack = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, dict):
            yield where, item
            stack.extend((f"{where}.{k}", v) for k, v in reversed(item.items()) if isinstance(v, dict | list))
        elif isinstance(item, list):
            stack.extend((f"{where}[{i}]", v) for i, v in reversed(list(enumerate(item))) if isinstance(v, dict | list))


def _failure(path: str, code: str, /, **params) -> dict:
    return {"path": path, "code": code, "params": params}


def _loc_path(root: str, loc) -> str:
    out = root
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part == "resource_type":
            out += ".resourceType"
        elif isinstance(part, str) and _LOC_NAME.fullmatch(part):
            out += f".{part.removesuffix('__ext')}"
    return out


_LOC_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_SCHEMA_CODES = {
    "missing": "missing",
    "model_field_validation.missing": "missing",
    "extra_forbidden": "unknown_element",
    "list_type": "not_list",
    "string_type": "not_text",
}


def schema_failures(resource: dict) -> list[dict]:
    """What makes `resource` invalid FHIR, one failure per element path ([] when valid)."""
    root = resource.get("resourceType")
    unknown = [
        _failure(f"{where}.resourceType", "unknown_type", type=str(item["resourceType"])[:64])
        for where, item in _walk(resource, root)
        if "resourceType" in item and not known_type(item["resourceType"])
    ]
    if unknown:  # the models would not even say which one (a KeyError deep inside fhir_core)
        return unknown
    from pydantic import ValidationError  # noqa: PLC0415

    try:
        _models().get_fhir_model_class(root).model_validate(resource)
    except ValidationError as exc:
        found = []
        for error in exc.errors(include_input=False, include_url=False):
            code = _SCHEMA_CODES.get(str(error.get("type")), "invalid")
            params = {"detail": str(error.get("msg", ""))[:300]} if code == "invalid" else {}
            found.append(_failure(_loc_path(root, error.get("loc") or ()), code, **params))
        return found or [_failure(root, "invalid", detail="")]
    except Exception as exc:  # noqa: BLE001 - the library's own failure on odd input is still a wrong answer
        return [_failure(root, "invalid", detail=f"{type(exc).__name__}")]
    return []


# --- the instructor's checks -------------------------------------------------------------------


def _targets(resource: dict, rtype: str) -> list[tuple[str, dict]]:
    """(element path prefix, resource) of every resource a check on `rtype` applies to."""
    if resource.get("resourceType") == rtype:
        return [(rtype, resource)]
    if resource.get("resourceType") != "Bundle":
        return []
    found = []
    for i, entry in enumerate(resource.get("entry") or []):
        item = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(item, dict) and item.get("resourceType") == rtype:
            found.append((f"Bundle.entry[{i}].resource", item))
    return found


def _equal(found, expected) -> bool:
    if isinstance(expected, bool):
        return found is expected
    if isinstance(found, bool):
        return isinstance(expected, str) and expected == ("true" if found else "false")
    if isinstance(found, int | float) and isinstance(expected, int | float):
        return math.isclose(found, expected, rel_tol=1e-9, abs_tol=0)
    if isinstance(found, int | float) and isinstance(expected, str):
        try:
            return math.isclose(found, float(expected), rel_tol=1e-9, abs_tol=0)
        except ValueError:
            return False
    return found == expected


def _has_code(item, system: str, code: str) -> bool:
    if not isinstance(item, dict):
        return False
    if item.get("system") == system and item.get("code") == code:
        return True
    codings = item.get("coding")
    return isinstance(codings, list) and any(
        isinstance(c, dict) and c.get("system") == system and c.get("code") == code for c in codings
    )


def _holds(rule: dict, values: list) -> bool:
    if "required" in rule:
        return any(v not in ("", {}, []) for v in values)
    if "equals" in rule:
        return any(_equal(v, rule["equals"]) for v in values)
    return any(_has_code(v, rule["code"]["system"], rule["code"]["code"]) for v in values)


def _rule_params(rule: dict) -> tuple[str, dict]:
    if "required" in rule:
        return "rule_required", {}
    if "equals" in rule:
        value = rule["equals"]
        return "rule_equals", {"expected": value if isinstance(value, str) else _json_text(value)}
    return "rule_code", {"system": rule["code"]["system"], "code": rule["code"]["code"]}


def _json_text(value) -> str:
    return "true" if value is True else "false" if value is False else repr(value)


def rule_failures(rule: dict, resource: dict) -> list[dict]:
    rtype, steps = paths.parse(rule["path"])
    targets = _targets(resource, rtype)
    if not targets:
        return [_failure("Bundle.entry", "no_resource", type=rtype)]
    code, params = _rule_params(rule)
    return [
        _failure(prefix + paths.tail(steps), code, **params)
        for prefix, item in targets
        if not _holds(rule, paths.evaluate(item, steps))
    ]


def identifier_failures(spec: dict, resource: dict) -> list[dict]:
    system = spec["identifier_system"]
    rtype = spec.get("identifier_type") or spec["resource_type"]
    targets = _targets(resource, rtype)
    if not targets:
        return [_failure("Bundle.entry", "no_resource", type=rtype)]
    failures = []
    for prefix, item in targets:
        ids = item.get("identifier")
        ok = isinstance(ids, list) and any(
            isinstance(i, dict) and i.get("system") == system and isinstance(i.get("value"), str) and i["value"].strip()
            for i in ids
        )
        if not ok:
            failures.append(_failure(f"{prefix}.identifier", "identifier", system=system))
    return failures


def reference_failures(bundle: dict) -> list[dict]:
    entries = [e for e in bundle.get("entry") or [] if isinstance(e, dict)]
    known = set()
    for entry in entries:
        if isinstance(entry.get("fullUrl"), str):
            known.add(entry["fullUrl"])
        item = entry.get("resource")
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            known.add(f"{item.get('resourceType')}/{item['id']}")
    failures = []
    for i, entry in enumerate(bundle.get("entry") or []):
        item = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(item, dict):
            continue
        contained = {
            f"#{c['id']}" for c in item.get("contained") or [] if isinstance(c, dict) and isinstance(c.get("id"), str)
        }
        for where, obj in _walk(item, f"Bundle.entry[{i}].resource"):
            ref = obj.get("reference")
            if not isinstance(ref, str):
                continue
            if ref in known or ref in contained or ref == "#":
                continue
            failures.append(_failure(f"{where}.reference", "reference", reference=ref[:200]))
    return failures


def check_count(spec: dict) -> int:
    count = len(spec.get("rules") or []) + bool(spec.get("identifier_system")) + bool(spec.get("resolve_references"))
    return count or 1


def check(spec: dict, resource: dict) -> dict:
    """Every check of `spec` on a parsed resource of the right type: {"valid", "failures",
    "passed", "total", "rules": [passed? per rule]}."""
    schema = schema_failures(resource)
    failures = list(schema)
    rules_ok = []
    passed = 0
    for rule in spec.get("rules") or []:
        found = rule_failures(rule, resource)
        rules_ok.append(not found)
        passed += not found
        failures.extend(found)
    identifier_ok = references_ok = None
    if spec.get("identifier_system"):
        found = identifier_failures(spec, resource)
        identifier_ok = not found
        passed += not found
        failures.extend(found)
    if spec.get("resolve_references"):
        found = reference_failures(resource)
        references_ok = not found
        passed += not found
        failures.extend(found)
    total = check_count(spec)
    if not (spec.get("rules") or spec.get("identifier_system") or spec.get("resolve_references")):
        passed = 1
    return {"valid": not schema, "failures": failures, "passed": passed if not schema else 0, "total": total,
            "rules": rules_ok, "identifier": identifier_ok, "references": references_ok}  # fmt: skip


def read(spec: dict, text) -> dict:
    """The parsed resource of an answer's text; source.Refused when it cannot be read, or is not
    the resource type the exercise asks for."""
    resource = source.load_object(text)
    found = resource.get("resourceType")
    if found != spec.get("resource_type"):
        raise source.Refused("wrong_type", expected=spec.get("resource_type", ""), found=str(found or "")[:64])
    return resource


def _refused(spec: dict, exc: source.Refused) -> GradeResult:
    total = check_count(spec)
    feedback = {"kind": "fhir", "valid": False, "failures": [], "passed": 0, "total": total,
                "messages": [{"code": f"fhir.{exc.code}", "params": exc.params}]}  # fmt: skip
    return GradeResult(score=0.0, max_score=float(total), feedback=feedback, staff_log=f"refused: {exc.code}")


def grade(spec: dict, answer: dict) -> GradeResult:
    text = answer.get("resource") if isinstance(answer, dict) else None
    try:
        resource = read(spec, text)
    except source.Refused as exc:
        return _refused(spec, exc)
    outcome = check(spec, resource)
    failures = outcome["failures"]
    messages = []
    if not outcome["valid"]:
        messages.append({"code": "fhir.invalid_schema", "params": {}})
    if len(failures) > MAX_FAILURES:
        messages.append({"code": "fhir.more_failures", "params": {"n": len(failures) - MAX_FAILURES}})
    feedback = {"kind": "fhir", "valid": outcome["valid"], "failures": failures[:MAX_FAILURES],
                "passed": outcome["passed"], "total": outcome["total"], "messages": messages}  # fmt: skip
    return GradeResult(score=float(outcome["passed"]), max_score=float(outcome["total"]), feedback=feedback)


# --- the spec ----------------------------------------------------------------------------------


def _text_ok(value, *, limit: int = MAX_VALUE_CHARS) -> bool:
    return isinstance(value, str) and bool(value.strip()) and len(value) <= limit and "\x00" not in value


def validate_rule(rule, where: str, resource_type: str) -> None:
    if not isinstance(rule, dict):
        raise SpecError(where, _("each rule has a path and one check: required, equals or code"))
    try:
        rtype, _steps = paths.parse(rule.get("path"))
    except paths.PathError as exc:
        messages = {
            "empty": _("give the element path, e.g. Observation.code.coding.system"),
            "too_long": _("this path is too long"),
            "type": _("a path starts with a resource type, e.g. Patient.birthDate"),
            "step": _("write the path as Type.element.element, with [n] or where(system='...') if needed"),
        }
        raise SpecError(f"{where}.path", messages[str(exc)]) from None
    if resource_type == "Bundle":
        if rtype != "Bundle" and not known_type(rtype):
            raise SpecError(f"{where}.path", _("%(type)s is not a FHIR resource type") % {"type": rtype})
    elif rtype != resource_type:
        raise SpecError(f"{where}.path", _("the path must start with %(type)s") % {"type": resource_type})
    chosen = [k for k in CHECKS if k in rule]
    if len(chosen) != 1:
        raise SpecError(where, _("give exactly one check: required, equals or code"))
    if "required" in rule and rule["required"] is not True:
        raise SpecError(f"{where}.required", _("required is true (or leave the rule out)"))
    if "equals" in rule:
        value = rule["equals"]
        if isinstance(value, str):
            if not _text_ok(value):
                raise SpecError(
                    f"{where}.equals", _("give the value, at most %(n)s characters") % {"n": MAX_VALUE_CHARS}
                )
        elif not (isinstance(value, bool) or (isinstance(value, int | float) and math.isfinite(value))):
            raise SpecError(f"{where}.equals", _("the value is text, a number, true or false"))
    if "code" in rule:
        code = rule["code"]
        if not isinstance(code, dict) or not _text_ok(code.get("system")):
            raise SpecError(f"{where}.code.system", _("give the code system, e.g. http://loinc.org"))
        if not _text_ok(code.get("code")):
            raise SpecError(f"{where}.code.code", _("give the code, e.g. 8867-4"))


def validate_spec(spec: dict) -> None:
    rtype = spec.get("resource_type")
    if rtype not in RESOURCE_TYPES:
        raise SpecError("resource_type", _("choose Patient, Observation, Encounter or Bundle"))
    rules = spec.get("rules", [])
    if not isinstance(rules, list) or len(rules) > MAX_RULES:
        raise SpecError("rules", _("expected a list of at most %(n)s rules") % {"n": MAX_RULES})
    for i, rule in enumerate(rules):
        validate_rule(rule, f"rules[{i}]", rtype)
    system = spec.get("identifier_system")
    if system is not None and not _text_ok(system):
        raise SpecError("identifier_system", _("give the identifier system, e.g. urn:oid:2.16.504.1 (or leave it out)"))
    id_type = spec.get("identifier_type")
    if id_type is not None:
        if rtype == "Bundle" and not known_type(id_type):
            raise SpecError("identifier_type", _("%(type)s is not a FHIR resource type") % {"type": id_type})
        if rtype != "Bundle" and id_type != rtype:
            raise SpecError("identifier_type", _("the identifier is checked on the %(type)s itself") % {"type": rtype})
    if system and rtype == "Bundle" and not id_type:
        raise SpecError("identifier_type", _("say which resources of the Bundle need the identifier, e.g. Patient"))
    refs = spec.get("resolve_references", False)
    if not isinstance(refs, bool):
        raise SpecError("resolve_references", _("must be true or false"))
    if refs and rtype != "Bundle":
        raise SpecError("resolve_references", _("references are checked inside a Bundle only"))
    starter = spec.get("starter", "")
    if not isinstance(starter, str) or len(starter) > source.MAX_BYTES or "\x00" in starter:
        raise SpecError("starter", _("the starter is text, of at most %(n)s KB") % {"n": source.MAX_BYTES // 1024})
    validate_reference(spec)


def validate_reference(spec: dict) -> dict:
    """The check of the reference answer, which must pass everything (SpecError on the rule, or
    on the reference answer, that fails)."""
    text = spec.get("reference_answer")
    if not isinstance(text, str) or not text.strip():
        raise SpecError("reference_answer", _("write the reference answer: a resource that passes every check"))
    try:
        resource = read(spec, text)
    except source.Refused as exc:
        raise SpecError("reference_answer", notice_text(exc.code, exc.params)) from None
    outcome = check(spec, resource)
    if not outcome["valid"]:
        raise SpecError("reference_answer", _("the reference answer is not valid FHIR: %(problem)s")
                        % {"problem": failure_text(outcome["failures"][0])})  # fmt: skip
    for i, ok in enumerate(outcome["rules"]):
        if not ok:
            first = rule_failures(spec["rules"][i], resource)[0]
            raise SpecError(f"rules[{i}]", _("the reference answer does not pass this rule: %(problem)s")
                            % {"problem": failure_text(first)})  # fmt: skip
    for ok in (outcome["identifier"], outcome["references"]):
        if ok is False:
            first = next(f for f in outcome["failures"] if f["code"] in ("identifier", "reference", "no_resource"))
            raise SpecError("reference_answer", _("the reference answer fails a check: %(problem)s")
                            % {"problem": failure_text(first)})  # fmt: skip
    return outcome


def public_spec(spec: dict) -> dict:
    """What the learner's page shows: what to write and every check (the rules are the exercise's
    statement); never the reference answer."""
    public = {"resource_type": spec["resource_type"], "rules": [dict(r) for r in spec.get("rules") or []]}
    for key in ("identifier_system", "identifier_type", "resolve_references", "starter"):
        if spec.get(key):
            public[key] = spec[key]
    return public

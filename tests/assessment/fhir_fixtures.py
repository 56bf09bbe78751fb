"""A small, realistic FHIR exercise (CHU Ibn Rochd, Casablanca: an admission) for the fhir kind's
tests, the browser journey, the page list and the bench.

To build SPEC in a browser (studio, "Add an assignment" > FHIR resource), fill the builder:
- "Resource the learner writes" (builder-resource_type): Bundle;
- six rules ("Add a rule", then per row i: "Element path" builder-rule-{i}-path, "Check"
  builder-rule-{i}-check, "Value or code" builder-rule-{i}-value, "Code system" builder-rule-{i}-system),
  in SPEC's order: code (http://loinc.org, 8867-4), equals x4, required;
- "Identifier system" (builder-identifier_system) and "Resources that need it" (builder-identifier_type): Patient;
- tick "References must resolve inside the Bundle" (builder-resolve_references);
- "Starter" (builder-starter) and "Reference answer" (builder-reference_answer): the JSON texts below.
No course file is needed (COURSE_FILES is empty)."""

import json

IPP = "https://chu-ibnrochd.ma/fhir/sid/ipp"

_PATIENT = {
    "resourceType": "Patient",
    "id": "p1",
    "identifier": [{"system": IPP, "value": "IPP-2024-00731"}],
    "name": [{"family": "Benali", "given": ["Fatima"]}],
    "gender": "female",
    "birthDate": "1968-04-12",
    "address": [{"city": "Casablanca", "country": "MA"}],
}
_ENCOUNTER = {
    "resourceType": "Encounter",
    "id": "e1",
    "status": "in-progress",
    "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP", "display": "inpatient"},
    "subject": {"reference": "Patient/p1"},
    "period": {"start": "2024-03-02T08:30:00+01:00"},
}
_OBSERVATION = {
    "resourceType": "Observation",
    "id": "o1",
    "status": "final",
    "code": {
        "coding": [{"system": "http://loinc.org", "code": "8867-4", "display": "Heart rate"}],
        "text": "Fréquence cardiaque",
    },  # fmt: skip
    "subject": {"reference": "Patient/p1"},
    "encounter": {"reference": "Encounter/e1"},
    "effectiveDateTime": "2024-03-02T09:00:00+01:00",
    "valueQuantity": {"value": 88, "unit": "/min", "system": "http://unitsofmeasure.org", "code": "/min"},
}


def bundle(*resources) -> dict:
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": f"urn:uuid:{r['resourceType'].lower()}-{r['id']}", "resource": r} for r in resources],
    }


def text(value) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)


REFERENCE = text(bundle(_PATIENT, _ENCOUNTER, _OBSERVATION))
STARTER = text({"resourceType": "Bundle", "type": "collection", "entry": []})

SPEC = {
    "resource_type": "Bundle",
    "rules": [
        {"path": "Observation.code", "code": {"system": "http://loinc.org", "code": "8867-4"}},
        {"path": "Observation.status", "equals": "final"},
        {"path": "Observation.valueQuantity.system", "equals": "http://unitsofmeasure.org"},
        {"path": "Observation.valueQuantity.code", "equals": "/min"},
        {"path": "Encounter.class.code", "equals": "IMP"},
        {"path": "Patient.birthDate", "required": True},
    ],
    "identifier_system": IPP,
    "identifier_type": "Patient",
    "resolve_references": True,
    "starter": STARTER,
    "reference_answer": REFERENCE,
}

RIGHT_ANSWER = {"resource": REFERENCE}

# Valid FHIR, but a local code instead of LOINC, "bpm" instead of UCUM, no IPP, and the
# observation's subject points outside the Bundle: 3 of the 8 checks pass.
_WRONG_OBSERVATION = {
    **_OBSERVATION,
    "code": {"coding": [{"system": "urn:chu:codes-locaux", "code": "FC"}]},
    "subject": {"reference": "Patient/inconnu"},
    "valueQuantity": {"value": 88, "unit": "bpm"},
}
WRONG_ANSWER = {
    "resource": text(
        bundle({**_PATIENT, "identifier": [{"system": "urn:autre", "value": "1"}]}, _ENCOUNTER, _WRONG_OBSERVATION)
    )  # fmt: skip
}

COURSE_FILES: dict[str, bytes] = {}

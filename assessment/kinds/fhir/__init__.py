"""FHIR: the learner writes an HL7 FHIR resource (Patient, Observation, Encounter) or a Bundle in
JSON; it is validated with the pinned `fhir.resources` 8.3.0, whose R4B models are used (that
version has no R4 package: its default models are R5, and R4B is wire-compatible with R4 for
Patient, Observation, Encounter and Bundle), then checked against the instructor's rules
(element paths, fixed codes, identifier system, references resolved inside the Bundle).

JSON is data: the worker grades it itself (no sandbox), after limits checked on the text before
any parsing (source.py). The spec is described in grader.py, the path language in paths.py."""

from assessment.kinds.base import Kind

from . import answer, builder, forms, grader, messages

KIND = Kind(
    name="fhir",
    grade=grader.grade,
    validate_spec=grader.validate_spec,
    public_spec=grader.public_spec,
    validate_answer=answer.validate_answer,
    learner_form=forms.FhirForm,
    builder=builder.Builder,
    notice_text=messages.notice_text,
    body_template="assessment/_fhir_body.html",
    feedback_template="assessment/_fhir_feedback.html",
)

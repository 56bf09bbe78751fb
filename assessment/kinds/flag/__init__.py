"""Flag: a capture-the-flag exercise; the spec keeps only the flag's salted hash."""

from assessment.kinds.base import Kind

from . import answer, builder, forms, grader

KIND = Kind(
    name="flag",
    grade=grader.grade,
    validate_spec=grader.validate_spec,
    prepare_spec=grader.prepare_spec,
    public_spec=grader.public_spec,
    validate_answer=answer.validate_answer,
    learner_form=forms.FlagForm,
    builder=builder.Builder,
)

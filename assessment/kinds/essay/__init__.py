"""Essay: graded by an instructor on a rubric (the submission waits in needs_review)."""

from assessment.kinds.base import Kind

from . import answer, builder, forms, grader

KIND = Kind(
    name="essay",
    grade=grader.grade,
    validate_spec=grader.validate_spec,
    public_spec=grader.public_spec,
    validate_answer=answer.validate_answer,
    learner_form=forms.EssayForm,
    builder=builder.Builder,
)

"""Quiz: single, multiple, numeric and text questions, graded at once."""

from assessment.kinds.base import Kind

from . import answer, attempt, builder, forms, grader, review

KIND = Kind(
    name="quiz",
    grade=grader.grade,
    validate_spec=grader.validate_spec,
    public_spec=grader.public_spec,
    validate_answer=answer.validate_answer,
    learner_form=forms.QuizForm,
    builder=builder.Builder,
    derived_keys=(attempt.POOLS,),
    attempt_spec=attempt.attempt_spec,
    review=review.review,
    grades_at_once=True,
)

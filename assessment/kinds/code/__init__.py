"""Code: a Python function, run in the sandbox on the tests' inputs and checked outside it."""

from assessment.kinds.base import Kind

from . import answer, builder, forms, grader, messages

KIND = Kind(
    name="code",
    grade=grader.grade,
    validate_spec=grader.validate_spec,
    prepare_spec=grader.prepare_spec,
    complete_spec=grader.complete_spec,
    public_spec=grader.public_spec,
    validate_answer=answer.validate_answer,
    learner_form=forms.CodeForm,
    # Computed from the reference solution at publish time (or at the first grading, where the
    # sandbox could not run at publish time): never authored nor archived.
    derived_keys=("expected",),
    builder=builder.Builder,
    notice_text=messages.notice_text,
    uses_sandbox=True,
)

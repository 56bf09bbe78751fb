"""SQL: the learner writes one SQLite query on a small dataset (CSV tables or a SQL script); it
runs in the sandbox on a fresh in-memory copy of the public dataset, then of the hidden variant
(same tables and columns, other rows), and its results are compared outside the sandbox with the
reference query's (grader.py). The harness (harness.py) locks the database down: see its docstring.

Spec (validated by grader.validate_spec; the archive's format is the spec minus `expected` and
`preview`):
- `dataset`: {"tables": [{"name": "admissions", "csv": "<CSV, first line the column names>"}]}
  or {"script": "<CREATE TABLE / INSERT / CREATE INDEX / CREATE VIEW statements>"};
- `hidden_dataset` (optional): the same form, the same tables and columns;
- `reference_query`; `order_matters` (default false); `column_names_matter` (default false);
  `tolerance` (absolute, on floats, default 1e-6); `starter_query` (optional);
- derived: `expected` ({"public": {columns, rows}, "hidden": ...}, the reference's results,
  computed in the sandbox at publish time or at the first grading) and `preview` (the public
  tables as the learner's page shows them).
Answer: {"query": "<one SQL statement>"}.

Limits (all in limits.py): a dataset is at most 2 MB of text (MAX_DATASET_CHARS), 20 tables,
50 columns, 64 MiB once built (MAX_DATASET_PAGES), and its script at most 50 M VM steps; a query
is at most 20,000 characters, stops after 200 M VM steps or 2 s (QUERY_STEPS, QUERY_SECONDS),
256 MiB of SQLite heap, 1 MB per value (SQLITE_LIMIT_LENGTH); a result is at most 5,000 rows,
50 columns, 10,000 characters per cell and 512 KiB as JSON. The sandbox adds its own (5 s CPU,
10 s wall clock, 1 GiB of address space, 1 MiB of output)."""

from assessment.kinds.base import Kind

from . import answer, builder, forms, grader, messages

KIND = Kind(
    name="sql",
    grade=grader.grade,
    validate_spec=grader.validate_spec,
    prepare_spec=grader.prepare_spec,
    complete_spec=grader.complete_spec,
    public_spec=grader.public_spec,
    validate_answer=answer.validate_answer,
    learner_form=forms.SqlForm,
    derived_keys=grader.DERIVED,
    builder=builder.Builder,
    notice_text=messages.notice_text,
    body_template="assessment/_sql_body.html",
    feedback_template="assessment/_sql_feedback.html",
    uses_sandbox=True,
)

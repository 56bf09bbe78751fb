"""De-identification (`deid`): the learner releases a patient table that meets k-anonymity,
distinct l-diversity and an information-loss budget, as CSV text or as Python code (run in the
sandbox) that returns the released DataFrame. The grader measures the release outside the
sandbox (grader.py, metrics.py), on text cells.

Spec keys (all required but the references): `table` (the source patient table, CSV text,
embedded: graders cannot read course files; at most 2,000 rows, 30 columns, 200,000 characters,
200 characters a cell), `direct_identifiers`, `quasi_identifiers` (column names, in the table's
order), `sensitive` (one column), `k` (2 .. rows), `l` (1 .. distinct sensitive values),
`max_loss` (0 .. 1), `answer_mode` ("csv", "code" or "either"), `entrypoint` (the function a
code answer defines: `def release(df): return df2`), and optionally `reference_release` (CSV,
checked at validation: it must be truthful and meet the targets) and `reference_solution` (code,
checked by the builder's "Check against the reference" in the sandbox).

The release (what is accepted):
- columns: every quasi-identifier and the sensitive column; a direct identifier is dropped, or
  kept with every cell suppressed; other columns may be dropped, or kept (then generalized like a
  quasi-identifier); a column unknown to the source table scores 0;
- the sensitive column is released unchanged (equal to the source value);
- rows: at most the source's; a source row left out is suppressed (all its cells count as lost).
Generalization forms of a cell (the cell generalizes a source value when):
- the value itself;
- suppressed: empty, `*` or only stars (`***`): any value;
- a numeric interval containing the value: `30-39`, `30–39`, `30..39` (both ends included),
  `[30, 40)`, `[30-39]`, `(30, 40]` (brackets say which end is included), `60+` (60 and above);
  integer or decimal bounds;
- a masked text: the source's first characters kept and the rest written as `*`, same length
  (`20***` stands for 20000..20999 as codes, `1985-**-**` for any date of 1985);
- a set: `{Casablanca, Rabat}` or `Casablanca|Rabat`, containing the value.
Truthfulness: released rows are matched one to one with source rows (bipartite matching,
metrics.match); each must generalize its own source row, so duplicated or invented rows fail.

Information loss (Iyengar's loss metric, LM), the mean over the quasi-identifier cells of the
source rows: 0 for the value itself, 1 for a suppressed cell or a row left out; a numeric interval
(high - low) / (the column's max - min), its ends first clipped to the column's min and max (so
`60+` reaches the column's max, and `0-200` on ages loses as much as `*`); a masked text
or a set (values of the column it covers - 1) / (distinct values of the column - 1). The share of
suppressed cells (rows left out included) is reported beside it.

Score: 3 points. 0 when a direct identifier is left, the columns are wrong or the release is not
truthful. Otherwise 1 point for k met and, once k is met, 1 for l met and 1 for the loss within
the budget (publishing the source unchanged must not earn the budget's point). The feedback
names the smallest equivalence class and how far each target is; messages are codes (messages.py)."""

from assessment.kinds.base import Kind

from . import answer, builder, forms, grader, messages

KIND = Kind(
    name="deid",
    grade=grader.grade,
    validate_spec=grader.validate_spec,
    public_spec=grader.public_spec,
    validate_answer=answer.validate_answer,
    learner_form=forms.DeidForm,
    builder=builder.Builder,
    notice_text=messages.notice_text,
    body_template="assessment/_deid_body.html",
    feedback_template="assessment/_deid_feedback.html",
    uses_sandbox=True,
)

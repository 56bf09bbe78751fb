"""The words of the deid grader's stored message codes (`{"code": "deid.<name>", "params": {...}}`),
rendered in the reader's language when a page is made."""

from django.utils.translation import gettext as _


def table_text(code: str, p: dict) -> str:
    """Why a CSV table was refused (table.TableError codes)."""
    texts = {
        "empty": lambda: _("The table is empty: its first line names the columns."),
        "too_large": lambda: _("The table is too large (%(max)s characters at most).") % p,
        "nul": lambda: _("The table contains a NUL character."),
        "too_many_columns": lambda: _("The table has too many columns (%(max)s at most).") % p,
        "too_many_rows": lambda: _("The table has too many rows (%(max)s at most).") % p,
        "cell_too_long": lambda: _("Line %(line)s has a cell longer than %(max)s characters.") % p,
        "ragged": lambda: _("Line %(line)s has %(got)s cells, but the first line names %(want)s columns.") % p,
        "duplicate_column": lambda: _("The column %(name)s appears twice.") % p,
        "empty_column_name": lambda: _("A column has no name."),
        "malformed": lambda: (
            _("Line %(line)s is not valid CSV (a quote is not closed, or a cell is far too long).") % p
        ),
        "not_a_table": lambda: _("Your function must return a pandas DataFrame."),
        "column_not_text": lambda: _("The DataFrame's column names must be text."),
        "bad_cell": lambda: _("A cell of the DataFrame is neither text nor a number (line %(line)s).") % p,
    }
    make = texts.get(code)
    try:
        return make() if make else ""
    except (KeyError, TypeError, ValueError):
        return ""


def notice_text(code: str, params: dict) -> str:
    """One message of a deid submission's feedback; "" for a code this version does not know."""
    p = params if isinstance(params, dict) else {}
    if code.startswith("table_"):
        return table_text(code.removeprefix("table_"), p)
    texts = {
        "no_answer": lambda: _("No release was submitted."),
        "unknown_column": lambda: _("The column %(column)s is not a column of the source table.") % p,
        "missing_column": lambda: (
            _("The column %(column)s is missing: every quasi-identifier and the sensitive column must be released.") % p
        ),  # fmt: skip
        "direct_identifier_kept": lambda: (
            _("The column %(column)s is a direct identifier and is still there: remove it or suppress every cell.") % p
        ),  # fmt: skip
        "too_many_rows": lambda: (
            _("The release has %(released)s rows but the source table only %(source)s: rows were invented.") % p
        ),  # fmt: skip
        "untrue_cell": lambda: (
            _("Row %(row)s, column %(column)s: %(value)s generalizes no value of the source table.") % p
        ),  # fmt: skip
        "untrue_sensitive": lambda: (
            _(
                "Row %(row)s: the sensitive value %(value)s is not in the source table"
                " (the sensitive column is released unchanged)."
            )
            % p
        ),  # fmt: skip
        "untrue_row": lambda: _("Row %(row)s generalizes no source row.") % p,
        "untrue_copy": lambda: (
            _(
                "Row %(row)s is one copy too many: there are more rows like it than source rows"
                " they generalize (rows were duplicated or invented)."
            )
            % p
        ),  # fmt: skip
        "k_missed": lambda: (
            _("k-anonymity: the smallest class has k = %(k)s, the target is %(target)s (%(short)s short).") % p
        ),
        "l_missed": lambda: (
            _("l-diversity: a class has l = %(l)s distinct sensitive values, the target is %(target)s.") % p
        ),
        "loss_over": lambda: _("Information loss is %(loss)s, over the budget of %(max)s by %(over)s.") % p,
        "targets_met": lambda: _("Every target is met."),
        "k_first": lambda: _("The l-diversity and loss points count only once k-anonymity is met."),
        "missing_function": lambda: _("The function %(name)s is missing.") % p,
        "load_error": lambda: _("Your code could not be loaded: %(error)s") % p,
        "code_error": lambda: _("Your function failed: %(error)s") % p,
        "no_result": lambda: _("Your code gave no result (the program stopped)."),
        "limit": lambda: {
            "time": _("Time limit exceeded."),
            "memory": _("Memory limit exceeded."),
            "output": _("The returned table is too large."),
        }.get(p.get("limit"), ""),  # fmt: skip
    }
    make = texts.get(code)
    try:
        return make() if make else ""
    except (KeyError, TypeError, ValueError):
        return ""

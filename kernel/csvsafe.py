"""CSV that a spreadsheet opens as data, never as formulas (OWASP "CSV injection").

Excel, LibreOffice and Google Sheets run a cell that starts with `=`, `+`, `-` or `@` as a formula
(`=cmd|' /C calc'!A0`, `=HYPERLINK(...)`), and a leading tab or carriage return can hide such a
sign; the full-width signs (`＝＋－＠`) are turned into formulas by spreadsheets in East Asian locales.
Such a text cell is written with a leading `'`, which spreadsheets show as text and do not run.
Numbers (a negative score) are left alone: only text can carry a formula.

Every CSV the platform writes goes through this module (tests/platform/test_csvsafe.py fails on a
`csv.writer` or `csv.DictWriter` anywhere else):

    writer = safe_writer(fileobj)
    writer.writerow(["Name", user.full_name])
    writer = safe_dict_writer(fileobj, fieldnames=["name"])
"""

import csv
from collections.abc import Iterable, Mapping

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def csv_cell(value):
    """The value to write in a CSV cell: text that starts like a formula is quoted with `'`."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _SafeWriter:
    def __init__(self, writer):
        self._writer = writer

    def writerow(self, row: Iterable):
        return self._writer.writerow([csv_cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable]):
        for row in rows:
            self.writerow(row)


class _SafeDictWriter:
    def __init__(self, writer: csv.DictWriter):
        self._writer = writer

    def writeheader(self):
        return self._writer.writerow({k: csv_cell(k) for k in self._writer.fieldnames})

    def writerow(self, row: Mapping):
        return self._writer.writerow({k: csv_cell(v) for k, v in row.items()})

    def writerows(self, rows: Iterable[Mapping]):
        for row in rows:
            self.writerow(row)


def safe_writer(fileobj, **kwargs) -> _SafeWriter:
    """`csv.writer(fileobj, **kwargs)` whose rows go through `csv_cell`."""
    return _SafeWriter(csv.writer(fileobj, **kwargs))


def safe_dict_writer(fileobj, fieldnames, **kwargs) -> _SafeDictWriter:
    """`csv.DictWriter(fileobj, fieldnames, **kwargs)` whose header and rows go through `csv_cell`."""
    return _SafeDictWriter(csv.DictWriter(fileobj, fieldnames=fieldnames, **kwargs))

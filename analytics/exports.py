"""Gradebook exports in CSV and XLSX, written row by row from export_rows: memory stays
constant whatever the number of learners. CSV streams straight to the client; XLSX is built
with xlsxwriter's constant_memory mode (rows flushed to a temporary file) and then streamed."""

import tempfile
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal

import xlsxwriter

from kernel.csvsafe import safe_writer

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class _Echo:
    def write(self, value):
        return value


def csv_chunks(rows: Iterable[list], *, per_chunk: int = 200) -> Iterator[str]:
    """CSV text in chunks of `per_chunk` rows (with a BOM so spreadsheets read UTF-8); formula-like
    text cells are quoted (kernel.csvsafe)."""
    writer = safe_writer(_Echo())
    buffer = ["\ufeff"]
    for row in rows:
        buffer.append(writer.writerow(row))
        if len(buffer) >= per_chunk:
            yield "".join(buffer)
            buffer = []
    if buffer:
        yield "".join(buffer)


def write_csv(rows: Iterable[list], fileobj, progress: Callable[[int], None] | None = None) -> int:
    writer = safe_writer(fileobj)
    fileobj.write("\ufeff")
    n = -1
    for n, row in enumerate(rows):
        writer.writerow(row)
        if progress and n and n % 500 == 0:
            progress(n)
    return max(n, 0)


def write_xlsx(rows: Iterable[list], path: str, progress: Callable[[int], None] | None = None) -> int:
    workbook = xlsxwriter.Workbook(
        path, {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False, "tmpdir": None}
    )
    try:
        sheet = workbook.add_worksheet("Gradebook")
        bold = workbook.add_format({"bold": True})
        n = -1
        for n, row in enumerate(rows):
            for col, value in enumerate(row):
                if isinstance(value, Decimal | int | float) and not isinstance(value, bool):
                    sheet.write_number(n, col, float(value))
                elif n == 0:
                    sheet.write_string(n, col, str(value), bold)
                else:
                    sheet.write_string(n, col, str(value))
            if progress and n and n % 500 == 0:
                progress(n)
    finally:
        workbook.close()
    return max(n, 0)


def xlsx_chunks(rows: Iterable[list], *, chunk_size: int = 64 * 1024) -> Iterator[bytes]:
    """Build the workbook in a temporary file, then stream it; the file goes away when done."""
    with tempfile.NamedTemporaryFile(suffix=".xlsx") as tmp:
        write_xlsx(rows, tmp.name)
        with open(tmp.name, "rb") as f:
            while chunk := f.read(chunk_size):
                yield chunk

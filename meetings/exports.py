"""CSV files staff open in Excel or LibreOffice: UTF-8 with a byte-order mark (so Spanish and
Vietnamese open right in Excel), and no cell a spreadsheet would run as a formula."""

import csv
import io
from collections.abc import Iterable

from django.http import HttpResponse

# A cell starting with one of these is a formula (or becomes one) in Excel, LibreOffice or
# Google Sheets; the full-width equals sign is read as "=" by some of them.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def safe_cell(value: object) -> str:
    """The value as text, with a leading apostrophe where a spreadsheet would see a formula.

    Numbers stay numbers: only text is neutralised (a party size is never negative).
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def csv_response(
    filename: str, header: list[str], rows: Iterable[Iterable[object]]
) -> HttpResponse:
    """A CSV download of `rows` (lists of cells) under `header`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([safe_cell(cell) for cell in header])
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response

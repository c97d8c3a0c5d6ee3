"""CSV files staff open in a spreadsheet (meetings/exports.py): what they read is what was
typed, never a formula, and Excel reads the accents."""

import csv
import io

import pytest

from meetings.exports import csv_response, safe_cell


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+1 555 0100", "'+1 555 0100"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("＝1+1", "'＝1+1"),  # the full-width equals sign some spreadsheets read as "="
        ("Ana", "Ana"),
        ("Nguyễn", "Nguyễn"),
        (3, "3"),
        (-3, "-3"),  # a number stays a number
        (2.5, "2.5"),
        (True, "1"),
        (False, "0"),
        (None, ""),
    ],
)
def test_a_cell_is_text_as_typed_never_a_formula(value, cell):
    assert safe_cell(value) == cell


def test_the_download_is_utf8_with_a_bom_crlf_rows_and_never_cached():
    response = csv_response("rsvps.csv", ["Name", "=Note"], [["Nguyễn", "=1+1"], [None, 4]])

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="rsvps.csv"'
    assert response["Cache-Control"] == "no-store"
    body = response.content
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    assert rows == [["Name", "'=Note"], ["Nguyễn", "'=1+1"], ["", "4"]]
    assert b"\r\n" in body

"""CSV for spreadsheets (表計算用CSV), as every page's download gives it: UTF-8 with a byte order
mark (spreadsheets in Japan read it as UTF-8 then), lines ending CRLF, and no cell a spreadsheet
would run as a formula — text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return is given a leading apostrophe (a store's name, a code a municipality sent)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from starlette.responses import Response

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet would read such a cell as a formula
Cell = str | int


def cell(value: Cell) -> Cell:
    """``value`` as a spreadsheet may read it: a number as it is, text never as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([cell(name) for name in header])
    for row in rows:
        writer.writerow([cell(value) for value in row])
    return "\ufeff" + out.getvalue()


def download(text: str, name: str) -> Response:
    """``text`` as a CSV file the browser saves as ``name`` (letters, digits, '-', '.' only)."""
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )

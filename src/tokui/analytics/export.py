"""CSV and Excel files of an analysis result, safe to open in a spreadsheet.

Text that starts with = + - @ (or a tab or carriage return) would be read by Excel and
other spreadsheets as a formula; a product or customer name imported from a shop can be
anything, so such cells are neutralised: in CSV by a leading apostrophe (the convention
spreadsheets recognise), in Excel by storing the cell explicitly as text with the quote
prefix style, which keeps the value itself unchanged.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import openpyxl
import pandas as pd
from openpyxl.cell import WriteOnlyCell

from tokui.analytics.columns import column_format, plain_value

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# The row limit of an Excel sheet, header included.
XLSX_MAX_ROWS = 1_048_576


class ExportTooLargeError(ValueError):
    """The result has more rows than the file format can hold."""


def is_formula_like(value: object) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_PREFIXES)


def neutralise(value: Any) -> Any:
    return "'" + value if is_formula_like(value) else value


def _rows(df: pd.DataFrame) -> Iterator[list[Any]]:
    """Values as written: dates as ISO text (full dates, machine-readable), no NaN."""
    fmts = {
        c: ("date" if f in ("date", "month") else f)
        for c, f in ((c, column_format(c, df[c])) for c in df.columns)
    }
    columns = list(df.columns)
    for row in df.itertuples(index=False, name=None):
        yield [plain_value(v, fmts[c]) for c, v in zip(columns, row, strict=True)]


def to_csv(df: pd.DataFrame) -> bytes:
    """UTF-8 with BOM, so Excel in Japan opens it without garbling."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([neutralise(str(c)) for c in df.columns])
    for row in _rows(df):
        writer.writerow(["" if v is None else neutralise(v) for v in row])
    return buf.getvalue().encode("utf-8-sig")


def to_xlsx(df: pd.DataFrame, sheet: str = "result") -> bytes:
    if len(df) + 1 > XLSX_MAX_ROWS:
        raise ExportTooLargeError(
            f"{len(df):,} rows do not fit in an Excel sheet ({XLSX_MAX_ROWS - 1:,} at most); "
            "download CSV instead"
        )
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet(sheet[:31])

    def cell(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        text = WriteOnlyCell(ws, value=value)
        # openpyxl makes any text starting with "=" a formula; text stays text.
        text.data_type = "s"
        if is_formula_like(value):
            text.quotePrefix = True
        return text

    ws.append([cell(str(c)) for c in df.columns])
    for row in _rows(df):
        ws.append([cell(v) for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()

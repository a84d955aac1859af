"""Reading CSV, TSV and Excel files into rows of text.

Everything is read as text: parsing and validation belong to the profile, which knows
what each column means. Row numbers are those a person sees in the file: the header is
row 1 and each record (even one spanning several lines in quotes) is one row.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

# Above this a cell is almost certainly a broken quote swallowing the rest of the file.
MAX_FIELD_CHARS = 1_000_000
ENCODINGS = ("utf-8-sig", "utf-8", "cp932")


class ReadError(ValueError):
    """A file that cannot be read at all (encoding, quoting, not a table)."""

    def __init__(self, file: str, message: str, row: int | None = None) -> None:
        where = f"{file}, row {row}" if row is not None else file
        super().__init__(f"{where}: {message}")
        self.file = file
        self.row = row
        self.message = message


@dataclass
class RawTable:
    file: str
    columns: list[str]
    rows: list[list[str]]
    row_numbers: list[int]
    encoding: str = ""
    # Rows whose field count differs from the header: (row number, field count).
    ragged: list[tuple[int, int]] = field(default_factory=list)


def decode(data: bytes, file: str) -> tuple[str, str]:
    """The text and the encoding it decoded with, trying strict decodes in order."""
    candidates = ENCODINGS if data.startswith(b"\xef\xbb\xbf") else ENCODINGS[1:]
    for encoding in candidates:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise ReadError(
        file, "cannot decode the file as UTF-8 (with or without BOM) or Shift_JIS (CP932)"
    )


def _unique_headers(header: list[str]) -> list[str]:
    # EC-CUBE order exports carry 送料 twice (order and shipment); keep both, reachable.
    seen: dict[str, int] = {}
    out = []
    for raw in header:
        name = raw.strip()
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}#{seen[name]}")
    return out


def _delimiter(path: Path, first_line: str) -> str:
    if path.suffix.lower() == ".tsv":
        return "\t"
    if first_line.count("\t") > first_line.count(","):
        return "\t"
    return ","


def read_delimited(path: Path, text: str, encoding: str) -> RawTable:
    file = path.name
    first_line = text.split("\n", 1)[0]
    csv.field_size_limit(MAX_FIELD_CHARS * 64)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(path, first_line))
    rows: list[list[str]] = []
    numbers: list[int] = []
    header: list[str] | None = None
    number = 0
    try:
        for record in reader:
            number += 1
            if header is None:
                header = _unique_headers(record)
                continue
            if not any(cell.strip() for cell in record):
                continue
            rows.append(record)
            numbers.append(number)
    except csv.Error as exc:
        raise ReadError(file, f"broken CSV quoting: {exc}", number + 1) from exc
    if header is None or not any(header):
        raise ReadError(file, "the file is empty (no header row)")
    table = RawTable(file, header, rows, numbers, encoding)
    _mark_ragged(table)
    return table


def _mark_ragged(table: RawTable) -> None:
    width = len(table.columns)
    for number, row in zip(table.row_numbers, table.rows, strict=True):
        if len(row) != width:
            table.ragged.append((number, len(row)))
            row.extend([""] * (width - len(row)))


def _cell_text(value: object) -> str:
    # Excel stores shop-local wall-clock times; render them like a CSV export would.
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M:%S")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_xlsx(path: Path) -> RawTable:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a non-workbook
        raise ReadError(path.name, f"not a readable xlsx workbook: {exc}") from exc
    try:
        sheet = book.worksheets[0]
        header: list[str] | None = None
        rows: list[list[str]] = []
        numbers: list[int] = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [_cell_text(v) for v in values]
            if header is None:
                header = _unique_headers(cells)
                while header and not header[-1]:
                    header.pop()
                continue
            if not any(c.strip() for c in cells):
                continue
            cells = cells[: len(header)] + [""] * (len(header) - len(cells))
            rows.append(cells)
            numbers.append(number)
    finally:
        book.close()
    if not header:
        raise ReadError(path.name, "the first sheet is empty (no header row)")
    return RawTable(path.name, header, rows, numbers, "xlsx")


READERS: dict[str, Callable[[Path], RawTable]] = {".xlsx": read_xlsx}


def read_table(path: Path) -> RawTable:
    """The file's header and rows as text."""
    if not path.is_file():
        raise ReadError(path.name, "no such file")
    reader = READERS.get(path.suffix.lower())
    if reader is not None:
        return reader(path)
    text, encoding = decode(path.read_bytes(), path.name)
    return read_delimited(path, text, encoding)

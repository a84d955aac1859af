"""A file as Arrow columns of text: pyarrow.csv for delimited files, read.py otherwise.

pyarrow reads CSV and TSV in blocks on every core, all columns as strings, transcoding
Shift_JIS to UTF-8 as it streams. It numbers rows only while every record has the
header's field count (an empty line reads as a record of empty cells, so it still
counts); at the first record that does not, the file is read again by read.py, which
numbers every record the way a person counts them and marks the broken ones. Excel
workbooks are small and always come through read.py.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from tokui.ingest.columns import mask, strip
from tokui.ingest.read import (
    ENCODINGS,
    READERS,
    RawTable,
    ReadError,
    _delimiter,
    _unique_headers,
    read_delimited,
)

CHUNK = 16 << 20
# A record must fit in one block; larger ones (a broken quote swallowing the file) are
# left to read.py, which reports them.
BLOCK_SIZE = 64 << 20
_BOM = b"\xef\xbb\xbf"


@dataclass
class Frame:
    """Header and cells of a file as equally long string columns, one per header name."""

    file: str
    columns: list[str]
    data: list[pa.Array]
    rows: np.ndarray  # the file row (header = 1) of each data row
    encoding: str = ""
    ragged: dict[int, int] = field(default_factory=dict)  # row -> field count

    def __len__(self) -> int:
        return len(self.rows)

    def column(self, name: str) -> pa.Array:
        """A source column's cells; a column the file lacks reads as empty cells."""
        try:
            return self.data[self.columns.index(name)]
        except ValueError:
            return pa.repeat(pa.scalar("", pa.string()), len(self))

    def cell(self, name: str, i: int) -> str:
        if name not in self.columns:
            return ""
        return str(self.data[self.columns.index(name)][i].as_py())


def from_raw(raw: RawTable) -> Frame:
    width = len(raw.columns)
    data = [pa.array([r[i] for r in raw.rows], pa.string()) for i in range(width)]
    rows = np.asarray(raw.row_numbers, dtype=np.int64)
    return Frame(raw.file, list(raw.columns), data, rows, raw.encoding, dict(raw.ragged))


def detect_encoding(path: Path) -> str:
    """The first of UTF-8 with BOM, UTF-8 and CP932 that decodes the whole file strictly.

    Streams the file, so its size costs time but not memory.
    """
    with path.open("rb") as f:
        bom = f.read(3) == _BOM
    for encoding in ENCODINGS if bom else ENCODINGS[1:]:
        decoder = codecs.getincrementaldecoder(encoding)("strict")
        try:
            with path.open("rb") as f:
                while chunk := f.read(CHUNK):
                    decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise ReadError(
        path.name, "cannot decode the file as UTF-8 (with or without BOM) or Shift_JIS (CP932)"
    )


def _head(path: Path, encoding: str) -> str:
    """The decoded start of the file, at least its first line when there is one."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    text = ""
    with path.open("rb") as f:
        while chunk := f.read(1 << 16):
            text += decoder.decode(chunk)
            if "\n" in text and len(text) > 1 << 16:
                break
    return text


class _Irregular(Exception):
    """A file pyarrow should not number: read.py reads it."""


def read_frame(path: Path) -> Frame:
    """The file's header and rows as Arrow string columns."""
    if not path.is_file():
        raise ReadError(path.name, "no such file")
    reader = READERS.get(path.suffix.lower())
    if reader is not None:
        return from_raw(reader(path))
    encoding = detect_encoding(path)
    head = _head(path, encoding)
    delimiter = _delimiter(path, head.split("\n", 1)[0])
    try:
        return _read_arrow(path, encoding, head, delimiter)
    except (_Irregular, pa.ArrowInvalid):
        text = path.read_bytes().decode(encoding)
        return from_raw(read_delimited(path, text, encoding))


def _read_arrow(path: Path, encoding: str, head: str, delimiter: str) -> Frame:
    first = next(csv.reader(io.StringIO(head, newline=""), delimiter=delimiter), None)
    if not first:
        raise _Irregular
    names = [f"f{i}" for i in range(len(first))]

    def irregular(_row: object) -> str:
        return "error"  # pyarrow raises ArrowInvalid: read.py takes over

    reader = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(
            encoding="utf8" if encoding.startswith("utf-8") else encoding,
            column_names=names,
            block_size=BLOCK_SIZE,
        ),
        parse_options=pacsv.ParseOptions(
            delimiter=delimiter,
            newlines_in_values=True,
            ignore_empty_lines=False,
            invalid_row_handler=irregular,
        ),
        convert_options=pacsv.ConvertOptions(
            column_types={n: pa.string() for n in names},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
            check_utf8=True,
        ),
    )
    table = reader.read_all()
    count = len(table)
    chunks: list[pa.ChunkedArray | None] = list(table.columns)
    del table
    data = []
    for i, chunked in enumerate(chunks):
        assert chunked is not None
        chunks[i] = None  # one column's blocks and its copy at a time, not the whole file
        try:
            data.append(chunked.combine_chunks())
        except pa.ArrowInvalid:  # over 2 GiB of text in one column
            data.append(chunked.cast(pa.large_string()).combine_chunks())
        del chunked
    header = _unique_headers([str(col[0].as_py()) for col in data]) if count else []
    if not any(header):
        raise ReadError(path.name, "the file is empty (no header row)")
    data = [col.slice(1) for col in data]
    rows = np.arange(2, count + 1, dtype=np.int64)
    blank = np.ones(len(rows), dtype=bool)
    for col in data:
        blank &= mask(pc.equal(strip(col), ""))
    if blank.any():
        keep = pa.array(~blank)
        data = [col.filter(keep) for col in data]
        rows = rows[~blank]
    return Frame(path.name, header, data, rows, encoding)

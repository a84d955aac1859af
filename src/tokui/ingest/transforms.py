"""A profile's column maps applied to whole columns (the fast path of validate._convert).

`convert` gives a column's values over every row and the mask of cells it is certain
of; `post` adds column_value's checks (lower case, integer range, required, allowed
values) as masks. Cells left outside the mask are settled by the per-cell reference.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tokui.ingest import columns as col
from tokui.ingest.frame import Frame
from tokui.ingest.profile import ColumnMap
from tokui.ingest.validate import INT_LIMITS
from tokui.warehouse.schema import TABLES

ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "int64": pa.int64(),
    "int32": pa.int32(),
    "timestamp": pa.timestamp("us"),
    "date": pa.date32(),
    "boolean": pa.bool_(),
}


class Columns:
    """Source columns stripped and folded once, shared by every target."""

    def __init__(self, frame: Frame) -> None:
        self.frame = frame
        self._stripped: dict[str, pa.Array] = {}
        self._folded: dict[str, tuple[pa.Array, np.ndarray]] = {}
        self._decimals: dict[int, tuple[pa.Array, col.Decimals]] = {}

    def stripped(self, name: str) -> pa.Array:
        if name not in self._stripped:
            self._stripped[name] = col.strip(self.frame.column(name))
        return self._stripped[name]

    def folded(self, name: str) -> tuple[pa.Array, np.ndarray]:
        if name not in self._folded:
            self._folded[name] = col.fold(self.stripped(name))
        return self._folded[name]

    def decimals(self, text: pa.Array) -> col.Decimals:
        """col.decimals of a column's text, once per array: an amount read as money and
        as the dividend of a unit price is parsed once."""
        hit = self._decimals.get(id(text))
        if hit is None or hit[0] is not text:
            hit = (text, col.decimals(*col.fold(text)))
            self._decimals[id(text)] = hit
        return hit[1]


class Converted:
    """A column's values over the candidate rows: Arrow values, and the certain cells."""

    def __init__(self, values: pa.Array, fast: np.ndarray) -> None:
        self.values = values
        self.fast = fast


def with_default(text: pa.Array, default: str | None) -> pa.Array:
    """_convert's empty-cell rule: the default when the cell is empty, else null."""
    empty = pc.equal(text, "")
    if not pc.any(empty).as_py():
        return text  # the same array: encodings cached by identity carry over
    if default:
        return pc.if_else(empty, default, text)
    return pc.if_else(empty, pa.scalar(None, pa.string()), text)


def _filled(text: pa.Array) -> bool:
    """No cell is empty or null."""
    if text.null_count or len(text) == 0:
        return len(text) == 0
    return bool(pc.min(pc.binary_length(text)).as_py() > 0)


def convert(cols: Columns, m: ColumnMap, tz: str, n: int) -> Converted | None:
    """The fast path of validate._convert for one column over all rows; None: none."""
    made = _convert(cols, m, tz, n)
    if m.prefer is None or made is None:
        return made
    preferred = cols.stripped(m.prefer)
    given = pc.not_equal(preferred, "")
    if not pc.any(given).as_py():
        return made
    # A preferred cell is the value as is, a certain one: nothing of the transform's
    # result for that row is kept, its doubts included.
    values = pc.if_else(given, preferred.cast(made.values.type), made.values)
    return Converted(values, made.fast | col.mask(given))


def _convert(cols: Columns, m: ColumnMap, tz: str, n: int) -> Converted | None:
    t = m.transform
    all_fast = np.ones(n, dtype=bool)
    if t in ("combine", "coalesce"):
        texts = [cols.stripped(s) for s in m.sources]
        if t == "combine" and all(_filled(text) for text in texts):
            # No part is empty: every cell is all parts joined.
            return Converted(pc.binary_join_element_wise(*texts, m.separator), all_fast)
        parts = [pc.if_else(pc.equal(text, ""), None, text) for text in texts]
        if t == "combine":
            # Pairwise: binary_join_element_wise's "skip" drops rows where all are null.
            joined = parts[0]
            for part in parts[1:]:
                both = pc.binary_join_element_wise(joined, part, m.separator)
                joined = pc.if_else(
                    pc.is_null(joined), part, pc.if_else(pc.is_null(part), joined, both)
                )
            joined = pc.fill_null(joined, "")
            result = pc.if_else(pc.equal(joined, ""), pa.scalar(m.default, pa.string()), joined)
        else:
            result = pc.coalesce(*parts, pa.scalar(m.default, pa.string()))
        return Converted(result, all_fast)
    if t in ("multiply", "divide", "add_tax"):
        return arithmetic(cols, m, n)
    if t in ("constant", "sequence", "split_name"):
        return None
    text = with_default(cols.stripped(m.sources[0]), m.default)
    empty = ~col.mask(pc.is_valid(text))
    if t == "rename":
        return Converted(text, all_fast)
    if t == "lower":
        return Converted(pc.ascii_lower(text), col.mask(pc.string_is_ascii(text)) | empty)
    if t in ("money", "integer"):
        ints, fast = col.integers(cols.decimals(text), m.round, whole_only=t == "integer")
        if m.min is not None:
            fast &= ints >= m.min
        return _blank_empty(pa.array(ints, pa.int64()), fast, empty)
    folded, certain = col.fold(text)
    if t == "parse_date":
        values, fast = col.dates(folded, certain)
    elif t == "parse_datetime":
        values, fast = col.datetimes(folded, certain, m.timezone or tz)
    elif t == "map_values":
        values, found = col.lookup(folded, m.values)
        fast = found & certain
        if m.default is not None:
            values = pc.if_else(pa.array(found), values, m.default)
            fast = certain.copy()
    elif t == "boolean":
        values, fast = col.booleans(folded, certain)
    elif t == "postal_code":
        values, fast = col.postal_codes(folded, certain)
    elif t == "prefecture":
        values, fast = col.prefectures(folded, certain)
    else:  # pragma: no cover - every transform is listed above or has no fast path
        return None
    return _blank_empty(values, fast, empty)


def _blank_empty(values: pa.Array, fast: np.ndarray, empty: np.ndarray) -> Converted:
    """Empty cells (without a default) are null, and certain."""
    if empty.any():
        values = pc.if_else(pa.array(empty), pa.scalar(None, values.type), values)
    return Converted(values, fast | empty)


def arithmetic(cols: Columns, m: ColumnMap, n: int) -> Converted:
    texts = [cols.stripped(s) for s in m.sources]
    missing = np.zeros(n, dtype=bool)
    for text in texts:
        missing |= col.mask(pc.equal(text, ""))
    if m.default is None:
        ops = [cols.decimals(text) for text in texts]
        values, fast = col.arithmetic(m.transform, ops)
        fast |= missing
        if m.min is not None:
            fast &= missing | (values >= m.min)
        return Converted(pa.array(values, pa.int64(), mask=missing), fast)
    ops = [cols.decimals(with_default(text, m.default)) for text in texts]
    values, fast = col.arithmetic(m.transform, ops)
    if m.min is not None:
        fast &= values >= m.min
    return Converted(pa.array(values, pa.int64()), fast)


def post(converted: Converted, m: ColumnMap, table: str, name: str) -> Converted:
    """column_value's checks after conversion, as masks: failing cells leave the fast path."""
    column = TABLES[table].column(name)
    values, fast = converted.values, converted.fast.copy()
    if m.lowercase and pa.types.is_string(values.type):
        fast &= col.mask(pc.string_is_ascii(values)) | ~col.mask(pc.is_valid(values))
        values = pc.ascii_lower(values)
    # int64 results of the fast path are always in range (at most 18 digits).
    if column.dtype == "int32" and pa.types.is_integer(values.type):
        limit = INT_LIMITS["int32"]
        inside = pc.and_(pc.greater_equal(values, -limit), pc.less(values, limit))
        fast &= col.mask(inside) | ~col.mask(pc.is_valid(values))
    if not column.nullable:
        fast &= col.mask(pc.is_valid(values))
    if column.values:
        allowed = pc.is_in(values, pa.array(column.values, pa.string()))
        fast &= col.mask(allowed) | ~col.mask(pc.is_valid(values))
    target_type = ARROW_TYPES[column.dtype]
    if values.type != target_type:
        values = values.cast(target_type, safe=False)
    return Converted(values, fast)

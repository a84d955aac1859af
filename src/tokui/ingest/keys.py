"""Row-order rules over whole columns: key codes, the first row of each key, line
numbers within a group, fill-down sources. Sorting and hashing replace the dicts a
row-by-row loop would keep.

Most big key columns (order ids) hold no repeats. Proving that takes a 64-bit hash per
value and a sort of the hashes, several times cheaper than a dictionary of ten million
strings; a column without repeats is coded by row position, and the rules below take
their shortcut when every code is different.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# Below this many values a dictionary is as cheap as the hashes.
HASH_MIN = 100_000
# A repeat among the first values settles the question without hashing them all.
PREFIX = 50_000


def all_distinct(array: pa.Array) -> bool:
    """Whether the non-null values of `array` are all different.

    Exact: different hashes mean different values, so hashes without a repeat prove it;
    a repeated hash (a repeated value, or a collision) answers False and the caller
    falls back to a dictionary.
    """
    prefix = array.slice(0, PREFIX).drop_null()
    if len(pc.unique(prefix)) < len(prefix):
        return False
    con = duckdb.connect()
    try:
        con.register("values_", pa.table({"v": array}))
        hashed = con.execute("SELECT hash(v) FROM values_ WHERE v IS NOT NULL").to_arrow_table()
    finally:
        con.close()
    hashes = np.sort(hashed.column(0).to_numpy())
    return not bool((hashes[1:] == hashes[:-1]).any())


def strictly_increasing(codes: np.ndarray) -> bool:
    """Whether the codes other than -1 are all different (they rise with the row)."""
    present = codes[codes >= 0]
    return bool((present[1:] > present[:-1]).all())


class Encodings:
    """Integer codes of arrays, cached by identity: the same key column (an order id
    shared by orders and their lines) is coded once."""

    def __init__(self) -> None:
        self._cache: dict[int, tuple[pa.Array, np.ndarray, int]] = {}

    def encode(self, array: pa.Array) -> tuple[np.ndarray, int]:
        """A code per value, equal for equal values, -1 for null; and the code count.

        The count is the number of distinct values, except that a column without
        repeats is coded by row position and counts its rows (nulls included).
        """
        hit = self._cache.get(id(array))
        if hit is not None and hit[0] is array:
            return hit[1], hit[2]
        if len(array) >= HASH_MIN and all_distinct(array):
            part = np.arange(len(array), dtype=np.int64)
            if array.null_count:
                part[np.asarray(pc.is_null(array).to_numpy(zero_copy_only=False))] = -1
            size = len(array)
        else:
            encoded = pc.dictionary_encode(array)
            part = np.asarray(encoded.indices.fill_null(-1).to_numpy(), dtype=np.int64)
            size = len(encoded.dictionary)
        self._cache[id(array)] = (array, part, size)
        return part, size

    def combine(self, codes: np.ndarray, array: pa.Array) -> np.ndarray:
        """Codes of (previous codes, array value) pairs; nulls count as a value here."""
        part, distinct = self.encode(array)
        size = distinct + 1
        if codes.max(initial=0) >= 2**62 // size:
            codes = np.unique(codes, return_inverse=True)[1].astype(np.int64)
        return np.asarray(codes * size + part + 1, dtype=np.int64)

    def codes(self, arrays: list[pa.Array], valid: np.ndarray | None = None) -> np.ndarray:
        """One integer per distinct tuple of values; -1 where a value is null or not `valid`."""
        n = len(arrays[0]) if arrays else 0
        codes = np.zeros(n, dtype=np.int64)
        ok = np.ones(n, dtype=bool) if valid is None else valid.copy()
        for array in arrays:
            part, distinct = self.encode(array)
            ok &= part >= 0
            size = distinct + 1
            if codes.max(initial=0) >= 2**62 // size:
                codes = np.unique(codes, return_inverse=True)[1].astype(np.int64)
            codes = codes * size + part + 1
        return np.where(ok, codes, -1)


def first_per_code(codes: np.ndarray, eligible: np.ndarray) -> np.ndarray:
    """For each row, the position of the first eligible row with its code (or -1)."""
    n = len(codes)
    if strictly_increasing(codes):
        return np.where(eligible & (codes >= 0), np.arange(n), -1)
    idx = np.flatnonzero(eligible & (codes >= 0))
    first = np.full(n, -1, dtype=np.int64)
    if len(idx) == 0:
        return first
    table = np.full(int(codes.max()) + 1, n, dtype=np.int64)
    sub = codes[idx]
    # Dictionary codes are numbered in order of first appearance. A row whose code is
    # above every earlier one is that code's first row; when there are as many such rows
    # as codes, they are all the first rows and no scatter-minimum is needed.
    new = np.empty(len(sub), dtype=bool)
    new[0] = True
    np.greater(sub[1:], np.maximum.accumulate(sub)[:-1], out=new[1:])
    seen = np.zeros(len(table), dtype=bool)
    seen[sub] = True
    if int(new.sum()) == int(seen.sum()):
        table[sub[new]] = idx[new]
    else:
        np.minimum.at(table, sub, idx)
    has = codes >= 0
    first[has] = table[codes[has]]
    first[first == n] = -1
    return first


def rank_in_group(codes: np.ndarray) -> np.ndarray:
    """1, 2, 3 ... within each code, in row order."""
    if bool((codes[1:] > codes[:-1]).all()):
        return np.ones(len(codes), dtype=np.int64)
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    starts = np.r_[True, sorted_codes[1:] != sorted_codes[:-1]] if len(codes) else np.zeros(0, bool)
    position = np.arange(len(codes))
    rank = position - np.maximum.accumulate(np.where(starts, position, 0)) + 1
    out = np.empty(len(codes), dtype=np.int64)
    out[order] = rank
    return out


def fill_sources(codes: np.ndarray, blank: np.ndarray) -> np.ndarray:
    """For each row, the row whose value it takes when blank cells are filled down.

    A blank cell takes its key's latest non-blank value, or the key's first row when
    there is none (validate.fill_down). Rows are sorted by key, stably, so file order
    holds within a key; a running maximum of "last non-blank position, else the key's
    first position" then picks each cell's source.
    """
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    starts = np.r_[True, sorted_codes[1:] != sorted_codes[:-1]]
    position = np.arange(len(order))
    group_start = np.maximum.accumulate(np.where(starts, position, 0))
    source = np.maximum.accumulate(np.where(blank[order], group_start, position))
    index = np.empty(len(order), dtype=np.int64)
    index[order] = order[source]
    return index

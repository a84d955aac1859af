"""Row-order rules over whole columns: key codes, the first row of each key, line
numbers within a group, fill-down sources. Sorting and hashing replace the dicts a
row-by-row loop would keep."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


class Encodings:
    """Dictionary codes of arrays, cached by identity: the same key column (an order id
    shared by orders and their lines) is hashed once."""

    def __init__(self) -> None:
        self._cache: dict[int, tuple[pa.Array, np.ndarray, int]] = {}

    def encode(self, array: pa.Array) -> tuple[np.ndarray, int]:
        hit = self._cache.get(id(array))
        if hit is not None and hit[0] is array:
            return hit[1], hit[2]
        encoded = pc.dictionary_encode(array)
        part = np.asarray(encoded.indices.fill_null(-1).to_numpy(), dtype=np.int64)
        self._cache[id(array)] = (array, part, len(encoded.dictionary))
        return part, len(encoded.dictionary)

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
    idx = np.flatnonzero(eligible & (codes >= 0))
    first = np.full(n, -1, dtype=np.int64)
    if len(idx) == 0:
        return first
    table = np.full(int(codes.max()) + 1, n, dtype=np.int64)
    np.minimum.at(table, codes[idx], idx)
    has = codes >= 0
    first[has] = table[codes[has]]
    first[first == n] = -1
    return first


def rank_in_group(codes: np.ndarray) -> np.ndarray:
    """1, 2, 3 ... within each code, in row order."""
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

"""A profile applied to whole columns: the columnar twin of validate.map_rows.

Every transform runs over a whole Arrow column (transforms.py on columns.py). Cells the
fast path does not claim go through validate.column_value, the per-cell reference,
which gives their value or the exact error. Row-order rules (fill-down, first row of a
repeated key, duplicate keys, line numbers) are computed over key codes (keys.py), so
the result is the one map_rows would give: same rows, values, errors (in the same
order) and rejected counts.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tokui.ingest import columns as col
from tokui.ingest import parse
from tokui.ingest.frame import Frame
from tokui.ingest.keys import Encodings, fill_sources, first_per_code, rank_in_group
from tokui.ingest.profile import ColumnMap, Profile, RowFilter, Target
from tokui.ingest.read import MAX_FIELD_CHARS
from tokui.ingest.transforms import ARROW_TYPES, Columns, Converted, convert, post
from tokui.ingest.validate import Errors, RowError, _clip, column_value
from tokui.warehouse.schema import TABLES


@dataclass
class TableRows:
    """One target's canonical rows (mapped columns only) and the file row of each."""

    table: pa.Table
    rows: np.ndarray


@dataclass
class ColumnarMapped:
    tables: dict[str, TableRows]
    rejected: dict[str, int]


class _ErrorHeap:
    """The first `cap` errors in map_rows' order, and how many there were in all."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.heap: list[tuple[tuple[int, ...], int, RowError]] = []
        self.total = 0
        self.seq = 0

    def add(self, key: tuple[int, ...], error: RowError) -> None:
        self.total += 1
        self.seq += 1
        item = (tuple(-k for k in key), -self.seq, error)
        if len(self.heap) < self.cap:
            heapq.heappush(self.heap, item)
        elif item > self.heap[0]:
            heapq.heapreplace(self.heap, item)

    def drain(self, errors: Errors) -> None:
        ordered = sorted(self.heap, reverse=True)
        for _key, _seq, error in ordered:
            errors.add(error)
        errors.total += self.total - len(ordered)


class _Cell:
    """One file row, as validate's per-cell functions read it."""

    def __init__(self, frame: Frame, i: int) -> None:
        self.frame = frame
        self.i = i
        self.number = int(frame.rows[i])

    def get(self, column: str) -> str:
        return self.frame.cell(column, self.i)


def fill_down(frame: Frame, profile: Profile) -> None:
    """validate.fill_down over columns: a blank cell takes its key's latest non-blank value."""
    spec = profile.fill_down
    if spec is None or spec.key not in frame.columns or len(frame) == 0:
        return
    codes = np.asarray(pc.dictionary_encode(frame.column(spec.key)).indices.to_numpy())
    for name in spec.columns:
        if name not in frame.columns:
            continue
        cells = frame.column(name)
        blank = col.mask(pc.equal(col.strip(cells), ""))
        index = fill_sources(codes, blank)
        frame.data[frame.columns.index(name)] = cells.take(pa.array(index))


def _row_checks(frame: Frame, heap: _ErrorHeap) -> np.ndarray:
    """Ragged rows and over-long cells: errors, and the mask of rows they spoil."""
    bad = np.zeros(len(frame), dtype=bool)
    if frame.ragged:
        where = {int(r): i for i, r in enumerate(frame.rows)}
        width = len(frame.columns)
        for number, count in frame.ragged.items():
            bad[where[number]] = True
            heap.add(
                (number, 0, 0, 0),
                RowError(
                    frame.file,
                    number,
                    None,
                    None,
                    "field_count",
                    f"row has {count} fields, the header has {width} (truncated or broken row)",
                ),
            )
    for c, (name, cells) in enumerate(zip(frame.columns, frame.data, strict=True)):
        # A cell has at least as many bytes as characters: count characters only when
        # some cell has too many bytes.
        if not pc.any(pc.greater(pc.binary_length(cells), MAX_FIELD_CHARS)).as_py():
            continue
        long = col.mask(pc.greater(pc.utf8_length(cells), MAX_FIELD_CHARS))
        for i in np.flatnonzero(long):
            cell = str(cells[int(i)].as_py())
            bad[i] = True
            heap.add(
                (int(frame.rows[i]), 0, 1, c),
                RowError(
                    frame.file,
                    int(frame.rows[i]),
                    name,
                    _clip(cell),
                    "max_length",
                    f"value is {len(cell):,} characters (limit {MAX_FIELD_CHARS:,})",
                ),
            )
    return bad


def _passes(cols: Columns, filters: list[RowFilter]) -> np.ndarray:
    ok = np.ones(len(cols.frame), dtype=bool)
    for f in filters:
        value = cols.stripped(f.column)
        if f.not_empty:
            ok &= col.mask(pc.not_equal(value, ""))
        if f.equals is not None:
            folded, certain = cols.folded(f.column)
            hit = col.mask(pc.is_in(folded, pa.array(f.equals, pa.string())))
            for i in np.flatnonzero(~certain):
                hit[i] = parse.fold(str(value[int(i)].as_py())) in f.equals
            ok &= hit
    return ok


def _cache_key(m: ColumnMap, tz: str) -> str:
    return f"{m.model_dump_json()}|{tz}"


class _TargetMapper:
    def __init__(
        self,
        frame: Frame,
        cols: Columns,
        cache: dict[str, Converted | None],
        target: Target,
        ti: int,
        tz: str,
        heap: _ErrorHeap,
        enc: Encodings,
        uses: dict[str, int],
    ) -> None:
        self.frame, self.cols, self.cache, self.enc = frame, cols, cache, enc
        self.uses = uses
        self.target, self.ti, self.tz, self.heap = target, ti, tz, heap
        self.spec = TABLES[target.table]
        self.names = list(target.columns)

    def _groups(self, sources: list[str], cand: np.ndarray) -> np.ndarray:
        """validate._convert's sequence groups ("\\x1f".join of stripped cells) as codes."""
        columns = [self.cols.stripped(s) for s in sources]
        if len(cand) != len(self.frame):
            columns = [c.take(pa.array(cand)) for c in columns]
        # The last source is most often an id unique on its own, and then every group
        # has one row whatever the other cells hold.
        part, distinct = self.enc.encode(columns[-1])
        if distinct == len(cand) and not columns[-1].null_count:
            return part
        if len(columns) > 1 and any(pc.any(pc.match_substring(c, "\x1f")).as_py() for c in columns):
            # A tuple of cells and their joined text group alike only without the separator.
            columns = [pc.binary_join_element_wise(*columns, "\x1f")]
        codes = np.zeros(len(cand), dtype=np.int64)
        for column in reversed(columns):
            codes = self.enc.combine(codes, column)
        return codes

    def converted(self, m: ColumnMap, name: str, cand: np.ndarray) -> Converted | None:
        key = _cache_key(m, self.tz)
        if key not in self.cache:
            self.cache[key] = convert(self.cols, m, self.tz, len(self.frame))
        base = self.cache[key]
        self.uses[key] -= 1
        if self.uses[key] == 0:
            del self.cache[key]  # its last target: free the column early
        if base is None:
            return None
        if len(cand) == len(self.frame):
            sub = Converted(base.values, base.fast.copy())
        else:
            sub = Converted(base.values.take(pa.array(cand)), base.fast[cand])
        return post(sub, m, self.target.table, name)

    def slow(self, name: str, m: ColumnMap, rows: np.ndarray) -> list[tuple[Any, RowError | None]]:
        return [
            column_value(
                self.frame.file, _Cell(self.frame, int(i)), self.target.table, name, m, self.tz, {}
            )
            for i in rows
        ]

    def constant(self, name: str, m: ColumnMap, n: int) -> tuple[pa.Array, RowError | None]:
        column = self.spec.column(name)
        value, error = (
            column_value(
                self.frame.file, _Cell(self.frame, 0), self.target.table, name, m, self.tz, {}
            )
            if len(self.frame)
            else (None, None)
        )
        try:
            array = pa.array([value], ARROW_TYPES[column.dtype])
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            array = pa.array([value])
        return pa.repeat(array[0], n) if n else array.slice(0, 0), error

    def run(self, passes: np.ndarray, row_bad: np.ndarray) -> tuple[TableRows, int]:
        target, frame = self.target, self.frame
        rejected = int((passes & row_bad).sum())
        cand = np.flatnonzero(passes & ~row_bad)
        n = len(cand)
        numbers = frame.rows[cand]
        values: dict[str, pa.Array] = {}
        fast: dict[str, np.ndarray] = {}
        constants: dict[str, RowError | None] = {}
        for name, m in target.columns.items():
            if m.transform == "sequence":
                continue
            if m.transform == "constant":
                values[name], constants[name] = self.constant(name, m, n)
                fast[name] = np.full(n, constants[name] is None)
                continue
            conv = self.converted(m, name, cand)
            if conv is None:
                values[name] = pa.nulls(n, ARROW_TYPES[self.spec.column(name).dtype])
                fast[name] = np.zeros(n, dtype=bool)
            else:
                values[name], fast[name] = conv.values, conv.fast
        pk = list(self.spec.primary_key)
        seq_pk = any(target.columns[k].transform == "sequence" for k in pk)
        errors: dict[str, dict[int, RowError]] = {}
        # Key cells first: which rows a repeated key skips depends on them.
        key_names = [k for k in pk if target.columns[k].transform != "sequence"]
        for name in key_names:
            self._settle(name, np.flatnonzero(~fast[name]), values, fast, errors, constants, cand)
        skipped = np.zeros(n, dtype=bool)
        first_only = target.duplicates == "first" and not seq_pk
        key_codes = np.zeros(0, dtype=np.int64)
        if first_only:
            certain_ok = np.ones(n, dtype=bool)
            for name in fast:
                certain_ok &= fast[name]
            key_ok = np.ones(n, dtype=bool)
            for k in key_names:
                key_ok &= fast[k]
            key_codes = self.enc.codes([values[k] for k in key_names], key_ok)
            first = first_per_code(key_codes, certain_ok)
            skipped = (first >= 0) & (first < np.arange(n))
        for name in values:
            if name in key_names:
                continue
            todo = np.flatnonzero(~fast[name] & ~skipped)
            self._settle(name, todo, values, fast, errors, constants, cand)
        ok = np.ones(n, dtype=bool)
        for name in values:
            ok &= fast[name]
        if first_only:
            # Key cells were settled first, so their codes still hold.
            first = first_per_code(key_codes, ok)
            reach = ~((first >= 0) & (first < np.arange(n)))
        else:
            reach = np.ones(n, dtype=bool)
        for name, m in target.columns.items():
            if m.transform == "sequence":
                line = np.zeros(n, dtype=np.int64)
                line[reach] = rank_in_group(self._groups(m.sources, cand)[reach])
                values[name] = pa.array(line).cast(ARROW_TYPES[self.spec.column(name).dtype])
        failed = reach & ~ok
        for name in self.names:
            for i, error in errors.get(name, {}).items():
                if failed[i]:
                    self.heap.add((int(numbers[i]), 1, self.ti, self.names.index(name)), error)
        kept = reach & ok
        codes = self.enc.codes([values[k] for k in pk])
        first = first_per_code(codes, kept)
        repeat = kept & (first >= 0) & (first < np.arange(n))
        if target.duplicates == "error":
            for j in np.flatnonzero(repeat):
                self._duplicate(values, pk, int(j), int(numbers[first[j]]), int(numbers[j]))
            rejected += int(repeat.sum())
        kept &= ~repeat
        rejected += int(failed.sum())
        if kept.all():
            table = pa.table({name: values[name] for name in self.names})
        else:
            take = pa.array(np.flatnonzero(kept))
            table = pa.table({name: values[name].take(take) for name in self.names})
        return TableRows(table, numbers[kept]), rejected

    def _settle(
        self,
        name: str,
        todo: np.ndarray,
        values: dict[str, pa.Array],
        fast: dict[str, np.ndarray],
        errors: dict[str, dict[int, RowError]],
        constants: dict[str, RowError | None],
        cand: np.ndarray,
    ) -> None:
        """Run the per-cell reference for the cells `todo` and patch their values in."""
        if len(todo) == 0:
            return
        m = self.target.columns[name]
        if m.transform == "constant":
            error = constants[name]
            assert error is not None
            bucket = errors.setdefault(name, {})
            for i in todo:
                bucket[int(i)] = RowError(
                    error.file,
                    int(self.frame.rows[cand[i]]),
                    error.column,
                    error.value,
                    error.rule,
                    error.message,
                )
            return
        results = self.slow(name, m, cand[todo])
        good = [j for j, (_v, e) in enumerate(results) if e is None]
        bucket = errors.setdefault(name, {})
        for j, (_v, e) in enumerate(results):
            if e is not None:
                bucket[int(todo[j])] = e
        if good:
            where = np.zeros(len(values[name]), dtype=bool)
            where[todo[good]] = True
            patch = pa.array([results[j][0] for j in good], values[name].type)
            values[name] = pc.replace_with_mask(values[name], pa.array(where), patch)
            fast[name][todo[good]] = True

    def _duplicate(
        self, values: dict[str, pa.Array], pk: list[str], i: int, first: int, number: int
    ) -> None:
        key = tuple(values[k][i].as_py() for k in pk)
        table = self.target.table
        self.heap.add(
            (number, 1, self.ti, len(self.names)),
            RowError(
                self.frame.file,
                number,
                ", ".join(pk),
                ", ".join(str(k) for k in key),
                "duplicate_key",
                f"{table} key {key if len(key) > 1 else key[0]!r} already on row {first}",
            ),
        )


def map_frame(
    frame: Frame,
    profile: Profile,
    errors: Errors,
    on_table: Callable[[str, TableRows], None] | None = None,
) -> ColumnarMapped:
    """Every target's canonical rows as Arrow; every problem goes to `errors`.

    `on_table` sees each target's rows as soon as they are mapped, while no problem has
    been found so far (the rows of a file with problems are never written), so the
    caller can start loading them while the next target is mapped.
    """
    fill_down(frame, profile)
    heap = _ErrorHeap(errors.cap)
    row_bad = _row_checks(frame, heap)
    cols = Columns(frame)
    cache: dict[str, Converted | None] = {}
    enc = Encodings()
    uses: dict[str, int] = {}
    for target in profile.targets:
        for m in target.columns.values():
            key = _cache_key(m, profile.timezone)
            uses[key] = uses.get(key, 0) + 1
    tables: dict[str, TableRows] = {}
    rejected: dict[str, int] = {}
    for ti, target in enumerate(profile.targets):
        passes = _passes(cols, target.where)
        mapper = _TargetMapper(frame, cols, cache, target, ti, profile.timezone, heap, enc, uses)
        tables[target.table], rejected[target.table] = mapper.run(passes, row_bad)
        if on_table is not None and not heap.total and not errors:
            on_table(target.table, tables[target.table])
    heap.drain(errors)
    return ColumnarMapped(tables, rejected)

"""Bulk load and upsert into canonical tables, on DuckDB and PostgreSQL.

Data arrives as Arrow (or pandas) and is conformed to the canonical schema first, so a
wrong column or type fails before anything is written. An upsert stages the batch in a
temporary table, counts what is new, changed and unchanged with Ibis, then writes only
new and changed rows in one transaction. Loading the same batch twice therefore writes
nothing the second time.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlglot
import sqlglot.expressions as sge
from ibis.backends import BaseBackend
from psycopg import sql as psql

from tokui.warehouse.schema import TABLES, TableSpec, dialect_of
from tokui.warehouse.sql import create_temp_as, create_temp_table, table_ref, transaction


class LoadError(ValueError):
    """A batch that does not fit its table; nothing was written."""


# Warehouses without keys or transactions: bulk_load appends, upsert is refused.
APPEND_ONLY = ("pyspark", "clickhouse")


@dataclass
class LoadStats:
    table: str
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.inserted + self.updated + self.unchanged


def conform(spec: TableSpec, data: pa.Table | pd.DataFrame) -> pa.Table:
    """The batch as an Arrow table with exactly the canonical columns and types."""
    table = data if isinstance(data, pa.Table) else pa.Table.from_pandas(data, preserve_index=False)
    missing = [c.name for c in spec.columns if c.name not in table.column_names and not c.nullable]
    if missing:
        raise LoadError(f"{spec.name}: required columns missing: {', '.join(missing)}")
    unknown = [n for n in table.column_names if n not in spec.column_names]
    if unknown:
        raise LoadError(f"{spec.name}: unknown columns: {', '.join(unknown)}")
    arrays = []
    target = spec.schema.to_pyarrow()
    for field in target:
        col = spec.column(field.name)
        if field.name in table.column_names:
            arr = table.column(field.name)
            try:
                arr = arr.cast(field.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise LoadError(
                    f"{spec.name}.{field.name}: cannot read values as {field.type}: {exc}"
                ) from exc
        else:
            arr = pa.nulls(table.num_rows, type=field.type)
        if not col.nullable and arr.null_count:
            first = pc.index(pc.is_null(arr), True).as_py()
            raise LoadError(f"{spec.name}.{field.name}: empty value in row {first + 1}")
        if col.values:
            bad = pc.invert(pc.is_in(arr, value_set=pa.array(col.values)))
            bad = pc.and_(bad, pc.is_valid(arr))
            if pc.any(bad).as_py():
                first = pc.index(bad, True).as_py()
                raise LoadError(
                    f"{spec.name}.{field.name}: row {first + 1} has {arr[first].as_py()!r}; "
                    f"allowed: {', '.join(col.values)}"
                )
        arrays.append(arr)
    return pa.Table.from_arrays(
        arrays,
        schema=pa.schema(
            [pa.field(f.name, f.type, nullable=spec.column(f.name).nullable) for f in target]
        ),
    )


def _check_unique_keys(spec: TableSpec, table: pa.Table) -> None:
    counts = table.group_by(list(spec.primary_key)).aggregate([([], "count_all")])
    dup = counts.filter(pc.greater(counts.column("count_all"), 1))
    if dup.num_rows:
        key = {k: dup.column(k)[0].as_py() for k in spec.primary_key}
        raise LoadError(f"{spec.name}: key {key} appears {dup.column('count_all')[0]} times")


def _stage(con: BaseBackend, spec: TableSpec, table: pa.Table) -> str:
    name = f"_tokui_stage_{spec.name}_{uuid.uuid4().hex[:12]}"
    if con.name == "duckdb":
        con.con.register(name + "_arrow", table)
        try:
            con.con.execute(
                create_temp_as(name, sge.select("*").from_(table_ref(name + "_arrow")), "duckdb")
            )
        finally:
            con.con.unregister(name + "_arrow")
    else:
        _pg_copy_into(con, spec, table, name, create_temp=True)
    return name


def _pg_copy_into(
    con: BaseBackend, spec: TableSpec, table: pa.Table, target: str, create_temp: bool = False
) -> None:
    """COPY rows into PostgreSQL: orders of magnitude faster than INSERT per row."""
    raw = con.con
    with raw.cursor() as cur, raw.transaction():
        if create_temp:
            cur.execute(create_temp_table(target, spec, "postgres"))
        # psycopg composes COPY from quoted identifiers, never from data.
        copy_sql = psql.SQL("COPY {} ({}) FROM STDIN").format(
            psql.Identifier(target), psql.SQL(", ").join(map(psql.Identifier, spec.column_names))
        )
        with cur.copy(copy_sql) as copy:
            for batch in table.to_batches(max_chunksize=50_000):
                for row in zip(*(col.to_pylist() for col in batch.columns), strict=True):
                    copy.write_row(row)


def _drop(con: BaseBackend, name: str) -> None:
    con.drop_table(name, force=True)


def bulk_load(
    con: BaseBackend, table: str, data: pa.Table | pd.DataFrame, replace: bool = False
) -> int:
    """Append a batch (or replace the table's contents) without per-row diffing.

    For generated or freshly extracted data. Keys must still be unique in the batch;
    a key already in the table fails the whole batch.
    """
    spec = TABLES[table]
    arrow = conform(spec, data)
    _check_unique_keys(spec, arrow)
    dialect = dialect_of(con)
    if con.name == "duckdb":
        name = f"_tokui_bulk_{uuid.uuid4().hex[:12]}"
        con.con.register(name, arrow)
        try:
            with transaction(con) as execute:
                if replace:
                    execute(sge.delete(table_ref(table)).sql(dialect))
                # Columns by name: a table upgraded by create_schema has added ones last.
                execute(
                    sge.insert(
                        sge.select(*[sge.column(c, quoted=True) for c in spec.column_names]).from_(
                            table_ref(name)
                        ),
                        table_ref(table),
                        columns=[sge.to_identifier(c, quoted=True) for c in spec.column_names],
                    ).sql(dialect)
                )
        finally:
            con.con.unregister(name)
    elif con.name in APPEND_ONLY:
        # Appends through the engine's own bulk path (Arrow for ClickHouse, a DataFrame
        # for Spark); neither has transactions, so a failed batch may be partly written.
        con.insert(table, arrow, overwrite=replace)
    else:
        if replace:
            with transaction(con) as execute:
                execute(sge.delete(table_ref(table)).sql(dialect))
        _pg_copy_into(con, spec, arrow, table)
    return int(arrow.num_rows)


def _needs_keyed_store(con: BaseBackend, table: str) -> None:
    if con.name in APPEND_ONLY:
        raise LoadError(
            f"{table}: imports that update rows by key need DuckDB or PostgreSQL; "
            f"{con.name} takes appends only (tokui demo generate, or your own pipeline)"
        )


def diff_counts(con: BaseBackend, spec: TableSpec, stage: str) -> tuple[int, int, int]:
    """(new, changed, unchanged) rows of a staged batch against the table."""
    s = con.table(stage)
    t = con.table(spec.name).select(*spec.primary_key).mutate(_tokui_present=ibis.literal(True))
    joined = s.left_join(t, list(spec.primary_key))
    new = int(joined.filter(joined._tokui_present.isnull()).count().execute())
    changed_expr = _changed_rows(con, spec, stage)
    changed = int(changed_expr.count().execute())
    total = int(s.count().execute())
    return new, changed, total - new - changed


def _changed_rows(con: BaseBackend, spec: TableSpec, stage: str) -> ibis.Table:
    s = con.table(stage)
    t = con.table(spec.name)
    others = [c for c in spec.column_names if c not in spec.primary_key]
    t_renamed = t.rename({f"_old_{c}": c for c in others})
    joined = s.inner_join(t_renamed, list(spec.primary_key))
    if not others:
        return joined.filter(ibis.literal(False))
    differs = ibis.or_(*[~joined[c].identical_to(joined[f"_old_{c}"]) for c in others])
    return joined.filter(differs).select(*spec.column_names)


def upsert(con: BaseBackend, table: str, data: pa.Table | pd.DataFrame) -> LoadStats:
    """Insert new rows and update changed ones by primary key, all or nothing."""
    spec = TABLES[table]
    _needs_keyed_store(con, table)
    arrow = conform(spec, data)
    _check_unique_keys(spec, arrow)
    stage = _stage(con, spec, arrow)
    try:
        new, changed, unchanged = diff_counts(con, spec, stage)
        if new or changed:
            _merge(con, spec, stage)
    finally:
        _drop(con, stage)
    return LoadStats(table, inserted=new, updated=changed, unchanged=unchanged)


def _merge(con: BaseBackend, spec: TableSpec, stage: str) -> None:
    """INSERT ... ON CONFLICT DO UPDATE of the new and changed rows of a staged batch."""
    with transaction(con) as execute:
        execute(merge_sql(con, spec, stage))


def merge_sql(con: BaseBackend, spec: TableSpec, stage: str) -> str:
    """The INSERT ... ON CONFLICT DO UPDATE of a staged batch's new and changed rows,
    returned instead of run so several tables can share one transaction."""
    dialect = dialect_of(con)
    s = con.table(stage)
    t = con.table(spec.name).select(*spec.primary_key).mutate(_tokui_present=ibis.literal(True))
    joined = s.left_join(t, list(spec.primary_key))
    new_rows = joined.filter(joined._tokui_present.isnull()).select(*spec.column_names)
    rows = new_rows.union(_changed_rows(con, spec, stage))
    select = sqlglot.parse_one(str(con.compile(rows)), read=dialect)
    others = [c for c in spec.column_names if c not in spec.primary_key]
    conflict = sge.OnConflict(
        conflict_keys=[sge.column(k, quoted=True) for k in spec.primary_key],
        action=sge.var("DO UPDATE") if others else sge.var("DO NOTHING"),
        expressions=[
            sge.EQ(this=sge.column(c, quoted=True), expression=sge.column(c, table="EXCLUDED"))
            for c in others
        ],
    )
    insert = sge.Insert(
        this=sge.Schema(
            this=table_ref(spec.name),
            expressions=[sge.to_identifier(c, quoted=True) for c in spec.column_names],
        ),
        expression=sge.select("*").from_(
            sge.Subquery(this=select, alias=sge.TableAlias(this=sge.to_identifier("_tokui_rows")))
        ),
        conflict=conflict,
    )
    return str(insert.sql(dialect))


# --- staged imports: classify once, then plain INSERT and UPDATE -------------------------
#
# ON CONFLICT checks every row against the key index one by one; for a file of millions
# of rows that dominates the load. Instead each row of the batch is classified once (new,
# changed or unchanged, in one join), new rows are inserted in key order (cheapest for
# the index) and changed rows updated in place. The caller runs both in one transaction.

STATUS = "_tokui_status"
NEW, CHANGED, UNCHANGED = 0, 1, 2


def classify(
    con: BaseBackend, spec: TableSpec, table: pa.Table, compare: bool = True
) -> tuple[str, int, int, int]:
    """Stage a conformed batch with each row's status; (stage, new, changed, unchanged).

    compare=False only tells new keys from present ones (present rows count unchanged),
    for targets that must never overwrite what the warehouse holds. On DuckDB the batch
    is read in place from Arrow; release() the stage when done.
    """
    _needs_keyed_store(con, spec.name)
    keys = list(spec.primary_key)
    others = [c for c in spec.column_names if c not in keys]
    duck = con.name == "duckdb"
    raw = f"_tokui_arrow_{spec.name}_{uuid.uuid4().hex[:12]}" if duck else _stage(con, spec, table)
    if duck and con.table(spec.name).count().execute() == 0:
        # Nothing to compare with: every row is new, and Arrow is the stage.
        status = pa.array(np.full(table.num_rows, NEW, dtype=np.int8))
        con.con.register(raw, table.append_column(STATUS, status))
        return raw, table.num_rows, 0, 0
    if duck:
        con.con.register(raw, table)
    name = f"_tokui_cls_{spec.name}_{uuid.uuid4().hex[:12]}"
    try:
        s = con.table(raw)
        t = con.table(spec.name)
        old = t.select(*keys, *[t[c].name(f"_old_{c}") for c in others]).mutate(
            _tokui_present=ibis.literal(True)
        )
        joined = s.left_join(old, keys)
        missing = joined._tokui_present.isnull()
        if compare and others:
            differs = ibis.or_(*[~joined[c].identical_to(joined[f"_old_{c}"]) for c in others])
            status_expr = ibis.cases((missing, NEW), (differs, CHANGED), else_=UNCHANGED)
        else:
            status_expr = ibis.cases((missing, NEW), else_=UNCHANGED)
        con.create_table(
            name, joined.select(*spec.column_names, **{STATUS: status_expr.cast("int8")}), temp=True
        )
    finally:
        release(con, raw)
    counts = dict.fromkeys((NEW, CHANGED, UNCHANGED), 0)
    staged = con.table(name)
    summary = staged.group_by(STATUS).aggregate(n=staged.count()).to_pyarrow().to_pylist()
    for r in summary:
        counts[int(r[STATUS])] = int(r["n"])
    return name, counts[NEW], counts[CHANGED], counts[UNCHANGED]


def release(con: BaseBackend, stage: str) -> None:
    """Drop a stage made by classify (a temp table, or Arrow registered on DuckDB)."""
    if con.name == "duckdb" and stage.startswith("_tokui_arrow_"):
        con.con.unregister(stage)
    else:
        _drop(con, stage)


def insert_new_sql(con: BaseBackend, spec: TableSpec, stage: str) -> str:
    """INSERT of a classified stage's new rows, in key order."""
    dialect = dialect_of(con)
    s = con.table(stage)
    rows = s.filter(s[STATUS] == NEW).select(*spec.column_names).order_by(*spec.primary_key)
    select = sqlglot.parse_one(str(con.compile(rows)), read=dialect)
    insert = sge.Insert(
        this=sge.Schema(
            this=table_ref(spec.name),
            expressions=[sge.to_identifier(c, quoted=True) for c in spec.column_names],
        ),
        expression=select,
    )
    return str(insert.sql(dialect))


def update_changed_sql(con: BaseBackend, spec: TableSpec, stage: str) -> str | None:
    """UPDATE of the rows a classified stage marks changed (None: no non-key columns)."""
    dialect = dialect_of(con)
    others = [c for c in spec.column_names if c not in spec.primary_key]
    if not others:
        return None
    target, source = (
        sge.to_identifier(spec.name, quoted=True),
        sge.to_identifier(stage, quoted=True),
    )
    conditions: list[sge.Expression] = [
        sge.EQ(this=sge.column(STATUS, table=source, quoted=True), expression=sge.convert(CHANGED))
    ]
    conditions += [
        sge.EQ(
            this=sge.column(k, table=target, quoted=True),
            expression=sge.column(k, table=source, quoted=True),
        )
        for k in spec.primary_key
    ]
    update = sge.Update(
        this=table_ref(spec.name),
        expressions=[
            sge.EQ(
                this=sge.column(c, quoted=True), expression=sge.column(c, table=source, quoted=True)
            )
            for c in others
        ],
        from_=sge.From(this=table_ref(stage)),
        where=sge.Where(this=sge.and_(*conditions)),
    )
    return str(update.sql(dialect))


# --- first loads: a big batch into an empty DuckDB table -------------------------------
#
# DuckDB enforces a primary key with an ART index. Rows inserted into an indexed table
# grow the index one key at a time, and twice (the transaction's own index, then the
# table's at commit): for ten million text keys that is most of an import. Building the
# index once over committed, key-sorted rows costs a fraction of that. So a big batch for
# an empty table goes into a new table of the same definition, gets its key afterwards,
# and takes the empty table's place inside the import's one transaction; until then the
# new table is invisible to every reader of the canonical tables.

BUILD_PREFIX = "_tokui_build_"
# Below this the ordinary insert is as fast and needs no extra table.
BUILD_MIN_ROWS = 100_000


def is_empty(con: BaseBackend, spec: TableSpec) -> bool:
    return int(con.table(spec.name).count().execute()) == 0


def key_order(table: pa.Table, spec: TableSpec) -> np.ndarray:
    """A row order that clusters the batch by key: sorted by the first 8 bytes of the
    first key column (its value when it is a number), file order within.

    The index is built fast from rows in key order; a full sort of ten million text
    keys costs more than it saves, and keys sharing 8 bytes are few and close anyway.
    """
    column = table.column(spec.primary_key[0]).combine_chunks()
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        return np.argsort(column.fill_null(0).to_numpy(zero_copy_only=False), kind="stable")
    n = len(column)
    offsets, data = _text_buffers(column)
    data = np.concatenate([data, np.zeros(8, dtype=np.uint8)])
    start = offsets[:-1]
    length = offsets[1:] - start
    shortest = int(length.min()) if n else 0
    prefix = np.zeros(n, dtype=np.uint64)
    for j in range(8):
        byte = data[start + j].astype(np.uint64)
        if j >= shortest:  # past the end of some keys: those read as zero bytes
            byte[j >= length] = 0
        prefix |= byte << np.uint64(8 * (7 - j))
    return np.argsort(prefix, kind="stable")


def _text_buffers(column: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """A text column's n + 1 offsets (as int64) and its byte buffer."""
    width = np.int64 if pa.types.is_large_string(column.type) else np.int32
    buffers = column.buffers()
    raw = np.frombuffer(buffers[1], dtype=width)[column.offset : column.offset + len(column) + 1]
    offsets: np.ndarray = raw.astype(np.int64)
    data: np.ndarray = (
        np.frombuffer(buffers[2], dtype=np.uint8)
        if buffers[2] is not None
        else np.zeros(0, dtype=np.uint8)
    )
    return offsets, data


def _key_column(table: pa.Table, spec: TableSpec) -> pa.Array | None:
    """The first key column when it is one array (orders and their lines share it)."""
    chunks = table.column(spec.primary_key[0]).chunks
    return chunks[0] if len(chunks) == 1 else None


def _same_array(a: pa.Array, b: pa.Array) -> bool:
    """Whether two arrays are views of the same memory (no values compared)."""
    if a.type != b.type or a.offset != b.offset or len(a) != len(b):
        return False
    return [x.address if x else 0 for x in a.buffers()] == [
        x.address if x else 0 for x in b.buffers()
    ]


class Builder:
    """build_table() in the background, one table per core, as batches arrive.

    The import hands each big batch for an empty table over as soon as it is validated,
    so DuckDB builds it while the next table is still being mapped. Either every table
    is built (finish) or none is left behind (abandon, or a failed finish).
    """

    def __init__(self, con: BaseBackend) -> None:
        self.con = con
        # Builds left by an import that died before it could drop them (imports into one
        # warehouse never overlap: one process holds the file, the web app a lock).
        for stale in con.list_tables(like=f"^{BUILD_PREFIX}"):
            drop_build(con, stale)
        self._pool = ThreadPoolExecutor(max(1, min(2, os.cpu_count() or 1)))
        self._futures: dict[str, Future[str]] = {}
        self._orders: list[tuple[pa.Array, np.ndarray]] = []
        self._orders_lock = threading.Lock()

    def add(self, table: str, batch: pa.Table) -> None:
        """Start building `table` from a conformed batch; the builder frees the batch
        once DuckDB holds its rows."""
        holder = [batch]
        del batch
        self._futures[table] = self._pool.submit(self._build, TABLES[table], holder)

    def _order(self, table: pa.Table, spec: TableSpec) -> np.ndarray:
        """key_order(), once for batches sharing their key column (orders and lines)."""
        column = _key_column(table, spec)
        with self._orders_lock:
            for known, order in self._orders:
                if column is not None and _same_array(known, column):
                    return order
            order = key_order(table, spec)
            if column is not None:
                # Holding the column keeps its memory from being reused by another.
                self._orders.append((column, order))
            return order

    def _build(self, spec: TableSpec, holder: list[pa.Table]) -> str:
        cursor = self.con.con.cursor()
        try:
            order = self._order(holder[0], spec)
            # Popped straight into the call: build_table holds the only reference.
            return build_table(cursor, spec, holder.pop(), order)
        finally:
            cursor.close()

    def finish(self) -> dict[str, str]:
        """Wait for every build: table -> built table, or raise having dropped them all."""
        try:
            done = {table: future.result() for table, future in self._futures.items()}
        except BaseException:
            self.abandon()
            raise
        self._close()
        return done

    def abandon(self) -> None:
        """Wait for the builds still running and drop every built table."""
        for future in self._futures.values():
            # A failed build dropped its own table; its error is the caller's to report.
            if future.exception() is None:
                drop_build(self.con, future.result())
        self._close()

    def _close(self) -> None:
        self._futures.clear()
        self._orders.clear()
        self._pool.shutdown(wait=True)


def build_table(raw: Any, spec: TableSpec, table: pa.Table, rows: np.ndarray | None = None) -> str:
    """A committed table of the same definition holding a conformed batch for an empty
    table, its primary key built over the rows in key order (`rows`, else key_order());
    swap_in() puts it in the table's place. `raw` is a DuckDB connection (or cursor).

    The caller drops it (drop_build) if the import does not commit.
    """
    name = f"{BUILD_PREFIX}{spec.name}_{uuid.uuid4().hex[:12]}"
    dialect = "duckdb"
    create = sge.Create(
        this=sge.Schema(
            this=table_ref(name), expressions=spec.schema.to_sqlglot_column_defs(dialect)
        ),
        kind="TABLE",
    )
    columns = [sge.to_identifier(c, quoted=True) for c in spec.column_names]
    source = f"{name}_arrow"
    insert = sge.insert(
        sge.select(*[sge.column(c, quoted=True) for c in spec.column_names]).from_(
            table_ref(source)
        ),
        table_ref(name),
        columns=columns,
    )
    key = sge.PrimaryKey(expressions=[sge.to_identifier(k, quoted=True) for k in spec.primary_key])
    add_key = sge.Alter(
        this=table_ref(name), kind="TABLE", actions=[sge.AddConstraint(expressions=[key])]
    )
    ordered = _in_order(table, key_order(table, spec) if rows is None else rows)
    del table  # the caller may have handed over the only reference: free it early
    raw.execute(create.sql(dialect))
    try:
        # DuckDB keeps a scan's order when inserting (preserve_insertion_order).
        raw.register(source, ordered)
        try:
            raw.execute(insert.sql(dialect))
        finally:
            raw.unregister(source)
        del ordered
        raw.execute(add_key.sql(dialect))
    except BaseException:
        raw.execute(sge.Drop(this=table_ref(name), kind="TABLE", exists=True).sql(dialect))
        raise
    return name


# Rows per batch of the key-ordered copy: DuckDB's row group, so that its scan of the
# copy runs on every thread and still inserts the batches in order.
ORDERED_BATCH = 122_880


def _in_order(table: pa.Table, order: np.ndarray) -> pa.Table:
    """The batch's rows in `order`, as row-group-sized batches (no further copy)."""
    ordered = table.take(pa.array(order)).combine_chunks()
    return pa.Table.from_batches(ordered.to_batches(max_chunksize=ORDERED_BATCH), table.schema)


def swap_in(execute: Callable[[str], Any], spec: TableSpec, build: str) -> None:
    """Inside the import's transaction: the built table replaces the (still empty) table."""
    dialect = "duckdb"
    count = sge.select(sge.func("count", sge.Star())).from_(table_ref(spec.name))
    (present,) = execute(count.sql(dialect)).fetchone()
    if present:
        # Someone wrote to the table since it was classified: never drop their rows.
        raise LoadError(f"{spec.name}: the table was written to during the import; run it again")
    execute(sge.Drop(this=table_ref(spec.name), kind="TABLE").sql(dialect))
    rename = sge.Alter(
        this=table_ref(build), kind="TABLE", actions=[sge.AlterRename(this=table_ref(spec.name))]
    )
    execute(rename.sql(dialect))


def drop_build(con: BaseBackend, build: str) -> None:
    """Drop a built table that was not swapped in (no-op once it was)."""
    drop = sge.Drop(this=table_ref(build), kind="TABLE", exists=True)
    con.con.execute(drop.sql("duckdb"))

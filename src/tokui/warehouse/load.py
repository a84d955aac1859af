"""Bulk load and upsert into canonical tables, on DuckDB and PostgreSQL.

Data arrives as Arrow (or pandas) and is conformed to the canonical schema first, so a
wrong column or type fails before anything is written. An upsert stages the batch in a
temporary table, counts what is new, changed and unchanged with Ibis, then writes only
new and changed rows in one transaction. Loading the same batch twice therefore writes
nothing the second time.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

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
    else:
        if replace:
            with transaction(con) as execute:
                execute(sge.delete(table_ref(table)).sql(dialect))
        _pg_copy_into(con, spec, arrow, table)
    return int(arrow.num_rows)


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

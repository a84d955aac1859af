"""Bulk inserts and updates for the hot paths (scenario ticks, queuing messages):
thousands of rows per statement, in the caller's transaction.

SQLite: executemany of one statement straight on the sqlite3 cursor (the module steps it
in C), with the values converted column by column as SQLAlchemy would bind them: its
per-row parameter handling cost more than SQLite's work. RETURNING is read back instead
(executemany cannot return rows): the write lock is taken first, so the rows with an
id above the table's largest before the insert are this insert's.
PostgreSQL: one statement per chunk whose rows come from unnest() over one array
parameter per column, sent in binary (psycopg's `%b`) on the session's connection. A
plain executemany sends a statement per row, and SQLAlchemy's multi-row VALUES renders
thousands of placeholders that psycopg parses again for every page (the text is too
long for its cache): about 100 µs a row. Arrays bound through SQLAlchemy go as text,
which psycopg escapes character by character in Python (10 µs a row of a 1 kB text);
binary arrays are dumped in C: about 1.5 µs a row.
Both are bound parameters only; the SQL text holds nothing but our own table and column
names, quoted by the dialect.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from itertools import repeat
from typing import Any

from sqlalchemy import ARRAY, ColumnElement, Table, any_, bindparam, false, func, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import QueryableAttribute, Session

CHUNK = 20_000  # rows per PostgreSQL statement (one array per column)
SQLITE_CHUNK = 5_000  # rows per executemany: bounds the memory of RETURNING results


def _postgres(db: Session) -> bool:
    return db.get_bind().dialect.name == "postgresql"


def _quoter(db: Session) -> Any:
    return db.get_bind().dialect.identifier_preparer


def _pg_type(db: Session, table: Table, name: str) -> str:
    return str(table.c[name].type.compile(dialect=db.get_bind().dialect))


def _pg_unnest(db: Session, table: Table, names: list[str]) -> str:
    """unnest(%(u_a)b::type[], ...) AS u(a, ...): the rows as a relation, each array
    cast to its column's type (a column of only NULLs has no type of its own)."""
    q = _quoter(db)
    arrays = ", ".join(f"%(u_{n})b::{_pg_type(db, table, n)}[]" for n in names)
    return f"unnest({arrays}) AS u({', '.join(q.quote(n) for n in names)})"


def _processor(db: Session, table: Table, name: str) -> Callable[[Any], Any] | None:
    dialect = db.get_bind().dialect
    process: Callable[[Any], Any] | None = (
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
    )
    return process


def _bound(db: Session, table: Table, name: str, value: Any) -> Any:
    """One value as its column binds it (SQLAlchemy's bind processor, if any)."""
    process = _processor(db, table, name)
    return value if process is None else process(value)


def _pg_execute(
    db: Session,
    table: Table,
    sql: str,
    columns: Mapping[str, Sequence[Any]],
    constants: Mapping[str, Any],
    returning: Sequence[Any],
) -> list[tuple[Any, ...]]:
    """`sql` with one array per column of `columns` (`u_<name>`) and one value per
    constant (`k_<name>`), on the session's psycopg connection (inside its transaction);
    the returned rows when `returning`."""
    db.flush()  # the ORM's pending changes first, as db.execute would
    params: dict[str, Any] = {}
    for name, values in columns.items():
        process = _processor(db, table, name)
        params[f"u_{name}"] = list(values) if process is None else [process(v) for v in values]
    for name, value in constants.items():
        params[f"k_{name}"] = _bound(db, table, name, value)
    raw = db.connection().connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor:
        cursor.execute(sql, params)
        return [tuple(r) for r in cursor.fetchall()] if returning else []


def _length(columns: Mapping[str, Sequence[Any]]) -> int:
    lengths = {len(values) for values in columns.values()}
    if len(lengths) != 1:
        raise ValueError("bulk columns must be given and all of one length")
    return lengths.pop()


def _rows_to_columns(rows: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
    return {name: [r[name] for r in rows] for name in rows[0]}


def insert_rows(
    db: Session,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    conflict: Sequence[str] | None = None,
    returning: Sequence[ColumnElement[Any]] = (),
) -> list[tuple[Any, ...]]:
    """Insert `rows` (dicts with the same keys); with `conflict`, rows whose unique key
    exists are skipped (ON CONFLICT DO NOTHING). Returns the `returning` columns of the
    rows inserted (an empty list without `returning`)."""
    if not rows:
        return []
    return insert_columns(db, table, _rows_to_columns(rows), conflict=conflict, returning=returning)


def insert_columns(
    db: Session,
    table: Table,
    columns: Mapping[str, Sequence[Any]],
    *,
    constants: Mapping[str, Any] | None = None,
    conflict: Sequence[str] | None = None,
    returning: Sequence[ColumnElement[Any]] = (),
) -> list[tuple[Any, ...]]:
    """insert_rows with the rows given column by column (`columns`: name -> one value
    per row) and `constants`, columns with one value for every row (sent once):
    building a dict per row and reading it back column by column cost as much as the
    insert itself for a tick's couple of hundred thousand messages."""
    constants = dict(constants or {})
    n = _length(columns)
    if n == 0:
        return []
    names = list(columns)
    out: list[tuple[Any, ...]] = []
    if _postgres(db):
        q = _quoter(db)
        target = ", ".join(q.quote(c) for c in [*names, *constants])
        values = [f"u.{q.quote(c)}" for c in names]
        values += [f"%(k_{c})s::{_pg_type(db, table, c)}" for c in constants]
        sql = f"INSERT INTO {q.format_table(table)} ({target}) SELECT "
        sql += ", ".join(values) + " FROM " + _pg_unnest(db, table, names)
        if conflict is not None:
            sql += f" ON CONFLICT ({', '.join(q.quote(c) for c in conflict)}) DO NOTHING"
        if returning:
            sql += " RETURNING " + ", ".join(q.quote(str(c.name)) for c in returning)
        for start in range(0, n, CHUNK):
            chunk = {c: v[start : start + CHUNK] for c, v in columns.items()}
            out += _pg_execute(db, table, sql, chunk, constants, returning)
        return out
    stmt = sqlite_insert(table).values({c: bindparam(c) for c in [*names, *constants]})
    if conflict is not None:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(conflict))
    last = None
    if returning:
        key = table.c.id
        # A no-op write takes SQLite's write lock, so no other connection inserts
        # between reading the largest id and the insert.
        db.execute(update(table).where(false()).values({key: key}))
        last = db.scalar(select(func.max(key))) or 0
    _sqlite_many(db, table, stmt, columns, constants)
    if returning:
        found = db.execute(select(*returning).where(table.c.id > last).order_by(table.c.id))
        out = [tuple(r) for r in found]
    return out


def _sqlite_many(
    db: Session,
    table: Table,
    stmt: Any,
    columns: Mapping[str, Sequence[Any]],
    constants: Mapping[str, Any],
    prefix: str = "",
) -> None:
    """`stmt` (bound parameters named `prefix` + column) executed for every row on the
    raw sqlite3 cursor of the session's connection, inside its transaction."""
    db.flush()  # the ORM's pending changes first, as db.execute would
    dialect = db.get_bind().dialect
    compiled = stmt.compile(dialect=dialect)
    order = [name.removeprefix(prefix) for name in compiled.positiontup]
    n = _length(columns)
    fixed = {name: _bound(db, table, name, value) for name, value in constants.items()}
    convert = {name: _converter(_processor(db, table, name)) for name in columns}
    raw = db.connection().connection.driver_connection
    assert raw is not None
    cursor = raw.cursor()
    try:
        for start in range(0, n, SQLITE_CHUNK):
            size = min(SQLITE_CHUNK, n - start)
            params: list[Iterable[Any]] = []
            for name in order:
                if name in fixed:
                    params.append(repeat(fixed[name], size))
                    continue
                values = columns[name][start : start + size]
                fn = convert[name]
                params.append(values if fn is None else [fn(v) for v in values])
            cursor.executemany(compiled.string, zip(*params, strict=True))
    finally:
        cursor.close()


def _converter(process: Callable[[Any], Any] | None) -> Callable[[Any], Any] | None:
    """SQLAlchemy's bind processor of a column, remembering what it made of datetimes:
    the times of a batch's rows repeat (the tick's instant in every row), and formatting
    them was the largest part of binding."""
    if process is None:
        return None
    seen: dict[datetime, Any] = {}

    def convert(value: Any) -> Any:
        # Aware datetimes of one instant in two zones are equal but bind differently.
        if type(value) is not datetime or value.tzinfo is not None:
            return process(value)
        found = seen.get(value)
        if found is None:
            found = seen[value] = process(value)
        return found

    return convert


def among(
    db: Session,
    column: ColumnElement[Any] | QueryableAttribute[Any],
    values: Sequence[Any],
    chunk: int = 5000,
) -> list[ColumnElement[bool]]:
    """`column IN values` as the conditions of the statements to run, one each: on
    PostgreSQL a single `= ANY(array)` (one parameter: an IN list of thousands of
    parameters cost more to send and plan than the lookup itself), on SQLite IN lists of
    `chunk` values (its limit on parameters)."""
    if not values:
        return []
    if _postgres(db):
        return [column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))]
    return [column.in_(values[i : i + chunk]) for i in range(0, len(values), chunk)]


def update_rows(
    db: Session,
    table: Table,
    key: str,
    rows: Sequence[Mapping[str, Any]],
) -> None:
    """Set each row's other columns where `key` equals its value (rows: dicts with the
    same keys, `key` among them)."""
    if not rows:
        return
    update_columns(db, table, key, _rows_to_columns(rows))


def update_columns(
    db: Session,
    table: Table,
    key: str,
    columns: Mapping[str, Sequence[Any]],
    *,
    constants: Mapping[str, Any] | None = None,
) -> None:
    """update_rows with the rows given column by column (`key` among `columns`), and
    `constants`, columns set to one value in every row."""
    constants = dict(constants or {})
    n = _length(columns)
    if n == 0:
        return
    names = [c for c in columns if c != key]
    if _postgres(db):
        q = _quoter(db)
        target, k = q.format_table(table), q.quote(key)
        values = [f"{q.quote(c)} = u.{q.quote(c)}" for c in names]
        values += [f"{q.quote(c)} = %(k_{c})s::{_pg_type(db, table, c)}" for c in constants]
        keys = f"%(u_{key})b::{_pg_type(db, table, key)}[]"
        # = ANY(keys) as well: it lets the planner fetch the rows by the key's index; the
        # join alone estimates badly and scans the whole table.
        sql = f"UPDATE {target} SET {', '.join(values)} FROM "  # noqa: S608 - our names, quoted
        sql += _pg_unnest(db, table, [key, *names])
        sql += f" WHERE {target}.{k} = u.{k} AND {target}.{k} = ANY({keys})"
        ordered = {key: columns[key], **{c: columns[c] for c in names}}
        for start in range(0, n, CHUNK):
            chunk = {c: v[start : start + CHUNK] for c, v in ordered.items()}
            _pg_execute(db, table, sql, chunk, constants, ())
        return
    # Bind names must differ from column names in an executemany UPDATE.
    stmt = (
        update(table)
        .where(table.c[key] == bindparam(f"b_{key}"))
        .values({c: bindparam(f"b_{c}") for c in [*names, *constants]})
    )
    _sqlite_many(db, table, stmt, columns, constants, prefix="b_")

"""Bulk inserts and updates for the hot paths (scenario ticks, queuing messages):
thousands of rows per statement, in the caller's transaction.

SQLite: executemany of one cached statement (the sqlite3 module steps it in C).
PostgreSQL: one statement per chunk whose rows come from unnest() over one array
parameter per column. A plain executemany sends a statement per row, and SQLAlchemy's
multi-row VALUES renders thousands of placeholders that psycopg parses again for every
page (the text is too long for its cache): about 100 µs a row, against a few with arrays.
Both are bound parameters only; the SQL text holds nothing but our own table and column
names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Table, any_, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

CHUNK = 20_000  # rows per PostgreSQL statement (one array per column)
SQLITE_CHUNK = 5_000  # rows per executemany: bounds the memory of RETURNING results


def _postgres(db: Session) -> bool:
    return db.get_bind().dialect.name == "postgresql"


def _unnest(table: Table, rows: Sequence[Mapping[str, Any]], names: list[str]) -> Any:
    """SELECT unnest(:a) AS a, unnest(:b) AS b, ...: the rows as a relation."""
    return select(
        *(
            func.unnest(
                bindparam(
                    f"u_{name}",
                    value=[r[name] for r in rows],
                    type_=ARRAY(table.c[name].type),
                )
            ).label(name)
            for name in names
        )
    )


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
    names = list(rows[0])
    out: list[tuple[Any, ...]] = []
    if _postgres(db):
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            stmt: Any = pg_insert(table).from_select(names, _unnest(table, chunk, names))
            if conflict is not None:
                stmt = stmt.on_conflict_do_nothing(index_elements=list(conflict))
            if returning:
                out += [tuple(r) for r in db.execute(stmt.returning(*returning))]
            else:
                db.execute(stmt)
        return out
    stmt = sqlite_insert(table)
    if conflict is not None:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(conflict))
    for start in range(0, len(rows), SQLITE_CHUNK):
        chunk = list(rows[start : start + SQLITE_CHUNK])
        if returning:
            out += [tuple(r) for r in db.execute(stmt.returning(*returning), chunk)]
        else:
            db.execute(stmt, chunk)
    return out


def update_rows(
    db: Session,
    table: Table,
    key: str,
    rows: Sequence[Mapping[str, Any]],
    *,
    wide: bool = False,
) -> None:
    """Set each row's other columns where `key` equals its value (rows: dicts with the
    same keys, `key` among them). `wide`: the rows carry long texts (rendered message
    payloads), which PostgreSQL gets by executemany instead: psycopg escapes every
    character of an array's text elements in Python, four times slower than sending
    them one row at a time."""
    if not rows:
        return
    names = [n for n in rows[0] if n != key]
    if _postgres(db) and not wide:
        key_type = ARRAY(table.c[key].type)
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            u = _unnest(table, chunk, [key, *names]).subquery("u")
            keys = bindparam("u_keys", value=[r[key] for r in chunk], type_=key_type)
            db.execute(
                update(table)
                # = ANY(keys) as well: it lets the planner fetch the rows by the key's
                # index; the join alone estimates badly and scans the whole table.
                .where(table.c[key] == u.c[key], table.c[key] == any_(keys))
                .values({n: u.c[n] for n in names})
                .execution_options(synchronize_session=False)
            )
        return
    # Bind names must differ from column names in an executemany UPDATE.
    stmt = (
        update(table)
        .where(table.c[key] == bindparam(f"b_{key}"))
        .values({n: bindparam(f"b_{n}") for n in names})
    )
    for start in range(0, len(rows), SQLITE_CHUNK):
        chunk = rows[start : start + SQLITE_CHUNK]
        db.execute(stmt, [{f"b_{n}": v for n, v in r.items()} for r in chunk])

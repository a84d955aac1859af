"""The few raw statements the warehouse needs beyond Ibis (DDL, merge), and transactions."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import sqlglot.expressions as sge
from ibis.backends import BaseBackend

if TYPE_CHECKING:
    from tokui.warehouse.schema import TableSpec

Execute = Callable[[str], Any]


def quote(name: str, dialect: str) -> str:
    """A quoted identifier. Only ever called with names we generate or declare."""
    return str(sge.to_identifier(name, quoted=True).sql(dialect))


def table_ref(name: str) -> sge.Table:
    return sge.to_table(sge.to_identifier(name, quoted=True).sql())


def create_temp_as(name: str, select: sge.Select, dialect: str) -> str:
    return sge.Create(
        this=table_ref(name),
        kind="TABLE",
        expression=select,
        properties=sge.Properties(expressions=[sge.TemporaryProperty()]),
    ).sql(dialect)


def create_temp_table(name: str, spec: TableSpec, dialect: str) -> str:
    return sge.Create(
        this=sge.Schema(
            this=table_ref(name), expressions=spec.schema.to_sqlglot_column_defs(dialect)
        ),
        kind="TABLE",
        properties=sge.Properties(expressions=[sge.TemporaryProperty()]),
    ).sql(dialect)


@contextlib.contextmanager
def transaction(con: BaseBackend) -> Iterator[Execute]:
    """One transaction on the warehouse; yields a function that runs a statement."""
    if con.name == "duckdb":
        raw = con.con
        raw.execute("BEGIN TRANSACTION")
        try:
            yield raw.execute
        except BaseException:
            raw.execute("ROLLBACK")
            raise
        raw.execute("COMMIT")
    elif con.name == "clickhouse":
        # No transactions: each statement stands alone (DDL and appends only).
        yield con.con.command
    elif con.name == "pyspark":
        yield con.raw_sql
    else:
        with con.begin() as cur:
            yield cur.execute

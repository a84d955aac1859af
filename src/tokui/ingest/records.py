"""Customers, products and orders pushed by a cart: upserts by natural key, all or nothing.

The same staged diff and merge as file imports (tokui.ingest.run): each table's batch is
staged, counted against the warehouse (inserted / updated / unchanged), and every merge
runs in one transaction. An order is sent with all its lines; lines of that order that
are no longer sent are removed in the same transaction, so an edited order never keeps
a stale line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import sqlglot.expressions as sge
from ibis.backends import BaseBackend
from pydantic import BaseModel

from tokui.ingest.api_models import CustomerIn, ItemError, OrderIn, ProductIn
from tokui.ingest.run import _merge_sql
from tokui.warehouse.load import _drop, _stage, conform, diff_counts
from tokui.warehouse.schema import (
    CUSTOMERS,
    ORDER_ITEMS,
    ORDERS,
    PRODUCTS,
    TABLES,
    TableSpec,
    dialect_of,
)
from tokui.warehouse.sql import table_ref, transaction


@dataclass
class Counts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0


@dataclass
class RecordWrite:
    received: int
    tables: dict[str, Counts] = field(default_factory=dict)


def duplicate_keys(items: Sequence[BaseModel], key: str, collection: str) -> list[ItemError]:
    """One error per item whose key an earlier item of the batch already has."""
    first: dict[Any, int] = {}
    errors = []
    for i, item in enumerate(items):
        value = getattr(item, key)
        if value in first:
            errors.append(
                ItemError(
                    index=i,
                    field=key,
                    loc=f"{collection}[{i}].{key}",
                    type="duplicate_key",
                    message=f"{key} {value!r} already at {collection}[{first[value]}]",
                )
            )
        else:
            first[value] = i
    return errors


def _arrow(spec: TableSpec, rows: list[dict[str, Any]]) -> pa.Table:
    schema = spec.schema.to_pyarrow()
    return conform(
        spec,
        pa.table({f.name: pa.array([r.get(f.name) for r in rows], type=f.type) for f in schema}),
    )


def write_customers(con: BaseBackend, customers: Sequence[CustomerIn]) -> RecordWrite:
    rows = [c.model_dump() for c in customers]
    return _write(con, len(rows), {CUSTOMERS.name: _arrow(CUSTOMERS, rows)})


def write_products(con: BaseBackend, products: Sequence[ProductIn]) -> RecordWrite:
    rows = [p.model_dump() for p in products]
    return _write(con, len(rows), {PRODUCTS.name: _arrow(PRODUCTS, rows)})


def write_orders(con: BaseBackend, orders: Sequence[OrderIn]) -> RecordWrite:
    order_rows = []
    line_rows = []
    for order in orders:
        row = order.model_dump(exclude={"items"})
        order_rows.append(row)
        for line in order.items:
            line_rows.append({"order_id": order.order_id, **line.model_dump()})
    return _write(
        con,
        len(order_rows),
        {ORDERS.name: _arrow(ORDERS, order_rows), ORDER_ITEMS.name: _arrow(ORDER_ITEMS, line_rows)},
    )


def _write(con: BaseBackend, received: int, arrows: dict[str, pa.Table]) -> RecordWrite:
    result = RecordWrite(received, {t: Counts() for t in arrows})
    stages: dict[str, str] = {}
    try:
        for table, arrow in arrows.items():
            stages[table] = _stage(con, TABLES[table], arrow)
        statements: list[str] = []
        if ORDERS.name in stages and ORDER_ITEMS.name in stages:
            removed, statement = _stale_lines(con, stages[ORDERS.name], stages[ORDER_ITEMS.name])
            result.tables[ORDER_ITEMS.name].removed = removed
            if removed:
                statements.append(statement)
        for table, stage in stages.items():
            spec = TABLES[table]
            new, changed, unchanged = diff_counts(con, spec, stage)
            counts = result.tables[table]
            counts.inserted, counts.updated, counts.unchanged = new, changed, unchanged
            if new or changed:
                statements.append(_merge_sql(con, spec, stage))
        if statements:
            with transaction(con) as execute:
                for statement in statements:
                    execute(statement)
    finally:
        for stage in stages.values():
            _drop(con, stage)
    return result


def _stale_lines(con: BaseBackend, orders_stage: str, lines_stage: str) -> tuple[int, str]:
    """How many stored lines of the pushed orders were not pushed again, and the DELETE."""
    keys = ["order_id", "line_no"]
    t = con.table(ORDER_ITEMS.name)
    s_orders = con.table(orders_stage).select("order_id")
    s_lines = con.table(lines_stage).select(*keys)
    stale = t.semi_join(s_orders, "order_id").anti_join(s_lines, keys)
    removed = int(stale.count().execute())
    target = sge.to_identifier(ORDER_ITEMS.name, quoted=True)
    staged = sge.to_identifier("s", quoted=True)
    same_line = sge.and_(
        *[
            sge.EQ(
                this=sge.column(k, table=staged, quoted=True),
                expression=sge.column(k, table=target, quoted=True),
            )
            for k in keys
        ]
    )
    delete = sge.delete(
        table_ref(ORDER_ITEMS.name),
        where=sge.and_(
            sge.column("order_id", table=target, quoted=True).isin(
                query=sge.select(sge.column("order_id", quoted=True)).from_(table_ref(orders_stage))
            ),
            sge.not_(
                sge.Exists(
                    this=sge.select(sge.Literal.number(1))
                    .from_(sge.alias_(table_ref(lines_stage), staged))
                    .where(same_line)
                )
            ),
        ),
    )
    return removed, str(delete.sql(dialect_of(con)))

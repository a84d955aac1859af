"""The state DB's share of a customer's data (send log, consent log, sandbox inbox...).

A state table is erased when it has a `customer_id` column, or a foreign key to a table
that has one (the sandbox copy of an outbox row): rows matching either go, children
before parents so foreign keys hold. Tables holding people who are not customers are
listed in STATE_EXEMPT; tests/privacy/test_personal_data.py fails on any other table with
contact columns that this rule misses, so a new table cannot slip past.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, MetaData, Table, delete, func, or_, select
from sqlalchemy.orm import Session

from tokui.state.models import Base

STATE_EXEMPT: dict[str, str] = {
    "users": "the app's own staff accounts, not customers",
}


def _keyed(table: Table) -> bool:
    return "customer_id" in table.c


def customer_tables(metadata: MetaData | None = None) -> list[Table]:
    """State tables holding customer rows, children first (a safe deletion order)."""
    out = []
    for table in reversed((metadata or Base.metadata).sorted_tables):
        if _keyed(table) or any(_keyed(fk.column.table) for fk in table.foreign_keys):
            out.append(table)
    return out


def _where(table: Table, customer_id: str) -> ColumnElement[bool]:
    conditions: list[ColumnElement[bool]] = []
    if _keyed(table):
        conditions.append(table.c.customer_id == customer_id)
    for fk in table.foreign_keys:
        parent = fk.column.table
        if _keyed(parent) and isinstance(parent, Table):
            owned = select(fk.column).where(parent.c.customer_id == customer_id)
            conditions.append(fk.parent.in_(owned.scalar_subquery()))
    return or_(*conditions)


def erase_state(db: Session, customer_id: str, metadata: MetaData | None = None) -> dict[str, int]:
    """Delete the customer's rows from every state table; returns rows per table."""
    rows: dict[str, int] = {}
    for table in customer_tables(metadata):
        where = _where(table, customer_id)
        count = int(db.scalar(select(func.count()).select_from(table).where(where)) or 0)
        if count:
            db.execute(delete(table).where(where))
        rows[f"state.{table.name}"] = count
    return rows

"""Delete one customer on request (個人情報保護法 第35条 利用停止・消去).

Everything the warehouse holds about the customer goes in one transaction; what stays is
a suppression entry (keyed hashes, see identity.py) and an audit entry naming who did it,
when, and which customer id. The state-DB writes are flushed inside the warehouse
transaction and committed right after it, so a failure on either side before the
warehouse commit leaves both untouched.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ibis.backends import BaseBackend
from sqlalchemy.orm import Session, sessionmaker

from tokui.privacy.personal_data import NOT_PERSONAL, PERSONAL_TABLES, PersonalTable, unclassified
from tokui.privacy.state_data import erase_state
from tokui.privacy.suppression import add_suppression
from tokui.state.db import session_scope
from tokui.state.models import AuditLog
from tokui.warehouse.schema import dialect_of
from tokui.warehouse.sql import quote, transaction

AUDIT_ACTION = "customer.delete"
MAX_CUSTOMER_ID = 200
MAX_REASON = 500


class CustomerNotFoundError(LookupError):
    """No warehouse table holds a row for this customer id."""


class ErasureInputError(ValueError):
    """An unusable customer id or reason; nothing was changed."""


@dataclass
class ErasureResult:
    customer_id: str
    rows: dict[str, int] = field(default_factory=dict)
    suppression_id: int = 0

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def check_customer_id(value: str) -> str:
    text = value.strip()
    if not text or len(text) > MAX_CUSTOMER_ID:
        raise ErasureInputError(f"a customer id is 1 to {MAX_CUSTOMER_ID} characters")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in text):
        raise ErasureInputError("a customer id has no control characters")
    return text


def _where(p: PersonalTable, dialect: str) -> tuple[str, int]:
    """The WHERE clause selecting the customer's rows of `p`, and its parameter count.

    Identifiers are our own declared names, quoted; the customer id is always a bound
    parameter, never text in the statement.
    """
    mark = "?" if dialect == "duckdb" else "%s"

    def q(name: str) -> str:
        return quote(name, dialect)

    if p.via is not None:
        parent, key = p.via
        sub = f"SELECT {q(key)} FROM {q(parent)} WHERE {q('customer_id')} = {mark}"  # noqa: S608
        return f"{q(p.column)} IN ({sub})", 1
    if p.stitched:
        # Events before login carry only the anonymous id; once the customer's own
        # events show that id, those anonymous rows are theirs too. Rows of another
        # customer on the same device keep their own customer_id and stay.
        anon = (
            f"SELECT {q('anonymous_id')} FROM {q(p.table)} "  # noqa: S608
            f"WHERE {q('customer_id')} = {mark} "
            f"AND {q('anonymous_id')} IS NOT NULL"
        )
        return (
            f"{q('customer_id')} = {mark} OR ({q('customer_id')} IS NULL "
            f"AND {q('anonymous_id')} IN ({anon}))",
            2,
        )
    return f"{q(p.column)} = {mark}", 1


def plan(con: BaseBackend) -> list[PersonalTable]:
    """The personal tables present in this warehouse, in deletion order.

    Unlisted tables with a customer_id column are added (before `customers`): the
    registry test should have caught them, and deleting too much beats leaving data.
    """
    present = set(con.list_tables())
    tables = [
        p for p in PERSONAL_TABLES if p.table in present and (p.via is None or p.via[0] in present)
    ]
    extra = [
        PersonalTable(t)
        for t in unclassified(sorted(present))
        if t not in NOT_PERSONAL and "customer_id" in con.table(t).columns
    ]
    return tables[:-1] + extra + tables[-1:] if tables else extra


def delete_customer(
    con: BaseBackend,
    sessions: sessionmaker[Session],
    secret: str,
    customer_id: str,
    reason: str,
    *,
    actor_id: int | None,
    at: datetime,
    via: str,
    lock: AbstractContextManager[Any] | None = None,
) -> ErasureResult:
    """Remove the customer from every personal table; keep a suppression and an audit entry.

    `at` is the UTC time (naive, storage form); `via` says where the request came from
    ("web", "cli") for the audit entry.
    """
    customer_id = check_customer_id(customer_id)
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON:
        raise ErasureInputError(f"a reason is 1 to {MAX_REASON} characters")
    result = ErasureResult(customer_id)
    dialect = dialect_of(con)
    with lock or contextlib.nullcontext(), session_scope(sessions) as db:
        steps = plan(con)
        with transaction(con) as raw_execute:
            # The DB-API execute of either driver takes bound parameters too.
            execute: Callable[..., Any] = raw_execute
            has_customers = any(p.table == "customers" for p in steps)
            contact = _contact(execute, dialect, customer_id) if has_customers else {}
            for p in steps:
                where, n = _where(p, dialect)
                sql = f"SELECT count(*) FROM {quote(p.table, dialect)} WHERE {where}"  # noqa: S608
                result.rows[p.table] = int(_first(execute(sql, [customer_id] * n))[0])
            if result.total == 0:
                raise CustomerNotFoundError(f"no customer {customer_id!r} in the warehouse")
            result.rows.update(erase_state(db, customer_id))
            for p in steps:
                where, n = _where(p, dialect)
                execute(f"DELETE FROM {quote(p.table, dialect)} WHERE {where}", [customer_id] * n)  # noqa: S608
            entry = add_suppression(
                db,
                secret,
                at,
                reason=reason,
                created_by=actor_id,
                customer_id=customer_id,
                email=contact.get("email"),
                phone=contact.get("phone"),
                line_user_id=contact.get("line_user_id"),
            )
            result.suppression_id = entry.id
            db.add(
                AuditLog(
                    at=at,
                    user_id=actor_id,
                    action=AUDIT_ACTION,
                    target=customer_id,
                    detail=json.dumps(
                        {
                            "via": via,
                            "reason": reason,
                            "suppression_id": entry.id,
                            "rows": result.rows,
                        },
                        ensure_ascii=False,
                    ),
                )
            )
            db.flush()
    return result


def _first(cursor: Any) -> Any:
    row = cursor.fetchone()
    assert row is not None
    return row


def _contact(execute: Callable[..., Any], dialect: str, customer_id: str) -> dict[str, Any]:
    cols = ("email", "phone", "line_user_id")

    def q(name: str) -> str:
        return quote(name, dialect)

    mark = "?" if dialect == "duckdb" else "%s"
    sql = (
        f"SELECT {', '.join(q(c) for c in cols)} FROM {q('customers')} "  # noqa: S608
        f"WHERE {q('customer_id')} = {mark}"
    )
    row = execute(sql, [customer_id]).fetchone()
    return dict(zip(cols, row, strict=True)) if row else {}

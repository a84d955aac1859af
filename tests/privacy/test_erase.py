"""Deleting a customer on request: every personal row goes, the rest stays, a suppression
entry and an audit entry remain. Runs on DuckDB and PostgreSQL warehouses."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select

from tests.privacy.people import DELETED, DELETED_LINE, SECRET
from tokui.privacy import CustomerNotFoundError, delete_customer, is_suppressed, load_checker
from tokui.privacy.erase import ErasureInputError
from tokui.privacy.personal_data import PERSONAL_TABLES
from tokui.state.db import session_scope
from tokui.state.models import AuditLog
from tokui.state.suppressions import Suppression
from tokui.workspace import Workspace

AT = datetime(2025, 12, 31, 4, 0)

# Rows of "d" in each table, counted by hand from tests/privacy/people.py.
EXPECTED_ROWS = {
    "order_items": 3,  # od1 has 2 lines, od2 has 1
    "subscription_deliveries": 3,
    "subscription_events": 2,
    "orders": 2,
    "subscriptions": 1,
    "web_events": 4,  # wd1, wd4 logged in; wd2, wd3 anonymous on the same device
    "point_transactions": 2,
    "coupon_grants": 1,
    "customer_features": 1,
    "customer_hashes": 1,
    "customers": 1,
}


def _rows(ws: Workspace) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every personal table, sorted, for before/after comparison."""
    con = ws.warehouse
    out = {}
    for p in PERSONAL_TABLES:
        table = con.table(p.table)
        out[p.table] = sorted(
            tuple(str(v) for v in row.values()) for row in table.to_pyarrow().to_pylist()
        )
    return out


def _owned(ws: Workspace) -> dict[str, set[tuple[Any, ...]]]:
    """The rows of "d", found independently of the eraser's SQL."""
    con = ws.warehouse
    orders = set(con.table("orders").filter(lambda t: t.customer_id == DELETED).order_id.to_list())
    subs = set(
        con.table("subscriptions")
        .filter(lambda t: t.customer_id == DELETED)
        .subscription_id.to_list()
    )
    owned: dict[str, set[tuple[Any, ...]]] = {}
    for p in PERSONAL_TABLES:
        keep = set()
        for row in con.table(p.table).to_pyarrow().to_pylist():
            if p.table == "order_items":
                mine = row["order_id"] in orders
            elif p.table in ("subscription_deliveries", "subscription_events"):
                mine = row["subscription_id"] in subs
            elif p.table == "web_events":
                mine = row["customer_id"] == DELETED or (
                    row["customer_id"] is None and row["anonymous_id"] == "a-d"
                )
            else:
                mine = row["customer_id"] == DELETED
            if mine:
                keep.add(tuple(str(v) for v in row.values()))
        owned[p.table] = keep
    return owned


def test_delete_removes_every_personal_row_and_nothing_else(people_ws: Workspace) -> None:
    before = _rows(people_ws)
    owned = _owned(people_ws)
    # Derived tables (segments, model scores) depend on the rules and models of the day:
    # their expected counts are what they hold for "d" before the deletion.
    derived = {
        p.table: len(owned[p.table]) for p in PERSONAL_TABLES if p.table not in EXPECTED_ROWS
    }
    assert derived["segment_memberships"] > 0  # "d" is in at least one segment

    result = delete_customer(
        people_ws.warehouse,
        people_ws.sessions,
        SECRET,
        DELETED,
        "本人からの削除依頼 (電話)",
        actor_id=1,
        at=AT,
        via="test",
    )
    warehouse_rows = {k: v for k, v in result.rows.items() if not k.startswith("state.")}
    assert warehouse_rows == EXPECTED_ROWS | derived
    after = _rows(people_ws)
    for table, rows in before.items():
        expected = sorted(set(rows) - owned[table])
        assert after[table] == expected, table
        assert len(after[table]) == len(rows) - result.rows[table], table
    assert _owned(people_ws) == {t: set() for t in owned}
    # The other customer who logged in on the same device keeps their event.
    events = people_ws.warehouse.table("web_events")
    assert sorted(events.filter(events.anonymous_id == "a-d").event_id.to_list()) == ["wn9"]


def test_suppression_and_audit_entries(people_ws: Workspace) -> None:
    result = delete_customer(
        people_ws.warehouse,
        people_ws.sessions,
        SECRET,
        " d ",
        "本人からの削除依頼",
        actor_id=1,
        at=AT,
        via="web",
    )
    with session_scope(people_ws.sessions) as db:
        entry = db.scalars(select(Suppression)).one()
        assert entry.id == result.suppression_id
        assert (entry.reason, entry.source, entry.created_by) == (
            "本人からの削除依頼",
            "erasure",
            1,
        )
        stored = " ".join(
            str(v) for v in (entry.email_hash, entry.phone_hash, entry.line_hash, entry.reason)
        )
        # Hashes, not clear values.
        assert "example" not in stored.lower() and "5555" not in stored
        assert len(entry.email_hash or "") == 64
        # Normalised: case, spaces, full-width digits and +81 all match.
        assert is_suppressed(db, SECRET, email=" taro.delete@EXAMPLE.com")
        assert is_suppressed(db, SECRET, phone="+81 90-5555-6666")
        assert is_suppressed(db, SECRET, phone="０９０５５５５６６６６")
        assert is_suppressed(db, SECRET, line_user_id=DELETED_LINE)
        assert is_suppressed(db, SECRET, customer_id="d")
        assert not is_suppressed(db, SECRET, email="hanako@example.com", phone="090-1111-2222")
        assert not is_suppressed(db, SECRET)
        # Another workspace secret does not recognise them: the hash is keyed.
        assert not is_suppressed(db, "another-secret", email=" taro.delete@EXAMPLE.com")
        checker = load_checker(db, SECRET)
        assert checker.matches(email="TARO.DELETE@example.com", phone="09012345678") == ["email"]
        audit = db.scalars(select(AuditLog).where(AuditLog.action == "customer.delete")).one()
        assert (audit.target, audit.user_id, audit.at) == ("d", 1, AT)
        detail = json.loads(audit.detail or "{}")
        assert detail["via"] == "web"
        assert detail["reason"] == "本人からの削除依頼"
        assert detail["rows"]["orders"] == 2
        assert detail["suppression_id"] == entry.id


def test_unknown_customer_changes_nothing(people_ws: Workspace) -> None:
    before = _rows(people_ws)
    with pytest.raises(CustomerNotFoundError):
        delete_customer(
            people_ws.warehouse,
            people_ws.sessions,
            SECRET,
            "nobody",
            "依頼",
            actor_id=1,
            at=AT,
            via="test",
        )
    with pytest.raises(ErasureInputError):
        delete_customer(
            people_ws.warehouse,
            people_ws.sessions,
            SECRET,
            "d",
            "   ",
            actor_id=1,
            at=AT,
            via="test",
        )
    assert _rows(people_ws) == before
    with session_scope(people_ws.sessions) as db:
        assert db.scalars(select(Suppression)).all() == []
        assert db.scalars(select(AuditLog).where(AuditLog.action == "customer.delete")).all() == []


def test_a_failing_state_write_leaves_the_warehouse_untouched(people_ws: Workspace) -> None:
    """The audit/suppression rows are flushed inside the warehouse transaction: a state
    DB failure (here an actor id that is no user) rolls the deletes back."""
    before = _rows(people_ws)
    with pytest.raises(Exception, match=r"FOREIGN KEY|foreign key"):
        delete_customer(
            people_ws.warehouse,
            people_ws.sessions,
            SECRET,
            DELETED,
            "依頼",
            actor_id=999,
            at=AT,
            via="test",
        )
    assert _rows(people_ws) == before


def test_injection_text_is_only_a_value(people_ws: Workspace) -> None:
    before = _rows(people_ws)
    with pytest.raises(CustomerNotFoundError):
        delete_customer(
            people_ws.warehouse,
            people_ws.sessions,
            SECRET,
            "x' OR '1'='1",
            "依頼",
            actor_id=None,
            at=AT,
            via="test",
        )
    assert _rows(people_ws) == before

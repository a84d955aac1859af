"""The message event log reaches the warehouse table message_events, incrementally, on
DuckDB and PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from tests.messaging.conftest import NOW
from tokui.clock import FixedClock
from tokui.messaging.events import MESSAGE_EVENTS, add_event, refresh_message_events
from tokui.refresh.pipeline import RefreshContext
from tokui.state.db import make_engine, migrate, session_factory, session_scope
from tokui.warehouse.connection import connect


def test_events_copied_incrementally(warehouse_url: str, tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'state.db'}")
    migrate(engine)
    sessions = session_factory(engine)
    con = connect(warehouse_url)
    ctx = RefreshContext(con, sessions, FixedClock(NOW), tmp_path)
    at = datetime(2025, 12, 31, 3, 0)
    with session_scope(sessions) as db:
        add_event(db, event="sent", channel="email", at=at, outbox_id=None, customer_id="c1")
        add_event(db, event="clicked", channel="email", at=at, outbox_id=None,
                  customer_id="c1", detail="https://shop.example/a")  # fmt: skip
    assert refresh_message_events(ctx) == 2
    with session_scope(sessions) as db:
        add_event(db, event="unsubscribed", channel="email", at=at, outbox_id=None,
                  customer_id="c2", detail="one_click")  # fmt: skip
    assert refresh_message_events(ctx) == 3
    assert refresh_message_events(ctx) == 3  # nothing new, nothing doubled
    table = con.table(MESSAGE_EVENTS.name)
    rows = table.order_by("event_id").to_pyarrow().to_pylist()
    assert [(r["event_id"], r["customer_id"], r["event"], r["detail"]) for r in rows] == [
        (1, "c1", "sent", ""),
        (2, "c1", "clicked", "https://shop.example/a"),
        (3, "c2", "unsubscribed", "one_click"),
    ]
    assert rows[0]["occurred_at"] == at
    con.disconnect()
    engine.dispose()

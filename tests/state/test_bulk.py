"""Bulk writes (tokui.state.bulk) store exactly what SQLAlchemy's own statements store,
skip taken keys, and return the rows they inserted, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select, text, update
from sqlalchemy.orm import Session

from tokui.messaging.outbox import OUTBOX
from tokui.state.bulk import insert_columns, insert_rows, update_columns, update_rows
from tokui.state.db import make_engine, migrate, session_scope

AT = datetime(2026, 11, 1, 1, 0)  # no microseconds: SQLite's own adapter would drop them
LATER = datetime(2026, 11, 1, 1, 0, 30, 250000)


def _row(key: str, **values: Any) -> dict[str, Any]:
    row = {
        "idempotency_key": key,
        "channel": "email",
        "customer_id": "c1",
        "recipient": "taro@example.jp",
        "template_version_id": None,
        "is_marketing": True,
        "payload": '{"subject": "件名"}',
        "status": "queued",
        "attempts": 0,
        "next_attempt_at": AT,
        "created_at": AT,
        "updated_at": AT,
    }
    return row | values


@pytest.fixture
def engine(state_url: str) -> Iterator[Engine]:
    engine = make_engine(state_url)
    migrate(engine)
    yield engine
    engine.dispose()


def _stored(db: Session, key: str) -> tuple[Any, ...]:
    """The row as the database holds it (SQLite: the text SQLAlchemy's types write)."""
    cols = "created_at, updated_at, next_attempt_at, is_marketing, status, payload, customer_id"
    row = db.execute(
        text(f"SELECT {cols} FROM outbox WHERE idempotency_key = :k"),
        {"k": key},
    ).one()
    return tuple(row)


def test_an_insert_stores_what_sqlalchemy_stores_and_returns_what_it_inserted(
    engine: Engine,
) -> None:
    with Session(engine) as db, db.begin():
        db.execute(insert(OUTBOX).values(**_row("core")))
        got = insert_rows(
            db,
            OUTBOX,
            [_row("bulk"), _row("core"), _row("bulk-2", is_marketing=False, customer_id=None)],
            conflict=["idempotency_key"],
            returning=[OUTBOX.c.id, OUTBOX.c.idempotency_key],
        )
        core = db.scalar(select(OUTBOX.c.id).where(OUTBOX.c.idempotency_key == "core"))
        # Only the new keys, in id order (PostgreSQL spends a sequence number on the
        # conflicting row, SQLite does not).
        assert [k for _, k in got] == ["bulk", "bulk-2"]
        assert core < got[0][0] < got[1][0]
        found = db.execute(
            select(OUTBOX.c.id, OUTBOX.c.idempotency_key)
            .where(OUTBOX.c.id > core)
            .order_by(OUTBOX.c.id)
        )
        assert [tuple(r) for r in found] == got
        assert _stored(db, "bulk") == _stored(db, "core")
        if engine.dialect.name == "sqlite":
            assert _stored(db, "bulk")[:4] == (
                "2026-11-01 01:00:00.000000",
                "2026-11-01 01:00:00.000000",
                "2026-11-01 01:00:00.000000",
                1,
            )
        sqlite = engine.dialect.name == "sqlite"
        assert (_stored(db, "bulk-2")[3], _stored(db, "bulk-2")[6]) == (
            0 if sqlite else False,
            None,
        )
        assert insert_rows(db, OUTBOX, [_row("core")], conflict=["idempotency_key"]) == []


def test_an_update_stores_what_sqlalchemy_stores(engine: Engine) -> None:
    with session_scope(_sessions(engine)) as db:
        insert_rows(db, OUTBOX, [_row("a"), _row("b")])
        ids = {k: i for k, i in db.execute(select(OUTBOX.c.idempotency_key, OUTBOX.c.id))}
        values = {"status": "sent", "updated_at": LATER, "is_marketing": False}
        db.execute(update(OUTBOX).where(OUTBOX.c.id == ids["a"]).values(**values))
        update_rows(db, OUTBOX, "id", [{"id": ids["b"], **values}])
        assert _stored(db, "b") == _stored(db, "a")
        assert _stored(db, "b")[4] == "sent"


def _sessions(engine: Engine) -> Any:
    from tokui.state.db import session_factory

    return session_factory(engine)


def test_columns_and_constants_store_what_rows_store(engine: Engine) -> None:
    with session_scope(_sessions(engine)) as db:
        insert_rows(db, OUTBOX, [_row("rows", status="to_render"), _row("core")])
        row = _row("cols", status="to_render")
        fixed = ("status", "attempts", "next_attempt_at", "created_at", "updated_at")
        got = insert_columns(
            db,
            OUTBOX,
            {name: [row[name]] for name in row if name not in fixed},
            constants={name: row[name] for name in fixed},
            conflict=["idempotency_key"],
            returning=[OUTBOX.c.idempotency_key],
        )
        assert got == [("cols",)]
        assert _stored(db, "cols") == _stored(db, "rows")
        ids = dict(db.execute(select(OUTBOX.c.idempotency_key, OUTBOX.c.id)).all())
        db.execute(
            update(OUTBOX)
            .where(OUTBOX.c.id == ids["core"])
            .values(payload="{}", status="queued", updated_at=LATER)
        )
        update_columns(
            db,
            OUTBOX,
            "id",
            {"id": [ids["cols"], ids["rows"]], "payload": ["{}", "[]"]},
            constants={"status": "queued", "updated_at": LATER},
        )
        assert _stored(db, "cols") == _stored(db, "core")
        assert _stored(db, "rows")[4:6] == ("queued", "[]")

"""Erasing state-DB rows: by customer_id, and through foreign keys to such rows."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table, create_engine, insert
from sqlalchemy import select as sa_select
from sqlalchemy.orm import Session

from tokui.privacy.state_data import customer_tables, erase_state


def test_erase_by_customer_and_by_foreign_key() -> None:
    meta = MetaData()
    sends = Table(
        "sends",
        meta,
        Column("id", Integer, primary_key=True),
        Column("customer_id", String(20)),
    )
    copies = Table(  # no customer column: found through its send
        "copies",
        meta,
        Column("id", Integer, primary_key=True),
        Column("send_id", ForeignKey("sends.id")),
        Column("recipient", String(50)),
    )
    events = Table(  # customer_id sometimes empty: found through the send as well
        "events",
        meta,
        Column("id", Integer, primary_key=True),
        Column("send_id", ForeignKey("sends.id"), nullable=True),
        Column("customer_id", String(20), nullable=True),
    )
    staff = Table("staff", meta, Column("id", Integer, primary_key=True), Column("email", String))
    assert [t.name for t in customer_tables(meta)] == ["events", "copies", "sends"]
    engine = create_engine("sqlite://")
    meta.create_all(engine)
    with Session(engine) as db:
        db.execute(insert(sends), [{"id": 1, "customer_id": "d"}, {"id": 2, "customer_id": "g"}])
        db.execute(
            insert(copies),
            [
                {"id": 1, "send_id": 1, "recipient": "d@x"},
                {"id": 2, "send_id": 2, "recipient": "g@x"},
            ],
        )
        db.execute(
            insert(events),
            [
                {"id": 1, "send_id": 1, "customer_id": None},
                {"id": 2, "send_id": None, "customer_id": "d"},
                {"id": 3, "send_id": 2, "customer_id": "g"},
            ],
        )
        db.execute(insert(staff), [{"id": 1, "email": "admin@x"}])
        rows = erase_state(db, "d", meta)
        assert rows == {"state.events": 2, "state.copies": 1, "state.sends": 1}
        assert db.scalars(sa_select(sends.c.id)).all() == [2]
        assert db.scalars(sa_select(copies.c.id)).all() == [2]
        assert db.scalars(sa_select(events.c.id)).all() == [3]
        assert db.scalars(sa_select(staff.c.id)).all() == [1]

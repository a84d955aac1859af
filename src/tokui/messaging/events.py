"""Message events: appended in the state DB, copied to the warehouse for analysis.

The delivery worker and the tracking endpoints append to `message_event_log` in the
same transaction as the change they describe. The refresh step `message_events` copies
the log into the warehouse table of the same name (portable DDL from a TableSpec, like
the canonical tables), where measurement joins it with orders.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from tokui.refresh.pipeline import RefreshContext, refresh_step
from tokui.state.messages import MessageEventRecord, OutboxMessage
from tokui.warehouse.schema import C, TableSpec, create_table_sql, dialect_of
from tokui.warehouse.sql import transaction

EVENTS = (
    "queued",
    "sent",
    "delivered",
    "opened",
    "clicked",
    "bounced",
    "complained",
    "unsubscribed",
    "failed",
    "suppressed",
    # postal DM: the export went to the print vendor
    "handed_over",
    # call center outcomes (tokui.messaging.calls)
    "call_reached",
    "call_saved",
    "call_cancelled",
    "call_no_answer",
)

MESSAGE_EVENTS = TableSpec(
    "message_events",
    "メッセージイベント",
    "Message events",
    (
        C("event_id", "int64", False, "イベントID", "Event id"),
        C("message_id", "int64", True, "メッセージID (outbox)", "Message id (outbox)"),
        C("customer_id", "string", True, "顧客ID", "Customer id"),
        C("channel", "string", False, "チャネル", "Channel"),
        C("event", "string", False, "イベント", "Event", EVENTS),
        C("occurred_at", "timestamp", False, "発生日時 (UTC)", "Time (UTC)"),
        C("detail", "string", True, "詳細 (クリックURL等)", "Detail (clicked URL, ...)"),
    ),
    ("event_id",),
)


def add_event(
    db: Session,
    *,
    event: str,
    channel: str,
    at: datetime,
    outbox_id: int | None,
    customer_id: str | None,
    detail: str = "",
) -> None:
    if event not in EVENTS:
        raise ValueError(f"unknown message event {event!r}")
    db.add(
        MessageEventRecord(
            outbox_id=outbox_id,
            customer_id=customer_id,
            channel=channel,
            event=event,
            detail=detail[:2000],
            at=at,
        )
    )


def _log_table(db: Session, after_id: int) -> pa.Table:
    rows = db.execute(
        select(
            MessageEventRecord.id,
            MessageEventRecord.outbox_id,
            MessageEventRecord.customer_id,
            MessageEventRecord.channel,
            MessageEventRecord.event,
            MessageEventRecord.at,
            MessageEventRecord.detail,
        )
        .where(MessageEventRecord.id > after_id)
        .order_by(MessageEventRecord.id)
    ).all()
    columns: list[Any] = list(zip(*rows, strict=True)) if rows else [() for _ in range(7)]
    return pa.table(
        {
            "event_id": pa.array(columns[0], pa.int64()),
            "message_id": pa.array(columns[1], pa.int64()),
            "customer_id": pa.array(columns[2], pa.string()),
            "channel": pa.array(columns[3], pa.string()),
            "event": pa.array(columns[4], pa.string()),
            "occurred_at": pa.array(columns[5], pa.timestamp("us")),
            "detail": pa.array(columns[6], pa.string()),
        }
    )


@refresh_step("message_events", "message events from the state DB to the warehouse")
def refresh_message_events(ctx: RefreshContext) -> int:
    """Appends the events not yet copied (the log only grows; ids are increasing)."""
    con = ctx.warehouse
    if MESSAGE_EVENTS.name not in con.list_tables():
        with transaction(con) as execute:
            execute(create_table_sql(MESSAGE_EVENTS, dialect_of(con)))
    table = con.table(MESSAGE_EVENTS.name)
    last = table.event_id.max().execute()
    after = int(last) if last is not None and last == last else 0
    with ctx.sessions() as db:
        new = _log_table(db, after)
    if new.num_rows:
        con.insert(MESSAGE_EVENTS.name, new)
    return int(table.count().execute())


def record_tracking(
    db: Session, outbox_id: int, event: str, at: datetime, detail: str = ""
) -> bool:
    """An open or click on a sent message; False when the message does not exist."""
    row = db.get(OutboxMessage, outbox_id)
    if row is None:
        return False
    add_event(
        db,
        event=event,
        channel=row.channel,
        at=at,
        outbox_id=row.id,
        customer_id=row.customer_id,
        detail=detail,
    )
    return True

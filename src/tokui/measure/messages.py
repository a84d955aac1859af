"""Messages and their events, read from the state DB and summed there.

One row per outbox message of a customer channel is flagged from the event log
(`message_event_log`), then summed per dimension in the same SQL statement:

- sent: a `sent` (or, for postal DM, `handed_over`) event;
- delivered: a `delivered` event, or sent and never `bounced` (most channels report
  bounces, not deliveries);
- opened, clicked, unsubscribed, bounced, complained: at least one such event;
- recipients: distinct customers among the messages.

Touches for attribution are the `sent`/`handed_over` and `clicked` events of marketing
messages; transactional messages (order confirmations) are never touches.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
import pyarrow as pa
from sqlalchemy import Select, and_, case, func, literal, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from tokui.measure.journeys import Period, window_filter
from tokui.scenarios.definition import MESSAGE_CHANNELS
from tokui.state.messages import MessageEventRecord, OutboxMessage
from tokui.state.scenarios import Enrollment, JourneyEntry, Scenario

SENT = ("sent", "handed_over")
FLAGS = ("sent", "delivered_event", "opened", "clicked", "unsubscribed", "bounced", "complained")
COUNTS = (
    "messages",
    "sent",
    "delivered",
    "opened",
    "clicked",
    "unsubscribed",
    "bounced",
    "complained",
    "recipients",
)

TOUCH_SCHEMA = pa.schema(
    [
        ("touch_id", pa.int64()),
        ("message_id", pa.int64()),
        ("customer_id", pa.string()),
        ("channel", pa.string()),
        ("kind", pa.string()),
        ("at", pa.timestamp("us")),
        ("scenario_key", pa.string()),
        ("step_id", pa.string()),
        ("enrollment_id", pa.int64()),
        ("arm", pa.string()),
    ]
)


def _flag(event: str | Sequence[str]) -> ColumnElement[Any]:
    ev = MessageEventRecord
    cond = ev.event.in_(list(event)) if not isinstance(event, str) else ev.event == event
    return func.max(case((cond, 1), else_=0))


def rollup(db: Session, base: Select[*tuple[Any, ...]], dims: Sequence[str]) -> pd.DataFrame:
    """Sum message flags per `dims`; `base` selects message_id, customer_id and the dims."""
    b = base.subquery()
    ev = MessageEventRecord
    inner = (
        select(
            *[b.c[d] for d in dims],
            b.c.message_id,
            b.c.customer_id,
            _flag(SENT).label("sent"),
            _flag("delivered").label("delivered_event"),
            _flag("opened").label("opened"),
            _flag("clicked").label("clicked"),
            _flag("unsubscribed").label("unsubscribed"),
            _flag("bounced").label("bounced"),
            _flag("complained").label("complained"),
        )
        .select_from(b.outerjoin(ev, ev.outbox_id == b.c.message_id))
        .group_by(*[b.c[d] for d in dims], b.c.message_id, b.c.customer_id)
    ).subquery()
    delivered = case(
        (inner.c.delivered_event == 1, 1),
        (and_(inner.c.sent == 1, inner.c.bounced == 0), 1),
        else_=0,
    )
    outer = select(
        *[inner.c[d] for d in dims],
        func.count().label("messages"),
        func.sum(inner.c.sent).label("sent"),
        func.sum(delivered).label("delivered"),
        func.sum(inner.c.opened).label("opened"),
        func.sum(inner.c.clicked).label("clicked"),
        func.sum(inner.c.unsubscribed).label("unsubscribed"),
        func.sum(inner.c.bounced).label("bounced"),
        func.sum(inner.c.complained).label("complained"),
        func.count(inner.c.customer_id.distinct()).label("recipients"),
    ).group_by(*[inner.c[d] for d in dims])
    rows = db.execute(outer).all()
    df = pd.DataFrame(rows, columns=[*dims, *COUNTS])
    for c in COUNTS:
        df[c] = pd.to_numeric(df[c]).fillna(0).astype("int64")
    return df


def bucket(column: Any, bounds: Sequence[datetime]) -> ColumnElement[Any]:
    """The index i of the bucket [bounds[i], bounds[i+1]) `column` falls in; portable SQL
    (a CASE over bound parameters), since date arithmetic differs between SQLite and
    PostgreSQL."""
    whens = [
        (and_(column >= lo, column < hi), literal(i))
        for i, (lo, hi) in enumerate(itertools.pairwise(bounds))
    ]
    return case(*whens, else_=None)


def scenario_messages(
    start: datetime, end: datetime, bounds: Sequence[datetime]
) -> Select[*tuple[Any, ...]]:
    """Marketing messages queued in [start, end): scenario, step, channel, week index.

    Messages not sent by a scenario (tests, one-off sends) have scenario_key None.
    """
    o = OutboxMessage
    q = aliased(JourneyEntry)
    at = o.created_at
    return (
        select(
            o.id.label("message_id"),
            o.customer_id.label("customer_id"),
            o.channel.label("channel"),
            Scenario.key.label("scenario_key"),
            q.step_id.label("step_id"),
            bucket(at, bounds).label("week"),
        )
        .select_from(o)
        .outerjoin(q, and_(q.outbox_id == o.id, q.outcome == "queued"))
        .outerjoin(Enrollment, Enrollment.id == q.enrollment_id)
        .outerjoin(Scenario, Scenario.id == Enrollment.scenario_id)
        .where(
            at >= start,
            at < end,
            o.channel.in_(MESSAGE_CHANNELS),
            o.customer_id.is_not(None),
            o.is_marketing.is_(True),
        )
    )


def arm_messages(
    scenario_id: int, step_id: str, period: Period, window: timedelta
) -> Select[*tuple[Any, ...]]:
    """Messages queued to each arm of a split after the split (later journal entries), for
    the arm assignments of the period (the same units as the conversions)."""
    a = aliased(JourneyEntry)
    q = aliased(JourneyEntry)
    o = OutboxMessage
    stmt = (
        select(
            o.id.label("message_id"),
            o.customer_id.label("customer_id"),
            a.detail.label("arm"),
        )
        .select_from(a)
        .join(Enrollment, Enrollment.id == a.enrollment_id)
        .join(
            q,
            and_(q.enrollment_id == a.enrollment_id, q.outcome == "queued", q.id > a.id),
        )
        .join(o, o.id == q.outbox_id)
        .where(
            Enrollment.scenario_id == scenario_id,
            a.step_id == step_id,
            a.outcome == "arm",
            o.channel.in_(MESSAGE_CHANNELS),
        )
    )
    return window_filter(stmt, a.at, period, window)


def touches(db: Session, start: datetime, end: datetime) -> pa.Table:
    """Sends and clicks of marketing messages in [start, end), with their scenario."""
    ev = MessageEventRecord
    o = OutboxMessage
    q = aliased(JourneyEntry)
    stmt = (
        select(
            ev.id,
            ev.outbox_id,
            ev.customer_id,
            ev.channel,
            case((ev.event == "clicked", "click"), else_="send"),
            ev.at,
            Scenario.key,
            q.step_id,
            q.enrollment_id,
            Enrollment.arm,
        )
        .select_from(ev)
        .join(o, o.id == ev.outbox_id)
        .outerjoin(q, and_(q.outbox_id == ev.outbox_id, q.outcome == "queued"))
        .outerjoin(Enrollment, Enrollment.id == q.enrollment_id)
        .outerjoin(Scenario, Scenario.id == Enrollment.scenario_id)
        .where(
            ev.event.in_((*SENT, "clicked")),
            ev.at >= start,
            ev.at < end,
            ev.customer_id.is_not(None),
            o.is_marketing.is_(True),
            ev.channel.in_(MESSAGE_CHANNELS),
        )
    )
    rows = db.execute(stmt).all()
    cols = list(zip(*rows, strict=True)) if rows else [() for _ in TOUCH_SCHEMA.names]
    return pa.table(
        {
            name: pa.array(list(values), field.type)
            for name, field, values in zip(TOUCH_SCHEMA.names, TOUCH_SCHEMA, cols, strict=True)
        }
    )

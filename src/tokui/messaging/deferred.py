"""Messages queued with their template context and rendered by the delivery worker.

A scenario tick may queue a couple of hundred thousand messages at once (the day's
"at 10:00" waits ending together). Rendering each of them there (sandboxed template,
layout, signed links, text part) and writing the rendered payloads was most of such a
tick. So the engine stores each message's template context instead, the customer's
data as of the tick exactly as the template would see it, in the row's payload with
status `to_render` (`insert_to_render`); the delivery worker renders a batch of them
before each claim (`render_pending`) and the row becomes `queued` with its rendered
payload, as if it had been rendered when queued. What a message says is still the
data at queue time. What changes is when a template error shows: a message that
cannot render (a malformed address, a value the sample customer did not have) becomes
failed_perm with the error, its `failed` event, and for a scenario's message a
`render_failed` line in the enrollment's journal; the enrollment has gone on by then.
Templates are checked against a sample customer when a version is saved and when a
scenario is enabled, so that stays rare.

Crash safety: rendering runs in a transaction of its own, before any claim, and only
`queued` rows are ever claimed. A worker killed while rendering leaves its rows
`to_render` for the next pass. On PostgreSQL rows are picked with `FOR UPDATE SKIP
LOCKED`, so they are the pass's own until it commits; on SQLite every update is fenced
on the status. Two workers never render one message twice, and never put back to
`queued` a row another worker already sent. Requeuing a message that failed to render
puts it back to `to_render` (tokui.messaging.outbox.requeue).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import duckdb
import orjson
import pyarrow as pa
import pyarrow.compute as pc
from ibis.backends import BaseBackend
from sqlalchemy import Table, bindparam, insert, literal, select, update
from sqlalchemy.orm import Session

from tokui.messaging.context import (
    COUPON_FIELDS,
    RECOMMENDATION_FIELDS,
    CustomerData,
    coupons_expr,
    customers_expr,
    load_customers,
    recommended_expr,
)
from tokui.messaging.outbox import OUTBOX, RENDER_ERROR, NewMessage, Status
from tokui.state.bulk import among, insert_columns, update_columns
from tokui.state.messages import MessageEventRecord, MessageTemplate, MessageTemplateVersion
from tokui.state.scenarios import JourneyEntry

if TYPE_CHECKING:
    from tokui.messaging.service import Messaging

log = logging.getLogger("tokui.messaging")

EVENTS: Table = MessageEventRecord.__table__  # type: ignore[assignment]
JOURNAL: Table = JourneyEntry.__table__  # type: ignore[assignment]
TO_RENDER = Status.to_render.value
RENDER_FAILED = "render_failed"  # the journal outcome of a scenario message


# The context as JSON ---------------------------------------------------------------
# Contexts hold plain values (tokui.messaging.context.plain): JSON's own types, and dates
# and datetimes, which are tagged so that templates get them back as such. Datetimes
# keep their zone by name (the shop's), so that they format exactly as before.
def _tag(value: Any) -> Any:
    if isinstance(value, datetime):
        zone = value.tzinfo.key if isinstance(value.tzinfo, ZoneInfo) else None
        return {"$datetime": value.isoformat(), "zone": zone}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    raise TypeError(f"{type(value).__name__} is not a template value")


def _untag(obj: dict[str, Any]) -> Any:
    if len(obj) == 2 and "$datetime" in obj and "zone" in obj:
        moment = datetime.fromisoformat(obj["$datetime"])
        zone = obj["zone"]
        return moment.astimezone(ZoneInfo(zone)) if zone else moment
    if len(obj) == 1 and "$date" in obj:
        return date.fromisoformat(obj["$date"])
    return obj


def encode_context(context: Mapping[str, Any]) -> str:
    """A message's context without `shop` (the renderer adds the shop's current one)."""
    body = {k: v for k, v in context.items() if k != "shop"}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=_tag)


def encode_customer(data: CustomerData) -> str:
    """encode_context(template_context(data, ...)) for a customer's data as
    load_customers gives it (plain values already), without building the context first:
    the scenario engine encodes a couple of hundred thousand in a tick."""
    customer = data.customer
    body = {
        "customer": customer,
        "coupons": data.coupons,
        "points": {
            "balance": customer.get("point_balance") or 0,
            "next_expiry": customer.get("next_point_expiry_on"),
        },
        "recommendations": data.recommendations,
    }
    # orjson: what encode_context writes with json.dumps (tested), three times faster.
    return orjson.dumps(body, default=_tag, option=orjson.OPT_PASSTHROUGH_DATETIME).decode()


# Contexts in bulk ----------------------------------------------------------------------
# A send wave encodes a couple of hundred thousand contexts in the tick. Loading them as
# Python values (load_customers) and encoding each (encode_customer) was a fifth of such
# a tick, nearly all of it one Python step per value. load_contexts reads the same three
# queries and builds every context's JSON in one DuckDB query over their Arrow results
# (in memory, apart from the warehouse, whichever backend that is): the text differs
# from encode_customer's only in spacing, key order and how a datetime is written, and
# decodes to the same context (tested). Columns of other types than those below (a
# decimal, say) take the value-by-value way.
_NAME = re.compile(r"[a-z_][a-z0-9_]*\Z")
_DATETIME, _DATE, _PLAIN = "datetime", "date", "plain"


def load_contexts(
    con: BaseBackend, customer_ids: Sequence[str], now: datetime, tz: ZoneInfo
) -> dict[str, str]:
    """The encoded context of every customer load_customers(con, customer_ids, now, tz)
    finds, by customer id: what encode_customer gives, up to spacing, key order and how
    datetimes are written (it decodes to the same)."""
    ids = list(dict.fromkeys(customer_ids))
    if not ids:
        return {}
    tables = set(con.list_tables())
    expr, absent = customers_expr(con, ids, tables)
    people = expr.to_pyarrow()
    coupons = (
        coupons_expr(con, ids, now).to_pyarrow() if {"coupons", "coupon_grants"} <= tables else None
    )
    recommended = (
        recommended_expr(con, ids).to_pyarrow()
        if {"recommendations", "products"} <= tables
        else None
    )
    try:
        sql, frames = _contexts_sql(people, absent, coupons, recommended, tz)
    except _Unhandled:
        found = load_customers(con, ids, now, tz)
        return {cid: encode_customer(data) for cid, data in found.items()}
    local = duckdb.connect()
    try:
        for name, frame in frames.items():
            local.register(name, frame)
        rows = local.execute(sql, {"zone": tz.key}).fetchall()
    finally:
        local.close()
    return {str(cid): str(text) for cid, text in rows}


class _Unhandled(Exception):
    """A column load_contexts does not convert (see _kind)."""


def _kind(kind: pa.DataType) -> str:
    if pa.types.is_timestamp(kind) and kind.unit != "ns":
        return _DATETIME
    if pa.types.is_date(kind):
        return _DATE
    if (
        pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_boolean(kind)
        or pa.types.is_null(kind)
    ):
        return _PLAIN
    raise _Unhandled(str(kind))


def _plain_frame(table: pa.Table, tz: ZoneInfo) -> tuple[pa.Table, dict[str, str]]:
    """The table as plain() would make its values, in Arrow: datetimes in the shop's zone
    as ISO text (naive ones are UTC), dates as ISO text, NaN and infinities as nulls
    (orjson's null); with `_pos`, the row's place, since the queries' order matters."""
    kinds: dict[str, str] = {}
    columns = []
    for name in table.column_names:
        if not _NAME.match(name):
            raise _Unhandled(name)
        column = table.column(name)
        kind = kinds[name] = _kind(column.type)
        if kind == _DATETIME:
            unit = column.type.unit
            if column.type.tz is None:
                column = column.cast(pa.timestamp(unit, tz="UTC"))
            column = column.cast(pa.timestamp(unit, tz=tz.key))
            column = pc.strftime(column, format="%Y-%m-%dT%H:%M:%S%z")
        elif kind == _DATE:
            column = column.cast(pa.string())
        elif pa.types.is_floating(column.type):
            column = pc.if_else(pc.is_finite(column), column, pa.scalar(None, column.type))
        columns.append(column)
    columns.append(pa.array(range(table.num_rows), pa.int64()))
    return pa.Table.from_arrays(columns, [*table.column_names, "_pos"]), kinds


def _value(alias: str, name: str, kind: str) -> str:
    """A column as its JSON value, tagged as encode_customer tags it."""
    column = f'{alias}."{name}"'
    if kind == _DATETIME:
        tagged = f"json_object('$datetime', {column}, 'zone', $zone)"
    elif kind == _DATE:
        tagged = f"json_object('$date', {column})"
    else:
        return column
    return f"CASE WHEN {column} IS NULL THEN NULL ELSE {tagged} END"


def _object(alias: str, fields: Sequence[str], kinds: Mapping[str, str]) -> str:
    """json_object of `fields`; those the table lacks are null."""
    for name in fields:
        if not _NAME.match(name):
            raise _Unhandled(name)
    pairs = [
        f"'{name}', {_value(alias, name, kinds[name]) if name in kinds else 'NULL'}"
        for name in fields
    ]
    return f"json_object({', '.join(pairs)})"


def _contexts_sql(
    people: pa.Table,
    absent: Sequence[str],
    coupons: pa.Table | None,
    recommended: pa.Table | None,
    tz: ZoneInfo,
) -> tuple[str, dict[str, pa.Table]]:
    """The query building every customer's context, and the tables it reads. Its text
    holds our own field names only (checked against _NAME); the zone is a parameter."""
    for name in absent:
        if not _NAME.match(name):
            raise _Unhandled(name)
    frame, kinds = _plain_frame(people, tz)
    frames = {"people": frame}
    balance = "0"
    if "point_balance" in kinds:
        kind = people.column("point_balance").type
        if not (pa.types.is_integer(kind) or pa.types.is_floating(kind)):
            raise _Unhandled("point_balance")
        # `customer.get("point_balance") or 0`
        balance = 'CASE WHEN p."point_balance" IS NULL OR p."point_balance" = 0 THEN 0 '
        balance += 'ELSE p."point_balance" END'
    expiry = "NULL"
    if "next_point_expiry_on" in kinds:
        expiry = _value("p", "next_point_expiry_on", kinds["next_point_expiry_on"])
    customer = _object("p", [*people.column_names, *absent], kinds)
    joins = ""
    lists = {}
    for name, table, fields in (
        ("coupons", coupons, COUPON_FIELDS),
        ("recommendations", recommended, RECOMMENDATION_FIELDS),
    ):
        if table is None:
            lists[name] = "'[]'::JSON"
            continue
        frames[name], table_kinds = _plain_frame(table, tz)
        item = _object("x", fields, table_kinds)
        joins += (
            f' LEFT JOIN (SELECT x."customer_id", to_json(list({item} ORDER BY x."_pos")) '  # noqa: S608 - our names
            f'AS items FROM {name} x GROUP BY x."customer_id") {name} '
            f'ON {name}."customer_id" = p."customer_id"'
        )
        lists[name] = f"coalesce({name}.items, '[]'::JSON)"
    body = (
        f"json_object('customer', {customer}, 'coupons', {lists['coupons']}, "
        f"'points', json_object('balance', {balance}, 'next_expiry', {expiry}), "
        f"'recommendations', {lists['recommendations']})"
    )
    sql = f'SELECT p."customer_id", ({body})::VARCHAR FROM people p{joins}'  # noqa: S608 - our names
    return sql, frames


def decode_context(text: str, shop: Mapping[str, Any]) -> dict[str, Any]:
    context: dict[str, Any] = json.loads(text, object_hook=_untag)
    context["shop"] = dict(shop)
    return context


# Queuing -----------------------------------------------------------------------------
def insert_to_render(
    db: Session, items: Sequence[tuple[NewMessage, str]], now: datetime
) -> list[tuple[int, NewMessage]]:
    """Queue (message, encoded context) pairs as `to_render`, with their `queued` events,
    in the caller's transaction; keys already in the outbox are skipped. Returns (id,
    message) of the rows inserted, in id order."""
    unique = {m.idempotency_key: (m, ctx) for m, ctx in items}
    for key in unique:
        if not key or len(key) > 200:
            raise ValueError("the idempotency key must be 1 to 200 characters")
    messages = [m for m, _ in unique.values()]
    rows = insert_columns(
        db,
        OUTBOX,
        {
            "idempotency_key": list(unique),
            "channel": [m.channel for m in messages],
            "customer_id": [m.customer_id for m in messages],
            "recipient": [m.recipient for m in messages],
            "template_version_id": [m.template_version_id for m in messages],
            "is_marketing": [m.is_marketing for m in messages],
            "payload": [ctx for _, ctx in unique.values()],
        },
        constants={
            "status": TO_RENDER,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
            "updated_at": now,
        },
        conflict=["idempotency_key"],
        returning=[OUTBOX.c.id, OUTBOX.c.idempotency_key],
    )
    created = sorted((int(row_id), unique[str(key)][0]) for row_id, key in rows)
    # The events from the rows just inserted, in the database: nothing to send back.
    t = OUTBOX
    for among_ids in among(db, t.c.id, [row_id for row_id, _ in created]):
        queued = (
            select(
                t.c.id,
                t.c.customer_id,
                t.c.channel,
                literal("queued"),
                literal(""),
                literal(now, EVENTS.c.at.type),
            )
            .where(among_ids)
            .order_by(t.c.id)
        )
        db.execute(
            insert(EVENTS).from_select(
                ["outbox_id", "customer_id", "channel", "event", "detail", "at"], queued
            )
        )
    return created


# Rendering ---------------------------------------------------------------------------
@dataclass
class RenderPass:
    picked: int = 0
    rendered: int = 0
    # (outbox id, channel, error) of the messages that could not be rendered
    failed: list[tuple[int, str, str]] = field(default_factory=list)


def render_pending(
    messaging: Messaging,
    db: Session,
    now: datetime,
    limit: int,
    ids: Sequence[int] | None = None,
) -> RenderPass:
    """Render up to `limit` `to_render` messages (only `ids` when given), oldest first,
    in the caller's transaction, in id order."""
    result = RenderPass()
    t = OUTBOX
    q = (
        select(
            t.c.id,
            t.c.idempotency_key,
            t.c.channel,
            t.c.recipient,
            t.c.is_marketing,
            t.c.template_version_id,
            t.c.payload,
        )
        .where(t.c.status == TO_RENDER)
        # Oldest first by the time they were queued, which is their next_attempt_at: the
        # index (status, next_attempt_at) yields them in that order and the LIMIT stops
        # the scan. By id, each pass sorted (or walked past) every message of the wave.
        .order_by(t.c.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if ids is not None:
        q = q.where(t.c.id.in_(list(ids)))
    rows = sorted(db.execute(q).all(), key=lambda r: r.id)
    result.picked = len(rows)
    if not rows:
        return result
    sources = _sources(db, {r.template_version_id for r in rows if r.template_version_id})
    shop = messaging.shop.as_dict()
    done: list[dict[str, Any]] = []
    for r in rows:
        try:
            source = sources.get(r.template_version_id)
            if source is None:
                raise ValueError(f"template version {r.template_version_id} no longer exists")
            payload = messaging.render(
                source,
                r.channel,
                decode_context(r.payload, shop),
                r.recipient,
                bool(r.is_marketing),
                r.id,
                r.idempotency_key,
            )
            pmid = messaging.channel(r.channel).provider_message_id(r.id, r.idempotency_key)
        # Whatever one message's rendering raises fails that message alone: a message
        # that failed every pass would hold back every message behind it.
        except Exception as exc:
            result.failed.append((r.id, r.channel, f"{RENDER_ERROR}{exc}"[:2000]))
            continue
        done.append(
            {
                "b_id": r.id,
                "b_payload": json.dumps(payload, ensure_ascii=False),
                "b_pmid": pmid,
            }
        )
    if done and db.get_bind().dialect.name == "postgresql":
        # The rows are this transaction's (FOR UPDATE), so no other worker can have
        # moved them on: one statement for the batch (an UPDATE a row was about a sixth
        # of the render pass).
        update_columns(
            db,
            t,
            "id",
            {
                "id": [d["b_id"] for d in done],
                "payload": [d["b_payload"] for d in done],
                "provider_message_id": [d["b_pmid"] for d in done],
            },
            constants={"status": Status.queued.value, "updated_at": now},
        )
        result.rendered = len(done)
    elif done:
        hit = db.execute(
            update(t)
            .where(t.c.id == bindparam("b_id"), t.c.status == TO_RENDER)
            .values(
                status=Status.queued.value,
                payload=bindparam("b_payload"),
                provider_message_id=bindparam("b_pmid"),
                updated_at=now,
            ),
            done,
        )
        # Rows another worker moved on meanwhile (the fence) are not counted.
        sane = db.get_bind().dialect.supports_sane_multi_rowcount
        result.rendered = int(hit.rowcount) if sane else len(done)  # type: ignore[attr-defined]
    if result.failed:
        _fail(db, result.failed, now)
    return result


def _sources(db: Session, version_ids: set[int]) -> dict[int, Any]:
    from tokui.messaging.store import source_of

    out = {}
    found = db.execute(
        select(MessageTemplateVersion, MessageTemplate)
        .join(MessageTemplate, MessageTemplate.id == MessageTemplateVersion.template_id)
        .where(MessageTemplateVersion.id.in_(sorted(version_ids)))
    ).all()
    for version, template in found:
        out[version.id] = source_of(template, version)
    return out


def _fail(db: Session, failed: list[tuple[int, str, str]], now: datetime) -> None:
    """failed_perm with the error, the `failed` event, and a journal line next to the
    scenario step's `queued` line (rare: row by row)."""
    t = OUTBOX
    marked = []
    for row_id, channel, error in failed:
        log.warning("outbox %s: %s", row_id, error)
        hit = db.execute(
            update(t)
            .where(t.c.id == row_id, t.c.status == TO_RENDER)
            .values(status=Status.failed_perm.value, last_error=error, updated_at=now)
        )
        if hit.rowcount:  # type: ignore[attr-defined]
            marked.append((row_id, channel, error))
    if not marked:
        return
    found = db.execute(select(t.c.id, t.c.customer_id).where(t.c.id.in_([m[0] for m in marked])))
    customers = {int(row_id): customer for row_id, customer in found}
    db.execute(
        insert(EVENTS),
        [
            {
                "outbox_id": row_id,
                "customer_id": customers.get(row_id),
                "channel": channel,
                "event": "failed",
                "detail": error[:500],
                "at": now,
            }
            for row_id, channel, error in marked
        ],
    )
    for row_id, _, error in marked:
        queued = select(
            JOURNAL.c.enrollment_id,
            JOURNAL.c.step_id,
            literal(RENDER_FAILED),
            literal(error[:300]),
            JOURNAL.c.outbox_id,
            literal(now),
        ).where(JOURNAL.c.outbox_id == row_id, JOURNAL.c.outcome == "queued")
        db.execute(
            insert(JOURNAL).from_select(
                ["enrollment_id", "step_id", "outcome", "detail", "outbox_id", "at"], queued
            )
        )


Renderer = Callable[[Session, datetime, int, Sequence[int] | None], RenderPass]

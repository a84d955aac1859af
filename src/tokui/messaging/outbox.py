"""The outbox: queue, claim, mark, retry, recover.

States: (to_render →) queued → sending → sent | failed_temp (→ sending again after a
backoff) | failed_perm | suppressed. `to_render` rows carry their template context and
are rendered by the worker before it claims (tokui.messaging.deferred). A worker claims
a batch by setting `sending`, a lease and a fresh claim token. On PostgreSQL the rows
are picked with `FOR UPDATE SKIP LOCKED`, so any number of workers share the queue
without waiting on each other. SQLite has no row locks: the UPDATE repeats the "still
due" condition and SQLite serialises writers, so two workers never claim the same row
(in practice SQLite means one worker, the embedded server's). Every later mark is
fenced by the claim token: a worker whose lease ran out cannot overwrite what another
worker did.

Rows whose lease ran out (the worker died mid-send) are recovered according to the
channel: resent when its send is idempotent, otherwise held as failed_perm with
"outcome unknown" (tokui.messaging.channel explains why).
"""

from __future__ import annotations

import json
import random
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import orjson
from sqlalchemy import Table, and_, bindparam, case, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tokui.messaging.events import add_event
from tokui.state.bulk import insert_rows, update_rows
from tokui.state.messages import MessageEventRecord, OutboxMessage

# The Core table, for executemany statements that skip the ORM's per-row work.
OUTBOX: Table = OutboxMessage.__table__  # type: ignore[assignment]
EVENTS: Table = MessageEventRecord.__table__  # type: ignore[assignment]


class Status(StrEnum):
    # Queued with its template context, rendered by the worker (tokui.messaging.deferred).
    to_render = "to_render"
    queued = "queued"
    sending = "sending"
    sent = "sent"
    failed_temp = "failed_temp"
    failed_perm = "failed_perm"
    suppressed = "suppressed"
    # Postal DM: exported in a batch for the print vendor (tokui.messaging.postal).
    handed_over = "handed_over"


CLAIMABLE = (Status.queued.value, Status.failed_temp.value)
# How the last_error of a message the worker could not render begins
# (tokui.messaging.deferred): its payload is still its template context.
RENDER_ERROR = "cannot render: "
FINAL = (
    Status.sent.value,
    Status.failed_perm.value,
    Status.suppressed.value,
    Status.handed_over.value,
)
LIST_FILTERS = ("status", "channel", "customer_id")


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base: timedelta = timedelta(seconds=30)
    cap: timedelta = timedelta(hours=1)

    def delay(self, attempts: int, rng: random.Random) -> timedelta:
        """Exponential backoff with "equal jitter": half fixed, half random, so retries
        of a batch that failed together (a server restart) spread out instead of all
        hitting the server again at the same second."""
        full = min(self.cap.total_seconds(), self.base.total_seconds() * 2 ** max(0, attempts - 1))
        return timedelta(seconds=full / 2 + rng.uniform(0, full / 2))


@dataclass(frozen=True)
class Claimed:
    id: int
    idempotency_key: str
    channel: str
    recipient: str
    customer_id: str | None
    is_marketing: bool
    payload: dict[str, Any]
    attempts: int
    provider_message_id: str | None
    claim_token: str


class DuplicateMessage(Exception):
    """The idempotency key is already in the outbox."""


def enqueue(
    db: Session,
    *,
    idempotency_key: str,
    channel: str,
    recipient: str,
    customer_id: str | None,
    now: datetime,
    payload: Mapping[str, Any] | None = None,
    template_version_id: int | None = None,
    is_marketing: bool = True,
    render: Callable[[int], tuple[dict[str, Any], str | None]] | None = None,
) -> OutboxMessage | None:
    """Queue one message; None when its idempotency key was already queued.

    `render(outbox_id)` builds the payload and the provider message id once the row has
    its id (tracking links embed it); it runs inside the transaction, so a render error
    leaves nothing queued.
    """
    if not idempotency_key or len(idempotency_key) > 200:
        raise ValueError("the idempotency key must be 1 to 200 characters")
    row = OutboxMessage(
        idempotency_key=idempotency_key,
        channel=channel,
        customer_id=customer_id,
        recipient=recipient,
        template_version_id=template_version_id,
        is_marketing=is_marketing,
        payload=json.dumps(dict(payload or {}), ensure_ascii=False),
        status=Status.queued.value,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        updated_at=now,
    )
    try:
        with db.begin_nested():
            db.add(row)
            db.flush()
    except IntegrityError:
        return None
    if render is not None:
        body, provider_id = render(row.id)
        row.payload = json.dumps(body, ensure_ascii=False)
        row.provider_message_id = provider_id
    add_event(
        db, event="queued", channel=channel, at=now, outbox_id=row.id, customer_id=customer_id
    )
    db.flush()
    return row


@dataclass(frozen=True)
class NewMessage:
    idempotency_key: str
    channel: str
    recipient: str
    customer_id: str | None
    template_version_id: int | None = None
    is_marketing: bool = True


RenderFn = Callable[[int, NewMessage], tuple[dict[str, Any], str | None]]
_CHUNK = 500  # rows per INSERT: 12 bound parameters each, far below SQLite's limit


def enqueue_many(
    db: Session, items: Sequence[NewMessage], now: datetime, render: RenderFn
) -> list[tuple[int, NewMessage]]:
    """Queue many messages in a few statements; keys already queued are skipped.

    Rows go in with `INSERT ... ON CONFLICT (idempotency_key) DO NOTHING RETURNING`, so
    a key queued by someone else meanwhile is skipped rather than failing the batch;
    then each new row is rendered with its id and the payloads written in one bulk
    UPDATE. A render error raises, and the caller's rollback leaves nothing queued.
    """
    created = insert_unrendered(db, items, now)
    if not created:
        return []
    rendered = []
    for row_id, m in created:
        payload, provider_id = render(row_id, m)
        rendered.append((row_id, m, payload, provider_id))
    complete_rendered(db, rendered, now)
    return created


def insert_unrendered(
    db: Session, items: Sequence[NewMessage], now: datetime
) -> list[tuple[int, NewMessage]]:
    """The first half of enqueue_many: the rows, with an empty payload, in the caller's
    transaction; (id, message) of those whose key was new, in id order. The caller
    renders them and calls complete_rendered (or discard) before committing."""
    unique = list({m.idempotency_key: m for m in items}.values())
    for m in unique:
        if not m.idempotency_key or len(m.idempotency_key) > 200:
            raise ValueError("the idempotency key must be 1 to 200 characters")
    by_key = {m.idempotency_key: m for m in unique}
    rows = insert_rows(
        db,
        OUTBOX,
        [
            {
                "idempotency_key": m.idempotency_key,
                "channel": m.channel,
                "customer_id": m.customer_id,
                "recipient": m.recipient,
                "template_version_id": m.template_version_id,
                "is_marketing": m.is_marketing,
                "payload": "{}",
                "status": Status.queued.value,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
                "updated_at": now,
            }
            for m in unique
        ],
        conflict=["idempotency_key"],
        returning=[OUTBOX.c.id, OUTBOX.c.idempotency_key],
    )
    ordered = sorted((int(r[0]), str(r[1])) for r in rows)
    return [(row_id, by_key[key]) for row_id, key in ordered]


def complete_rendered(
    db: Session,
    rendered: Sequence[tuple[int, NewMessage, Mapping[str, Any], str | None]],
    now: datetime,
) -> None:
    """The second half: each row's payload and provider id in one bulk UPDATE, and its
    `queued` event."""
    if not rendered:
        return
    update_rows(
        db,
        OUTBOX,
        "id",
        [
            {
                "id": row_id,
                "payload": dump_payload(payload),
                "provider_message_id": provider_id,
            }
            for row_id, _, payload, provider_id in rendered
        ],
    )
    insert_rows(
        db,
        EVENTS,
        [
            {
                "outbox_id": row_id,
                "customer_id": m.customer_id,
                "channel": m.channel,
                "event": "queued",
                "detail": "",
                "at": now,
            }
            for row_id, m, _, _ in rendered
        ],
    )


def discard(db: Session, ids: Sequence[int]) -> None:
    """Delete rows inserted by insert_unrendered that will not be completed (their
    message failed to render), before the transaction commits."""
    for start in range(0, len(ids), _CHUNK):
        db.execute(OUTBOX.delete().where(OUTBOX.c.id.in_(list(ids[start : start + _CHUNK]))))


def exists(db: Session, idempotency_key: str) -> bool:
    found = db.scalar(
        select(OutboxMessage.id).where(OutboxMessage.idempotency_key == idempotency_key)
    )
    return found is not None


def recover_expired(
    db: Session, now: datetime, resend_safe: Callable[[str], bool]
) -> tuple[int, int]:
    """Rows stuck in `sending` past their lease: (requeued, held)."""
    stuck = db.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.status == Status.sending.value, OutboxMessage.lease_until < now)
        .with_for_update(skip_locked=True)
    ).all()
    requeued = held = 0
    for row in stuck:
        row.claim_token = None
        row.lease_until = None
        row.updated_at = now
        if resend_safe(row.channel):
            row.status = Status.failed_temp.value
            row.next_attempt_at = now
            row.last_error = "the worker stopped mid-send; sent again (idempotent channel)"
            requeued += 1
        else:
            row.status = Status.failed_perm.value
            row.last_error = (
                "outcome unknown: the worker stopped while sending; check the provider's log "
                f"for Message-ID {row.provider_message_id or '?'} and requeue it if it did "
                "not arrive"
            )
            add_event(
                db,
                event="failed",
                channel=row.channel,
                at=now,
                outbox_id=row.id,
                customer_id=row.customer_id,
                detail="outcome unknown",
            )
            held += 1
    return requeued, held


def claim(
    db: Session,
    now: datetime,
    *,
    limit: int,
    lease: timedelta,
    channels: Sequence[str] | None = None,
    ids: Sequence[int] | None = None,
) -> list[Claimed]:
    """Take up to `limit` due messages for this worker (only `ids` when given: the
    "send test" button delivers its own message and nothing else)."""
    token = secrets.token_hex(16)
    due = and_(OutboxMessage.status.in_(CLAIMABLE), OutboxMessage.next_attempt_at <= now)
    if channels is not None:
        due = and_(due, OutboxMessage.channel.in_(list(channels)))
    if ids is not None:
        due = and_(due, OutboxMessage.id.in_(list(ids)))
    # Two statements rather than UPDATE ... WHERE id IN (SELECT ... LIMIT n FOR UPDATE
    # SKIP LOCKED): PostgreSQL may re-run such a subquery per row and claim more than n.
    picked = list(
        db.scalars(
            select(OutboxMessage.id)
            .where(due)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    if not picked:
        return []
    # `due` again: on SQLite another worker may have claimed a row between the two
    # statements (no row locks there); the UPDATE then passes over it.
    db.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(picked), due)
        .values(
            status=Status.sending.value,
            lease_until=now + lease,
            claim_token=token,
            attempts=OutboxMessage.attempts + 1,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    rows = db.execute(
        select(
            OutboxMessage.id,
            OutboxMessage.idempotency_key,
            OutboxMessage.channel,
            OutboxMessage.recipient,
            OutboxMessage.customer_id,
            OutboxMessage.is_marketing,
            OutboxMessage.payload,
            OutboxMessage.attempts,
            OutboxMessage.provider_message_id,
        )
        .where(OutboxMessage.claim_token == token)
        .order_by(OutboxMessage.id)
    ).all()
    return [
        Claimed(
            id=r.id,
            idempotency_key=r.idempotency_key,
            channel=r.channel,
            recipient=r.recipient,
            customer_id=r.customer_id,
            is_marketing=bool(r.is_marketing),
            payload=_load_payload(r.payload),
            attempts=r.attempts,
            provider_message_id=r.provider_message_id,
            claim_token=token,
        )
        for r in rows
    ]


def dump_payload(payload: Mapping[str, Any]) -> str:
    """A rendered payload as JSON. An email's (text values only) through orjson, several
    times faster than json.dumps, which writes anything else as before."""
    if type(payload) is dict and all(type(v) is str for v in payload.values()):
        return orjson.dumps(payload).decode()
    return json.dumps(payload, ensure_ascii=False)


def _load_payload(text: str) -> dict[str, Any]:
    """json.loads(text); orjson reads a batch's payloads several times faster, and
    json.loads is kept for what orjson refuses (a lone surrogate that json.dumps wrote)."""
    try:
        payload: dict[str, Any] = orjson.loads(text)
    except orjson.JSONDecodeError:
        payload = json.loads(text)
    return payload


def _fenced(db: Session, msg: Claimed, now: datetime, **values: Any) -> bool:
    result = db.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == msg.id,
            OutboxMessage.claim_token == msg.claim_token,
            OutboxMessage.status == Status.sending.value,
        )
        .values(updated_at=now, lease_until=None, **values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def mark_sent(db: Session, msg: Claimed, now: datetime, provider_message_id: str | None) -> bool:
    done = _fenced(
        db,
        msg,
        now,
        status=Status.sent.value,
        sent_at=now,
        last_error=None,
        provider_message_id=provider_message_id or msg.provider_message_id,
    )
    if done:
        add_event(
            db,
            event="sent",
            channel=msg.channel,
            at=now,
            outbox_id=msg.id,
            customer_id=msg.customer_id,
        )
    return done


def mark_sent_many(
    db: Session, done: Sequence[tuple[Claimed, str | None]], now: datetime
) -> set[int]:
    """mark_sent for a whole batch in a few statements (the hot path of a bulk send);
    returns the ids it marked, which are those still held by their claim.

    Rows whose provider message id stays as queued (email: the Message-ID is fixed
    before the first try) are marked by one `UPDATE … WHERE id IN (…) AND claim_token =
    … RETURNING id` per claim; rows that got a new id from the provider (LINE, push) by
    a fenced executemany UPDATE and a read-back. Then one INSERT of their events.
    """
    if not done:
        return set()
    table = OUTBOX
    sent = {
        "status": Status.sent.value,
        "sent_at": now,
        "updated_at": now,
        "lease_until": None,
        "last_error": None,
    }
    by_id = {m.id: m for m, _ in done}
    unchanged: dict[str, list[int]] = {}
    renamed: list[tuple[Claimed, str]] = []
    for m, pmid in done:
        if pmid is None or pmid == m.provider_message_id:
            unchanged.setdefault(m.claim_token, []).append(m.id)
        else:
            renamed.append((m, pmid))
    marked: set[int] = set()
    for token, ids in unchanged.items():
        for start in range(0, len(ids), _CHUNK):
            marked.update(
                db.scalars(
                    update(table)
                    .where(
                        table.c.id.in_(ids[start : start + _CHUNK]),
                        table.c.claim_token == token,
                        table.c.status == Status.sending.value,
                    )
                    .values(**sent)
                    .returning(table.c.id)
                )
            )
    if renamed:
        db.execute(
            update(table)
            .where(
                table.c.id == bindparam("oid"),
                table.c.claim_token == bindparam("token"),
                table.c.status == Status.sending.value,
            )
            .values(**sent, provider_message_id=bindparam("pmid")),
            [{"oid": m.id, "token": m.claim_token, "pmid": pmid} for m, pmid in renamed],
        )
        ids = [m.id for m, _ in renamed]
        for token in {m.claim_token for m, _ in renamed}:
            marked.update(
                db.scalars(
                    select(OutboxMessage.id).where(
                        OutboxMessage.id.in_(ids),
                        OutboxMessage.claim_token == token,
                        OutboxMessage.status == Status.sent.value,
                        OutboxMessage.sent_at == now,
                    )
                )
            )
    if marked:
        db.execute(
            insert(MessageEventRecord),
            [
                {
                    "outbox_id": i,
                    "customer_id": by_id[i].customer_id,
                    "channel": by_id[i].channel,
                    "event": "sent",
                    "detail": "",
                    "at": now,
                }
                for i in sorted(marked)
            ],
        )
    return marked


def mark_suppressed(db: Session, msg: Claimed, now: datetime, reason: str) -> bool:
    done = _fenced(db, msg, now, status=Status.suppressed.value, last_error=reason)
    if done:
        add_event(
            db,
            event="suppressed",
            channel=msg.channel,
            at=now,
            outbox_id=msg.id,
            customer_id=msg.customer_id,
            detail=reason,
        )
    return done


def mark_failed(
    db: Session,
    msg: Claimed,
    now: datetime,
    error: str,
    *,
    temporary: bool,
    policy: RetryPolicy,
    rng: random.Random,
    bounced: bool = False,
    detail: str | None = None,
) -> str:
    """Record a failure; returns the new status. `detail`: the event's, when it should
    say more than the error (a bounce's class and status)."""
    if temporary and msg.attempts < policy.max_attempts:
        status = Status.failed_temp.value
        _fenced(
            db,
            msg,
            now,
            status=status,
            last_error=error[:2000],
            next_attempt_at=now + policy.delay(msg.attempts, rng),
        )
        return status
    if temporary:
        error = f"gave up after {msg.attempts} attempts; last error: {error}"
    status = Status.failed_perm.value
    if _fenced(db, msg, now, status=status, last_error=error[:2000]):
        add_event(
            db,
            event="bounced" if bounced else "failed",
            channel=msg.channel,
            at=now,
            outbox_id=msg.id,
            customer_id=msg.customer_id,
            detail=(detail or error)[:2000] if bounced else error[:500],
        )
    return status


def requeue(db: Session, outbox_id: int, now: datetime) -> bool:
    """Send a failed message again (a person decided to, e.g. after checking the log).
    One that could not be rendered goes back to be rendered: its payload is its context."""
    status = case(
        (OutboxMessage.last_error.startswith(RENDER_ERROR), Status.to_render.value),
        else_=Status.queued.value,
    )
    result = db.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == outbox_id,
            OutboxMessage.status.in_([Status.failed_perm.value, Status.failed_temp.value]),
        )
        .values(status=status, next_attempt_at=now, updated_at=now, attempts=0)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def list_messages(
    db: Session, filters: Mapping[str, str] | None = None, limit: int = 200, offset: int = 0
) -> list[OutboxMessage]:
    """Newest first. Filter names are whitelisted (LIST_FILTERS); values are bound."""
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc())
    for name, value in (filters or {}).items():
        if not value:
            continue
        if name not in LIST_FILTERS:
            raise ValueError(f"cannot filter messages by {name!r}; use {', '.join(LIST_FILTERS)}")
        if name == "status" and value not in {s.value for s in Status}:
            raise ValueError(f"unknown status {value!r}")
        query = query.where(getattr(OutboxMessage, name) == value)
    return list(db.scalars(query.limit(limit).offset(offset)))


def status_counts(db: Session) -> dict[str, int]:
    rows = db.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))
    return {status: int(n) for status, n in rows}

"""Send-time rules: quiet hours and frequency caps. Both hold a message (the enrollment
comes due again when the rule allows it); neither drops it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from tokui.clock import DEFAULT_TZ
from tokui.state.bulk import among
from tokui.state.messages import OutboxMessage

NOT_COUNTED = ("suppressed", "failed_perm")
CHUNK = 5000  # customers per IN (...) list


@dataclass(frozen=True)
class Cap:
    limit: int
    window: timedelta


@dataclass(frozen=True)
class SendPolicy:
    quiet_start: time = time(21, 0)
    quiet_end: time = time(9, 0)
    # Marketing messages per customer: "*" counts every channel, a channel name its own.
    caps: dict[str, tuple[Cap, ...]] = field(
        default_factory=lambda: {"*": (Cap(1, timedelta(days=1)), Cap(3, timedelta(days=7)))}
    )


def zone(name: object) -> ZoneInfo:
    if isinstance(name, str) and name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return DEFAULT_TZ


def quiet_until(now: datetime, tz: ZoneInfo, policy: SendPolicy) -> datetime | None:
    """The end of the quiet period `now` falls in (aware UTC), or None when not quiet."""
    local = now.astimezone(tz)
    t = local.time()
    start, end = policy.quiet_start, policy.quiet_end
    if start == end:
        return None
    quiet = (t >= start or t < end) if start > end else (start <= t < end)
    if not quiet:
        return None
    day = local.date() if t < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=tz).astimezone(UTC)


def cap_until(
    db: Session, customer_id: str, channel: str, now: datetime, policy: SendPolicy
) -> datetime | None:
    """When the customer may get another marketing message on `channel`, or None if now."""
    recent = recent_marketing(db, [customer_id], now, policy)
    return free_at(recent.get(customer_id, []), channel, now, policy)


def recent_marketing(
    db: Session,
    customer_ids: Sequence[str],
    now: datetime,
    policy: SendPolicy,
    planned: Mapping[str, Mapping[str, tuple[str, datetime]]] | None = None,
) -> dict[str, list[tuple[str, datetime]]]:
    """(channel, created_at) of each customer's marketing messages inside the longest cap
    window: what the caps count, for a whole batch in one query per 5,000 customers.
    `planned`: messages queued in a transaction not committed yet (the scenario engine
    writes one batch while it runs the next), by customer and idempotency key; each is
    counted once, whether the query already sees it or not."""
    windows = [c.window for caps in policy.caps.values() for c in caps]
    if not windows or not customer_ids:
        return {}
    naive = now.astimezone(UTC).replace(tzinfo=None)
    ids = sorted(set(customer_ids))
    out: dict[str, list[tuple[str, datetime]]] = {}
    seen: set[str] = set()
    for among_ids in among(db, OutboxMessage.customer_id, ids, CHUNK):
        rows = db.execute(
            select(
                OutboxMessage.customer_id,
                OutboxMessage.channel,
                OutboxMessage.created_at,
                OutboxMessage.idempotency_key,
            ).where(
                among_ids,
                OutboxMessage.is_marketing.is_(True),
                OutboxMessage.created_at > naive - max(windows),
                OutboxMessage.status.not_in(NOT_COUNTED),
            )
        )
        for cid, channel, at, key in rows:
            out.setdefault(str(cid), []).append((channel, at))
            if planned:
                seen.add(key)
    wanted = set(ids)
    for cid, messages in (planned or {}).items():
        if cid not in wanted:
            continue
        for key, (channel, at) in messages.items():
            if key not in seen and at > naive - max(windows):
                out.setdefault(cid, []).append((channel, at))
    return out


def free_at(
    sent: Sequence[tuple[str, datetime]], channel: str, now: datetime, policy: SendPolicy
) -> datetime | None:
    """The caps' rule over a customer's recent marketing messages (channel, naive UTC
    time): when another may go on `channel` (aware UTC), or None if now."""
    if not sent:
        return None  # most customers of a batch: nothing recent
    caps = [("*", c) for c in policy.caps.get("*", ())]
    caps += [(channel, c) for c in policy.caps.get(channel, ())]
    if not caps:
        return None
    naive = now.astimezone(UTC).replace(tzinfo=None)
    free: datetime | None = None
    for scope, cap in caps:
        times = sorted(
            (at for ch, at in sent if (scope == "*" or ch == scope) and at > naive - cap.window),
            reverse=True,
        )
        if len(times) >= cap.limit:
            # The window frees up when the limit-th newest message leaves it.
            at = times[cap.limit - 1] + cap.window
            free = at if free is None or at > free else free
    return free.replace(tzinfo=UTC) if free is not None else None

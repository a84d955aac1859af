"""Send-time optimisation and channel preference, from each customer's own history.

Best hour (shop-local): every open (weight 1), click (2) and completed order (1) of the
last LOOKBACK_DAYS counts at its hour of day. A customer's score for hour h is their own
weighted count plus PRIOR_STRENGTH pseudo-events spread like the whole shop's curve
(an empirical-Bayes prior), so one stray open does not decide, and a customer with no
history gets the shop's best hour. Only hours outside the quiet hours of the send policy
are candidates (a message held to 09:00 would not go at the chosen hour anyway); ties go
to the hour the shop as a whole prefers. With no data at all the answer is DEFAULT_HOUR.

Channel preference (LINE vs email): the share of delivered messages a customer responded
to (opened or clicked) per channel, shrunk towards that channel's shop-wide rate with
CHANNEL_PRIOR pseudo-messages; the higher posterior mean wins.

Hours are grouped in the databases (SQL `EXTRACT(hour ...)` on the state DB, Ibis on the
warehouse) in UTC and shifted by the shop's UTC offset at `now`; exact for zones with a
whole-hour offset and no daylight saving (Asia/Tokyo), within an hour otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from ibis.backends import BaseBackend
from sqlalchemy import case, extract, func, select
from sqlalchemy.orm import Session

from tokui.analytics.base import purchases
from tokui.clock import utc_naive
from tokui.scenarios.policy import SendPolicy, quiet_until
from tokui.state.messages import MessageEventRecord

WEIGHTS = {"opened": 1.0, "clicked": 2.0, "order": 1.0}
PRIOR_STRENGTH = 3.0
LOOKBACK_DAYS = 180
DEFAULT_HOUR = 12
CHANNEL_PRIOR = 5.0
PREFERENCE_CHANNELS = ("email", "line")
BATCH = 500  # ids per IN (...) list


def utc_offset_hours(tz: ZoneInfo, now: datetime) -> int:
    offset = tz.utcoffset(now.replace(tzinfo=None)) or timedelta(0)
    return int(offset.total_seconds() // 3600)


def allowed_hours(policy: SendPolicy, tz: ZoneInfo, now: datetime) -> list[int]:
    """Local hours whose start is outside the quiet period."""
    day = now.astimezone(tz).date()
    return [
        h
        for h in range(24)
        if quiet_until(datetime.combine(day, time(h), tzinfo=tz), tz, policy) is None
    ]


def _state_hours(db: Session, since: datetime, customer_ids: Sequence[str] | None) -> pd.DataFrame:
    """Weighted opens and clicks per (customer, UTC hour) from the event log."""
    ev = MessageEventRecord
    hour = extract("hour", ev.at)
    weight = case((ev.event == "clicked", WEIGHTS["clicked"]), else_=WEIGHTS["opened"])
    q = (
        select(ev.customer_id, hour.label("hour"), func.sum(weight).label("w"))
        .where(
            ev.event.in_(("opened", "clicked")),
            ev.at >= since,
            ev.customer_id.is_not(None),
        )
        .group_by(ev.customer_id, hour)
    )
    frames = []
    for chunk in _chunks(customer_ids):
        qq = q if chunk is None else q.where(ev.customer_id.in_(chunk))
        rows = db.execute(qq).all()
        frames.append(pd.DataFrame(rows, columns=["customer_id", "hour", "w"]))
    return pd.concat(frames, ignore_index=True)


def _order_hours(
    con: BaseBackend, since: datetime, customer_ids: Sequence[str] | None
) -> pd.DataFrame:
    o = purchases(con)
    o = o.filter(o.ordered_at >= since)
    frames = []
    for chunk in _chunks(customer_ids):
        oo = o if chunk is None else o.filter(o.customer_id.isin(list(chunk)))
        g = oo.group_by(oo.customer_id, hour=oo.ordered_at.hour()).aggregate(n=oo.count())
        df = g.to_pandas()
        df["w"] = df.pop("n").astype(float) * WEIGHTS["order"]
        frames.append(df[["customer_id", "hour", "w"]])
    return pd.concat(frames, ignore_index=True)


def _chunks(ids: Sequence[str] | None) -> list[Sequence[str] | None]:
    if ids is None:
        return [None]
    ids = list(ids)
    return [ids[i : i + BATCH] for i in range(0, len(ids), BATCH)] or [[]]


def hour_counts(
    con: BaseBackend,
    db: Session,
    now: datetime,
    tz: ZoneInfo,
    customer_ids: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Weighted events per (customer_id, local hour)."""
    since = utc_naive(now) - timedelta(days=LOOKBACK_DAYS)
    parts = [_state_hours(db, since, customer_ids), _order_hours(con, since, customer_ids)]
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame({"customer_id": [], "hour": [], "w": []})
    df = pd.concat(parts, ignore_index=True)
    df["customer_id"] = df["customer_id"].astype(str)
    df["hour"] = (df["hour"].astype(int) + utc_offset_hours(tz, now)) % 24
    df["w"] = df["w"].astype(float)
    return df.groupby(["customer_id", "hour"], as_index=False)["w"].sum()


def shop_curve(counts: pd.DataFrame) -> np.ndarray:
    """The shop's share of weighted events per local hour (sums to 1; flat when empty)."""
    per = counts.groupby("hour")["w"].sum().reindex(range(24), fill_value=0.0).to_numpy()
    total = per.sum()
    return per / total if total > 0 else np.full(24, 1 / 24)


def choose_hours(
    counts: pd.DataFrame, prior: np.ndarray, allowed: Sequence[int]
) -> tuple[pd.DataFrame, int]:
    """Each customer's best allowed hour, and the hour for customers with no history.

    Score(customer, h) = own weighted events at h + PRIOR_STRENGTH * prior[h]; a tiny
    extra of the prior breaks ties towards the hour the shop prefers. A flat prior (no
    shop data) sends customers without history at DEFAULT_HOUR, or the allowed hour
    nearest to it.
    """
    allowed = sorted(allowed) or list(range(24))
    mask = np.zeros(24, dtype=bool)
    mask[allowed] = True
    flat = prior.max() - prior.min() < 1e-12
    base = PRIOR_STRENGTH * prior
    if flat:
        fallback = min(allowed, key=lambda h: (abs(h - DEFAULT_HOUR), h))
        base = base + 1e-9 * (np.arange(24) == fallback)
    else:
        base = base + 1e-9 * prior
        fallback = int(np.argmax(np.where(mask, base, -np.inf)))
    c = counts[counts["hour"].isin(allowed)].copy()
    if c.empty:
        return pd.DataFrame({"customer_id": [], "best_hour": [], "events": []}), fallback
    c["score"] = c["w"] + base[c["hour"].to_numpy()]
    best = c.loc[c.groupby("customer_id")["score"].idxmax()]
    # An hour with no own events scores the prior alone: the fallback hour's score.
    own_wins = best["score"].to_numpy() > base[fallback]
    events = counts.groupby("customer_id")["w"].sum()
    out = pd.DataFrame(
        {
            "customer_id": best["customer_id"].to_numpy(),
            "best_hour": np.where(own_wins, best["hour"].to_numpy(), fallback).astype(int),
        }
    )
    out["events"] = events.reindex(out["customer_id"]).to_numpy()
    return out.sort_values("customer_id", ignore_index=True), fallback


class BestHours:
    """Best hours for a set of customers, plus the hour for everyone else."""

    def __init__(self, table: pd.DataFrame, fallback: int) -> None:
        self.table = table
        self.fallback = fallback
        self._by = dict(zip(table["customer_id"], table["best_hour"], strict=True))

    def hour(self, customer_id: str) -> int:
        return int(self._by.get(customer_id, self.fallback))


def best_hours(
    con: BaseBackend,
    db: Session,
    now: datetime,
    tz: ZoneInfo,
    policy: SendPolicy | None = None,
    customer_ids: Sequence[str] | None = None,
    prior: np.ndarray | None = None,
) -> BestHours:
    """Best local hours; `prior` (the shop curve) is computed when not given."""
    policy = policy or SendPolicy()
    counts = hour_counts(con, db, now, tz, customer_ids)
    if prior is None:
        prior = shop_curve(counts if customer_ids is None else hour_counts(con, db, now, tz))
    table, fallback = choose_hours(counts, prior, allowed_hours(policy, tz, now))
    return BestHours(table, fallback)


def next_at_hour(start: datetime, hour: int, tz: ZoneInfo) -> datetime:
    """The first moment at or after `start` (aware) that falls in local hour `hour`."""
    local = start.astimezone(tz)
    if local.hour == hour:
        return start
    day = local.date() if local.hour < hour else local.date() + timedelta(days=1)
    return datetime.combine(day, time(hour), tzinfo=tz)


def channel_preference(
    db: Session,
    now: datetime,
    customer_ids: Sequence[str] | None = None,
    channels: Sequence[str] = PREFERENCE_CHANNELS,
) -> pd.DataFrame:
    """Per customer: messages and responses per channel, posterior rates, preferred channel.

    Computed in the state DB: one row per (customer, channel) with the number of
    delivered messages and of those opened or clicked.
    """
    since = utc_naive(now) - timedelta(days=LOOKBACK_DAYS)
    ev = MessageEventRecord
    per_msg = (
        select(
            ev.outbox_id,
            ev.customer_id,
            ev.channel,
            func.max(case((ev.event.in_(("sent", "delivered")), 1), else_=0)).label("sent"),
            func.max(case((ev.event.in_(("opened", "clicked")), 1), else_=0)).label("resp"),
        )
        .where(
            ev.channel.in_(list(channels)),
            ev.at >= since,
            ev.outbox_id.is_not(None),
            ev.customer_id.is_not(None),
        )
        .group_by(ev.outbox_id, ev.customer_id, ev.channel)
    )
    frames = []
    for chunk in _chunks(customer_ids):
        q = per_msg if chunk is None else per_msg.where(ev.customer_id.in_(chunk))
        sub = q.subquery()
        rows = db.execute(
            select(
                sub.c.customer_id,
                sub.c.channel,
                func.sum(sub.c.sent).label("messages"),
                func.sum(sub.c.resp * sub.c.sent).label("responses"),
            ).group_by(sub.c.customer_id, sub.c.channel)
        ).all()
        frames.append(
            pd.DataFrame(rows, columns=["customer_id", "channel", "messages", "responses"])
        )
    df = pd.concat(frames, ignore_index=True)
    df = df[df["messages"].astype(float) > 0]
    if df.empty:
        return pd.DataFrame(
            {"customer_id": [], "channel": [], "messages": [], "responses": [], "rate": []}
        ).assign(preferred=[])
    df["messages"] = df["messages"].astype(int)
    df["responses"] = df["responses"].astype(int)
    shop = df.groupby("channel")[["responses", "messages"]].sum()
    shop_rate = (shop["responses"] / shop["messages"]).to_dict()
    prior = df["channel"].map(shop_rate).astype(float)
    df["rate"] = (df["responses"] + CHANNEL_PRIOR * prior) / (df["messages"] + CHANNEL_PRIOR)
    ranked = df.sort_values(["customer_id", "rate", "channel"], ascending=[True, False, True])
    best = ranked.drop_duplicates("customer_id").set_index("customer_id")["channel"]
    df["preferred"] = df["customer_id"].map(best)
    return df.sort_values(["customer_id", "channel"], ignore_index=True)

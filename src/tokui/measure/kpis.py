"""Marketing KPIs per scenario, step, channel, week and segment.

Counts come from the state DB (tokui.measure.messages: messages queued in the period,
bucketed by the shop-local week, Monday first, in which they were queued); conversions
and revenue are the orders credited to the period's touches (tokui.measure.attribution,
last touch, 7 days by default), bucketed by the week of the touch. Rates:

- open rate = opened / delivered; response rate = clicked / delivered;
- CVR = credited orders / delivered messages;
- revenue per recipient = credited revenue / distinct recipients;
- unsubscribe rate = unsubscribed / delivered; bounce rate = bounced / sent.

Per segment, a customer counts in every segment they are a member of now (the
warehouse's segment_memberships), so segments overlap and do not add up.

Retention (F2 and subscription continuation) compares treatment with holdout where a
scenario has a holdout: among units whose customer had exactly one completed order
before the anchor, the share with a second one within the window (F2); among units whose
customer had an active 定期便 at the anchor, the share still subscribed at its end.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
from ibis.backends import BaseBackend
from sqlalchemy import and_, select
from sqlalchemy.orm import Session, aliased

from tokui.analytics.base import purchases
from tokui.clock import DEFAULT_TZ, utc_naive
from tokui.measure.attribution import DEFAULT_WINDOW, Attribution, Model, attribute
from tokui.measure.colocate import colocate
from tokui.measure.journeys import (
    Period,
    control_units,
    definitions,
    holdout_steps,
    holdout_units,
)
from tokui.measure.messages import COUNTS, rollup, scenario_messages
from tokui.measure.outcomes import Rule
from tokui.measure.stats import ProportionComparison, compare_proportions
from tokui.scenarios import store
from tokui.scenarios.definition import MESSAGE_CHANNELS
from tokui.segments.snapshot import MEMBERSHIPS
from tokui.state.messages import OutboxMessage
from tokui.state.scenarios import Enrollment, JourneyEntry, Scenario

DIMENSIONS = ("scenario_key", "step_id", "channel", "week")
RATES = (
    "open_rate",
    "response_rate",
    "cvr",
    "revenue_per_recipient",
    "unsubscribe_rate",
    "bounce_rate",
)


def week_bounds(start: datetime, end: datetime, tz: ZoneInfo = DEFAULT_TZ) -> list[datetime]:
    """Shop-local Monday 00:00 boundaries (naive UTC) covering [start, end)."""
    first = start.replace(tzinfo=ZoneInfo("UTC")).astimezone(tz).date()
    monday = first - timedelta(days=first.weekday())
    bounds = []
    day = monday
    while True:
        b = utc_naive(datetime.combine(day, time(0), tzinfo=tz))
        bounds.append(b)
        if b >= end:
            return bounds
        day += timedelta(days=7)


def week_label(bounds: Sequence[datetime], tz: ZoneInfo = DEFAULT_TZ) -> dict[int, date]:
    """Week index → the local Monday it starts on."""
    return {
        i: b.replace(tzinfo=ZoneInfo("UTC")).astimezone(tz).date()
        for i, b in enumerate(bounds[:-1])
    }


def add_rates(df: pd.DataFrame) -> pd.DataFrame:
    def ratio(a: str, b: str) -> pd.Series:
        den = df[b].astype(float)
        return (df[a].astype(float) / den.where(den > 0)).astype(float)

    df = df.copy()
    df["open_rate"] = ratio("opened", "delivered")
    df["response_rate"] = ratio("clicked", "delivered")
    df["cvr"] = ratio("conversions", "delivered")
    df["revenue_per_recipient"] = ratio("revenue", "recipients")
    df["unsubscribe_rate"] = ratio("unsubscribed", "delivered")
    df["bounce_rate"] = ratio("bounced", "sent")
    return df


@dataclass(frozen=True)
class KpiReport:
    start: datetime
    end: datetime
    table: pd.DataFrame
    attribution: Attribution


def kpis(
    con: BaseBackend,
    db: Session,
    start: datetime,
    end: datetime,
    by: Sequence[str] = ("scenario_key", "channel", "week"),
    tz: ZoneInfo = DEFAULT_TZ,
    window: timedelta = DEFAULT_WINDOW,
    model: Model = "last",
    attribution: Attribution | None = None,
) -> KpiReport:
    """KPIs of the messages queued in [start, end) (naive UTC) per `by` (DIMENSIONS)."""
    bad = set(by) - set(DIMENSIONS)
    if bad:
        raise ValueError(f"unknown dimensions {sorted(bad)}; use {', '.join(DIMENSIONS)}")
    dims = list(by)
    bounds = week_bounds(start, end, tz)
    counts = rollup(db, scenario_messages(start, end, bounds), dims)
    att = attribution or attribute(con, db, start, end, window, model)
    credits = att.credits.copy()
    if "week" in dims:
        edges = np.array(bounds, dtype="datetime64[us]")
        at = pd.to_datetime(credits["touch_at"]).to_numpy(dtype="datetime64[us]")
        credits["week"] = np.searchsorted(edges, at, side="right") - 1
    conv = (
        credits.groupby(dims, dropna=False)
        .agg(conversions=("order_id", "count"), revenue=("revenue", "sum"))
        .reset_index()
        if len(credits)
        else pd.DataFrame(columns=[*dims, "conversions", "revenue"])
    )
    table = counts.merge(conv, on=dims, how="outer")
    table[list(COUNTS)] = table[list(COUNTS)].fillna(0).astype("int64")
    table["conversions"] = pd.to_numeric(table["conversions"]).fillna(0).astype("int64")
    table["revenue"] = pd.to_numeric(table["revenue"]).fillna(0.0).astype(float)
    if "week" in dims:
        labels = week_label(bounds, tz)
        table["week"] = table["week"].map(lambda i: labels.get(int(i)) if pd.notna(i) else None)
    table = add_rates(table).sort_values(dims, na_position="last", ignore_index=True)
    return KpiReport(start, end, table, att)


def segment_kpis(
    con: BaseBackend,
    db: Session,
    start: datetime,
    end: datetime,
    attribution: Attribution,
    scenario_key: str | None = None,
) -> pd.DataFrame:
    """KPIs per current segment membership of the recipients of [start, end): of every
    marketing message, or of one scenario's messages (and the orders credited to them)."""
    o = OutboxMessage
    base = select(
        o.id.label("message_id"),
        o.customer_id.label("customer_id"),
        o.customer_id.label("recipient"),
    ).where(
        o.created_at >= start,
        o.created_at < end,
        o.channel.in_(MESSAGE_CHANNELS),
        o.customer_id.is_not(None),
        o.is_marketing.is_(True),
    )
    credits = attribution.credits
    if scenario_key is not None:
        q = aliased(JourneyEntry)
        base = (
            base.join(q, and_(q.outbox_id == o.id, q.outcome == "queued"))
            .join(Enrollment, Enrollment.id == q.enrollment_id)
            .join(Scenario, Scenario.id == Enrollment.scenario_id)
            .where(Scenario.key == scenario_key)
        )
        credits = credits[credits["scenario_key"] == scenario_key]
    per = rollup(db, base, ["recipient"])
    got = (
        credits.groupby("customer_id")
        .agg(conversions=("order_id", "count"), revenue=("revenue", "sum"))
        .reset_index()
        if len(credits)
        else pd.DataFrame(
            {"customer_id": pd.Series([], dtype=object), "conversions": [], "revenue": []}
        )
    )
    per = per.rename(columns={"recipient": "customer_id"}).merge(got, on="customer_id", how="left")
    cols = [c for c in COUNTS if c != "recipients"]
    if MEMBERSHIPS not in con.list_tables() or per.empty:
        return pd.DataFrame(columns=["segment_key", *COUNTS, "conversions", "revenue", *RATES])
    local = pa.table(
        {
            "customer_id": pa.array(per["customer_id"].astype(str), pa.string()),
            **{c: pa.array(per[c].astype("int64"), pa.int64()) for c in cols},
            "conversions": pa.array(per["conversions"].fillna(0).astype("int64"), pa.int64()),
            "revenue": pa.array(per["revenue"].fillna(0).astype(float), pa.float64()),
        }
    )
    m = con.table(MEMBERSHIPS).select(m_segment="segment_key", m_customer="customer_id")
    placed = colocate(local, m)
    u, mm = placed.local, placed.remote
    j = u.join(mm, u.customer_id == mm.m_customer)
    agg = j.group_by(segment_key=j.m_segment).aggregate(
        recipients=j.count(),
        conversions=j.conversions.sum(),
        revenue=j.revenue.sum(),
        **{c: j[c].sum() for c in cols},
    )
    df = agg.to_pandas()
    return add_rates(df).sort_values("segment_key", ignore_index=True)


@dataclass(frozen=True)
class RetentionChange:
    scenario_key: str
    kind: str  # holdout step or global control
    step_id: str | None
    metric: str  # f2 | continuation
    n_treatment: int
    n_control: int
    rate_treatment: float
    rate_control: float
    comparison: ProportionComparison | None


def retention_changes(
    con: BaseBackend,
    db: Session,
    scenario_key: str,
    as_of: datetime,
    window: timedelta | None = None,
    alpha: float = 0.05,
) -> list[RetentionChange]:
    """F2 and continuation rates, treatment against holdout (and global control)."""
    scenario = store.get(db, scenario_key)
    versions = definitions(db, scenario)
    rule = Rule.of(versions[-1].goal if versions else None, window)
    period = Period(as_of)
    comparisons: list[tuple[str, str | None, pa.Table, str]] = []
    for step in holdout_steps(versions):
        units = holdout_units(db, scenario.id, step.id, period, rule.window)
        comparisons.append(("holdout", step.id, units, "holdout"))
    units = control_units(db, scenario.id, period, rule.window)
    if "control" in set(units["grp"].to_pylist()):
        comparisons.append(("global_control", None, units, "control"))
    out = []
    for kind, step_id, units, control in comparisons:
        if units.num_rows == 0:
            continue
        for metric, rates in (
            ("f2", _f2(con, units, rule.window)),
            ("continuation", _continuation(con, units, rule.window)),
        ):
            t = rates.get("treatment", (0, 0))
            c = rates.get(control, (0, 0))
            cmp = None
            if t[0] > 0 and c[0] > 0:
                cmp = compare_proportions(t[1], t[0], c[1], c[0], alpha)
            out.append(
                RetentionChange(
                    scenario_key,
                    kind,
                    step_id,
                    metric,
                    t[0],
                    c[0],
                    t[1] / t[0] if t[0] else 0.0,
                    c[1] / c[0] if c[0] else 0.0,
                    cmp,
                )
            )
    return out


def _counts(expr: ibis.Table) -> dict[str, tuple[int, int]]:
    df = expr.to_pandas()
    return {str(r.grp): (int(r.n), int(r.k or 0)) for r in df.itertuples(index=False)}


def _f2(con: BaseBackend, units: pa.Table, window: timedelta) -> dict[str, tuple[int, int]]:
    """Per group: (units whose customer had exactly one order before the anchor, of those
    with another order within the window)."""
    p = purchases(con)
    o = p.select(o_customer_id=p.customer_id, o_at=p.ordered_at)
    placed = colocate(units, o)
    u, oo = placed.local, placed.remote
    j = u.join(oo, (u.customer_id == oo.o_customer_id) & (oo.o_at <= u.anchor_at))
    before = j.group_by(j.unit_id).aggregate(prior=j.count())
    first_timers = u.join(before.filter(before.prior == 1), "unit_id").select(u)
    seconds = int(window.total_seconds())
    nxt = first_timers.join(
        oo,
        (first_timers.customer_id == oo.o_customer_id)
        & (oo.o_at > first_timers.anchor_at)
        & (oo.o_at <= first_timers.anchor_at + ibis.interval(seconds=seconds)),
    )
    second = nxt.select("unit_id").distinct().mutate(k=ibis.literal(1))
    full = first_timers.left_join(second, "unit_id").select(
        first_timers.grp, k=second.k.fill_null(0)
    )
    return _counts(full.group_by("grp").aggregate(n=full.count(), k=full.k.sum()))


def _continuation(
    con: BaseBackend, units: pa.Table, window: timedelta
) -> dict[str, tuple[int, int]]:
    """Per group: (units with an active subscription at the anchor, of those with one
    still active at the end of the window)."""
    if "subscriptions" not in con.list_tables():
        return {}
    s = con.table("subscriptions")
    subs = s.select(s_customer_id=s.customer_id, s_start=s.started_at, s_end=s.cancelled_at)
    placed = colocate(units, subs)
    u, ss = placed.local, placed.remote
    seconds = int(window.total_seconds())
    active = u.join(
        ss,
        (u.customer_id == ss.s_customer_id)
        & (ss.s_start <= u.anchor_at)
        & (ss.s_end.isnull() | (ss.s_end > u.anchor_at)),
    )
    still = active.filter(
        active.s_end.isnull() | (active.s_end > active.anchor_at + ibis.interval(seconds=seconds))
    )
    a = active.select("unit_id", "grp").distinct()
    k = still.select("unit_id").distinct().mutate(k=ibis.literal(1))
    full = a.left_join(k, "unit_id").select(a.grp, k=k.k.fill_null(0))
    return _counts(full.group_by("grp").aggregate(n=full.count(), k=full.k.sum()))

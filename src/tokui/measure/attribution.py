"""Attribution: which message gets the credit for an order.

Rule: an order is a conversion of a touch when it is a completed order of the same
customer placed in (touch, touch + window] (default 7 days; an order at exactly the end
of the window counts, one at the moment of the touch or before it does not). A touch is
the send of a marketing message (`sent`, or `handed_over` for postal DM) or a click on
one. When several touches qualify, the last one before the order gets the whole order
(last touch, the default) or the earliest one within the window does (first touch).

On top of that, a scenario's own goal counts: an enrollment the engine marked
`converted` is a conversion of its scenario, whichever message (if any) came last. The
goal's order is the first order after entry that meets the goal (product/category).
Goal credit is not exclusive: the same order can be last-touch credited to another
scenario's message, so goal conversions do not add up across scenarios; attributed
orders do.

This is bookkeeping, not causality: a customer who would have bought anyway is credited
all the same. What a scenario caused is measured with a holdout (tokui.measure.uplift).

Computation: touches come from the state DB, orders from the warehouse; the smaller side
moves (tokui.measure.colocate) and one windowed join ranks the touches of each order.
Touches are read from `window` before the period to `window` after it, so that an
order's true first or last touch is known even when it fell outside the period; only
credits to touches inside the period are reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import ibis
import pandas as pd
import pyarrow as pa
from ibis.backends import BaseBackend
from sqlalchemy import select
from sqlalchemy.orm import Session

from tokui.measure.colocate import colocate
from tokui.measure.messages import touches
from tokui.measure.outcomes import Rule, orders_between
from tokui.scenarios import store
from tokui.state.scenarios import Enrollment, JourneyEntry, Scenario

Model = Literal["last", "first"]
DEFAULT_WINDOW = timedelta(days=7)
CREDIT_COLUMNS = [
    "order_id",
    "customer_id",
    "ordered_at",
    "revenue",
    "touch_id",
    "message_id",
    "kind",
    "channel",
    "touch_at",
    "scenario_key",
    "step_id",
    "enrollment_id",
    "arm",
]


@dataclass(frozen=True)
class Attribution:
    """Orders credited to touches in [start, end)."""

    start: datetime
    end: datetime
    window: timedelta
    model: Model
    credits: pd.DataFrame  # one row per credited order, CREDIT_COLUMNS
    goals: pd.DataFrame  # scenario_key, enrollment_id, order_id, revenue
    where: str  # where the join ran: warehouse or local

    def by(self, dims: Sequence[str]) -> pd.DataFrame:
        """Credited orders, revenue and customers per dims (e.g. scenario_key, channel)."""
        c = self.credits
        if c.empty:
            return pd.DataFrame(columns=[*dims, "conversions", "revenue", "customers"])
        keyed = c.assign(**{d: c[d].fillna("") for d in dims if c[d].dtype == object})
        g = keyed.groupby(list(dims), dropna=False)
        return g.agg(
            conversions=("order_id", "count"),
            revenue=("revenue", "sum"),
            customers=("customer_id", "nunique"),
        ).reset_index()

    def per_scenario(self) -> pd.DataFrame:
        """Per scenario: attributed orders and revenue, goal conversions, and both together
        (distinct orders)."""
        att = self.credits.dropna(subset=["scenario_key"])
        rows = []
        keys = sorted(set(att["scenario_key"]) | set(self.goals["scenario_key"]))
        for key in keys:
            a = att[att["scenario_key"] == key]
            g = self.goals[self.goals["scenario_key"] == key]
            both = pd.concat([a[["order_id", "revenue"]], g[["order_id", "revenue"]]])
            both = both.drop_duplicates("order_id")
            rows.append(
                {
                    "scenario_key": key,
                    "attributed": len(a),
                    "attributed_revenue": float(a["revenue"].sum()),
                    "goal_conversions": len(g),
                    "goal_revenue": float(g["revenue"].sum()),
                    "conversions": len(both),
                    "revenue": float(both["revenue"].sum()),
                }
            )
        return pd.DataFrame(
            rows,
            columns=[
                "scenario_key",
                "attributed",
                "attributed_revenue",
                "goal_conversions",
                "goal_revenue",
                "conversions",
                "revenue",
            ],
        )


def credit(
    touch_table: pa.Table,
    orders: ibis.Table,
    window: timedelta,
    model: Model,
    force: str | None = None,
) -> tuple[ibis.Table, str]:
    """Each order with the one touch that gets it (an Ibis expression), and where it runs."""
    if model not in ("last", "first"):
        raise ValueError("model must be 'last' or 'first'")
    placed = colocate(touch_table, orders, force)
    t, o = placed.local, placed.remote
    seconds = int(window.total_seconds())
    pairs = o.join(
        t,
        [
            t.customer_id == o.o_customer_id,
            t.at < o.o_at,
            o.o_at <= t.at + ibis.interval(seconds=seconds),
        ],
    )
    # Ties (a send and its click at the same second) go to the larger touch id: the
    # click is logged after the send.
    order_by = (
        [ibis.desc(pairs.at), ibis.desc(pairs.touch_id)]
        if model == "last"
        else [pairs.at, ibis.desc(pairs.touch_id)]
    )
    w = ibis.window(group_by=pairs.o_order_id, order_by=order_by)
    ranked = pairs.mutate(rank=ibis.row_number().over(w))
    best = ranked.filter(ranked.rank == 0)
    expr = best.select(
        order_id=best.o_order_id,
        customer_id=best.o_customer_id,
        ordered_at=best.o_at,
        revenue=best.o_revenue,
        touch_id=best.touch_id,
        message_id=best.message_id,
        kind=best.kind,
        channel=best.channel,
        touch_at=best.at,
        scenario_key=best.scenario_key,
        step_id=best.step_id,
        enrollment_id=best.enrollment_id,
        arm=best.arm,
    )
    return expr, placed.where


def attribute(
    con: BaseBackend,
    db: Session,
    start: datetime,
    end: datetime,
    window: timedelta = DEFAULT_WINDOW,
    model: Model = "last",
    force: str | None = None,
) -> Attribution:
    """Orders credited to the touches of [start, end) (naive UTC), and goal conversions."""
    if model not in ("last", "first"):
        raise ValueError("model must be 'last' or 'first'")
    t = touches(db, start - window, end + window)
    orders = orders_between(con, start - window, end + window, Rule(window))
    if t.num_rows == 0:
        credits = pd.DataFrame(columns=CREDIT_COLUMNS)
        where = "none"
    else:
        expr, where = credit(t, orders, window, model, force)
        expr = expr.filter((expr.touch_at >= start) & (expr.touch_at < end))
        credits = expr.to_pandas()
        credits = credits.sort_values(["ordered_at", "order_id"], ignore_index=True)
    return Attribution(start, end, window, model, credits, goal_orders(con, db, start, end), where)


def goal_orders(con: BaseBackend, db: Session, start: datetime, end: datetime) -> pd.DataFrame:
    """The order behind each goal conversion recorded in [start, end)."""
    rows = db.execute(
        select(
            Scenario.key,
            Scenario.id,
            Enrollment.id,
            Enrollment.customer_id,
            Enrollment.entered_at,
            JourneyEntry.at,
        )
        .join(Enrollment, Enrollment.id == JourneyEntry.enrollment_id)
        .join(Scenario, Scenario.id == Enrollment.scenario_id)
        .where(JourneyEntry.outcome == "goal", JourneyEntry.at >= start, JourneyEntry.at < end)
    ).all()
    columns = ["scenario_key", "enrollment_id", "order_id", "revenue"]
    if not rows:
        return pd.DataFrame(columns=columns)
    frames = []
    for key in sorted({r[0] for r in rows}):
        mine = [r for r in rows if r[0] == key]
        goal = store.load_version(store.version_row(db, store.get(db, key))).goal
        rule = Rule.of(goal, None)
        units = pa.table(
            {
                "enrollment_id": pa.array([r[2] for r in mine], pa.int64()),
                "customer_id": pa.array([str(r[3]) for r in mine], pa.string()),
                "entered_at": pa.array([r[4] for r in mine], pa.timestamp("us")),
                "goal_at": pa.array([r[5] for r in mine], pa.timestamp("us")),
            }
        )
        lo = min(r[4] for r in mine)
        hi = max(r[5] for r in mine)
        placed = colocate(units, orders_between(con, lo, hi, rule))
        u, o = placed.local, placed.remote
        j = u.join(
            o,
            [
                u.customer_id == o.o_customer_id,
                o.o_at > u.entered_at,
                o.o_at <= u.goal_at,
                o.o_qualifies == 1,
            ],
        )
        w = ibis.window(group_by=j.enrollment_id, order_by=[j.o_at, j.o_order_id])
        j = j.mutate(rank=ibis.row_number().over(w))
        first = j.filter(j.rank == 0).select(
            "enrollment_id", order_id=j.o_order_id, revenue=j.o_revenue
        )
        df = first.to_pandas()
        df.insert(0, "scenario_key", key)
        frames.append(df)
    return pd.concat(frames, ignore_index=True)[columns]

"""What happened after a moment: conversions and revenue of units (enrollments) in a window.

A unit is one enrollment at one moment (its anchor): the holdout step for a holdout
comparison, the split step for an A/B test, the entry for the global control. Its
outcome over the window (anchor, anchor + window] is:

- converted: at least one completed order in the window that meets the rule (the
  scenario's goal: any order, or one with the goal's product or category);
- revenue: the total paid of every completed order in the window (revenue is revenue,
  whatever the goal), 0 for units without orders;
- orders: how many completed orders.

Per group the result carries n, conversions, the revenue sum and the sum of squares, so
the statistics (tokui.measure.stats) need no per-customer rows in Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import ibis
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from ibis.backends import BaseBackend

from tokui.analytics.base import purchases
from tokui.measure.colocate import colocate
from tokui.scenarios.definition import Goal

UNIT_SCHEMA = pa.schema(
    [
        ("unit_id", pa.int64()),
        ("customer_id", pa.string()),
        ("anchor_at", pa.timestamp("us")),
        ("grp", pa.string()),
    ]
)


@dataclass(frozen=True)
class Rule:
    """What counts as a conversion, and for how long after the anchor."""

    window: timedelta
    product_id: str | None = None
    category: str | None = None

    @classmethod
    def of(cls, goal: Goal | None, window: timedelta | None) -> Rule:
        """The scenario's goal (its product/category and its days), unless a window is
        given; without a goal, any completed order within the window (default 7 days)."""
        if goal is not None:
            return cls(window or timedelta(days=goal.within_days), goal.product_id, goal.category)
        return cls(window or timedelta(days=7))


@dataclass(frozen=True)
class GroupOutcome:
    n: int
    conversions: int
    orders: int
    revenue: float
    revenue_sq: float

    @property
    def rate(self) -> float:
        return self.conversions / self.n if self.n else 0.0

    @property
    def revenue_per_unit(self) -> float:
        return self.revenue / self.n if self.n else 0.0


def orders_between(con: BaseBackend, start: datetime, end: datetime, rule: Rule) -> ibis.Table:
    """Completed orders in (start, end] with the columns the joins need."""
    o = purchases(con)
    o = o.filter((o.ordered_at > start) & (o.ordered_at <= end))
    if rule.product_id is not None or rule.category is not None:
        items = con.table("order_items")
        match = items
        if rule.product_id is not None:
            match = match.filter(match.product_id == rule.product_id)
        if rule.category is not None:
            match = match.filter(match.category == rule.category)
        qualifies = o.order_id.isin(match.order_id)
    else:
        qualifies = ibis.literal(True)
    return o.select(
        o_order_id=o.order_id,
        o_customer_id=o.customer_id,
        o_at=o.ordered_at,
        o_revenue=o.total.cast("float64"),
        o_qualifies=ibis.ifelse(qualifies, 1, 0).cast("int64"),
    )


def unit_outcomes(
    con: BaseBackend, units: pa.Table, rule: Rule, force: str | None = None
) -> ibis.Table:
    """Every unit with converted (0/1), orders and revenue over its window."""
    units = units.select(UNIT_SCHEMA.names).cast(UNIT_SCHEMA)
    if units.num_rows == 0:
        return ibis.memtable(
            units.append_column("converted", pa.array([], pa.int64()))
            .append_column("orders", pa.array([], pa.int64()))
            .append_column("revenue", pa.array([], pa.float64()))
        )
    lo = pc.min(units["anchor_at"]).as_py()
    hi = pc.max(units["anchor_at"]).as_py() + rule.window
    placed = colocate(units, orders_between(con, lo, hi, rule), force)
    u, o = placed.local, placed.remote
    seconds = int(rule.window.total_seconds())
    j = u.join(
        o,
        [
            u.customer_id == o.o_customer_id,
            o.o_at > u.anchor_at,
            o.o_at <= u.anchor_at + ibis.interval(seconds=seconds),
        ],
    )
    per = j.group_by(j.unit_id).aggregate(
        converted=j.o_qualifies.max(), orders=j.o_order_id.count(), revenue=j.o_revenue.sum()
    )
    full = u.left_join(per, u.unit_id == per.unit_id).select(
        u.unit_id,
        u.customer_id,
        u.anchor_at,
        u.grp,
        converted=per.converted.fill_null(0),
        orders=per.orders.fill_null(0),
        revenue=per.revenue.fill_null(0.0),
    )
    return full


def group_outcomes(
    con: BaseBackend, units: pa.Table, rule: Rule, force: str | None = None
) -> dict[str, GroupOutcome]:
    """Outcomes summed per group (the `grp` column of the units)."""
    full = unit_outcomes(con, units, rule, force)
    agg = full.group_by(full.grp).aggregate(
        n=full.count(),
        conversions=full.converted.sum(),
        orders=full.orders.sum(),
        revenue=full.revenue.sum(),
        revenue_sq=(full.revenue * full.revenue).sum(),
    )
    df = agg.to_pandas()
    return {
        str(r.grp): GroupOutcome(
            int(r.n),
            int(_num(r.conversions)),
            int(_num(r.orders)),
            float(_num(r.revenue)),
            float(_num(r.revenue_sq)),
        )
        for r in df.itertuples(index=False)
    }


def _num(x: object) -> float:
    return 0.0 if x is None or pd.isna(x) else float(x)  # type: ignore[arg-type]


def units_table(
    unit_ids: Sequence[int],
    customer_ids: Sequence[str],
    anchors: Sequence[datetime],
    groups: Sequence[str],
) -> pa.Table:
    return pa.table(
        {
            "unit_id": pa.array(list(unit_ids), pa.int64()),
            "customer_id": pa.array([str(c) for c in customer_ids], pa.string()),
            "anchor_at": pa.array(list(anchors), pa.timestamp("us")),
            "grp": pa.array([str(g) for g in groups], pa.string()),
        }
    )

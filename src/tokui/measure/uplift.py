"""Holdout uplift: what a scenario changed, compared with customers it left alone.

For each holdout step of a scenario, the units are the enrollments that reached the step:
`treatment` went on, `holdout` stopped there; both are anchored at that moment and
followed for the same window (the scenario's goal days, or 7 days without a goal).
Because the split is a stable random hash, the difference between the groups is the
causal effect of everything the scenario does after the holdout step (intention to
treat: customers that could not be reached still count as treated).

- conversion rate: converted / n per group; absolute uplift with a Wald interval,
  relative uplift with a delta-method interval, pooled z-test (tokui.measure.stats);
- revenue per customer: Welch's interval on the per-customer revenue in the window,
  zeros included, computed from sums and sums of squares;
- incremental revenue: the revenue-per-customer difference times the treated count,
  with its interval scaled the same way; incremental conversions likewise.

With a global control group (Settings.global_control_percent) the same comparison is
made per scenario between its control-group enrollments and all the others (anchored at
entry), and for the whole shop between every control customer and everyone else
(marketing_uplift): the total effect of all marketing on orders and revenue.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

import ibis
import pandas as pd
from ibis.backends import BaseBackend
from sqlalchemy.orm import Session

from tokui.analytics.base import purchases
from tokui.features.hashing import HASHES
from tokui.measure.journeys import (
    Period,
    control_units,
    definitions,
    holdout_steps,
    holdout_units,
)
from tokui.measure.outcomes import GroupOutcome, Rule, group_outcomes
from tokui.measure.stats import (
    MeanComparison,
    ProportionComparison,
    compare_means_from_sums,
    compare_proportions,
)
from tokui.scenarios import store
from tokui.scenarios.control import control_expr

EMPTY = GroupOutcome(0, 0, 0, 0.0, 0.0)


@dataclass(frozen=True)
class UpliftResult:
    scenario_key: str
    kind: str  # holdout | global_control | marketing
    step_id: str | None
    window_days: float
    treatment: GroupOutcome
    control: GroupOutcome
    conversion: ProportionComparison | None
    revenue: MeanComparison | None
    incremental_revenue: float | None
    incremental_revenue_ci: tuple[float, float] | None
    incremental_conversions: float | None
    incremental_conversions_ci: tuple[float, float] | None

    @property
    def significant(self) -> bool:
        return self.conversion is not None and self.conversion.p_value < 0.05

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for g in ("treatment", "control"):
            group: GroupOutcome = getattr(self, g)
            out[g] |= {"rate": group.rate, "revenue_per_customer": group.revenue_per_unit}
        return out


def compare(
    scenario_key: str,
    kind: str,
    step_id: str | None,
    window: timedelta,
    treatment: GroupOutcome,
    control: GroupOutcome,
    alpha: float = 0.05,
) -> UpliftResult:
    """The statistics of one treatment/control pair (None where a group is too small)."""
    conv = rev = None
    inc = inc_ci = inc_conv = inc_conv_ci = None
    if treatment.n > 0 and control.n > 0:
        conv = compare_proportions(
            treatment.conversions, treatment.n, control.conversions, control.n, alpha
        )
        inc_conv = conv.difference * treatment.n
        inc_conv_ci = (conv.difference_ci[0] * treatment.n, conv.difference_ci[1] * treatment.n)
    if treatment.n >= 2 and control.n >= 2:
        rev = compare_means_from_sums(
            treatment.n,
            treatment.revenue,
            treatment.revenue_sq,
            control.n,
            control.revenue,
            control.revenue_sq,
            alpha,
        )
        inc = rev.difference * treatment.n
        inc_ci = (rev.difference_ci[0] * treatment.n, rev.difference_ci[1] * treatment.n)
    return UpliftResult(
        scenario_key,
        kind,
        step_id,
        window.total_seconds() / 86400,
        treatment,
        control,
        conv,
        rev,
        inc,
        inc_ci,
        inc_conv,
        inc_conv_ci,
    )


def scenario_uplift(
    con: BaseBackend,
    db: Session,
    scenario_key: str,
    as_of: datetime,
    window: timedelta | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    alpha: float = 0.05,
    force: str | None = None,
) -> list[UpliftResult]:
    """One result per holdout step, plus the global control comparison when the scenario
    has control-group enrollments. Times are naive UTC."""
    scenario = store.get(db, scenario_key)
    versions = definitions(db, scenario)
    goal = versions[-1].goal if versions else None
    rule = Rule.of(goal, window)
    period = Period(as_of, start, end)
    out = []
    for step in holdout_steps(versions):
        units = holdout_units(db, scenario.id, step.id, period, rule.window)
        groups = group_outcomes(con, units, rule, force)
        out.append(
            compare(
                scenario_key,
                "holdout",
                step.id,
                rule.window,
                groups.get("treatment", EMPTY),
                groups.get("holdout", EMPTY),
                alpha,
            )
        )
    units = control_units(db, scenario.id, period, rule.window)
    if "control" in set(units["grp"].to_pylist()):
        groups = group_outcomes(con, units, rule, force)
        out.append(
            compare(
                scenario_key,
                "global_control",
                None,
                rule.window,
                groups.get("treatment", EMPTY),
                groups.get("control", EMPTY),
                alpha,
            )
        )
    return out


def marketing_uplift(
    con: BaseBackend,
    percent: float,
    start: datetime,
    end: datetime,
    alpha: float = 0.05,
) -> UpliftResult:
    """All marketing: customers registered before `start`, the global control group
    against everyone else; completed orders in [start, end) (naive UTC)."""
    if percent <= 0:
        raise ValueError("the global control group is off (global_control_percent = 0)")
    if HASHES not in con.list_tables():
        raise ValueError("customer hashes are missing; run `tokui refresh` first")
    c = con.table("customers")
    h = con.table(HASHES)
    base = c.filter(c.registered_at < start).select("customer_id")
    base = base.join(h, "customer_id").select(
        "customer_id",
        grp=ibis.ifelse(control_expr(h.customer_hash, percent), "control", "treatment"),
    )
    o = purchases(con)
    o = o.filter((o.ordered_at >= start) & (o.ordered_at < end))
    per = o.group_by(o.customer_id).aggregate(
        orders=o.count(), revenue=o.total.sum().cast("float64")
    )
    j = base.left_join(per, base.customer_id == per.customer_id).select(
        base.grp, orders=per.orders.fill_null(0), revenue=per.revenue.fill_null(0.0)
    )
    agg = j.group_by(j.grp).aggregate(
        n=j.count(),
        conversions=ibis.ifelse(j.orders > 0, 1, 0).sum(),
        orders=j.orders.sum(),
        revenue=j.revenue.sum(),
        revenue_sq=(j.revenue * j.revenue).sum(),
    )
    groups = {
        str(r.grp): GroupOutcome(
            int(r.n), int(r.conversions), int(r.orders), float(r.revenue), float(r.revenue_sq)
        )
        for r in agg.to_pandas().fillna(0).itertuples(index=False)
    }
    return compare(
        "*",
        "marketing",
        None,
        end - start,
        groups.get("treatment", EMPTY),
        groups.get("control", EMPTY),
        alpha,
    )


def results_frame(results: list[UpliftResult]) -> pd.DataFrame:
    """One flat row per result, for the CLI and exports."""
    rows = []
    for r in results:
        rows.append(
            {
                "scenario": r.scenario_key,
                "kind": r.kind,
                "step": r.step_id,
                "window_days": r.window_days,
                "n_treatment": r.treatment.n,
                "n_control": r.control.n,
                "cvr_treatment": r.treatment.rate,
                "cvr_control": r.control.rate,
                "uplift": r.conversion.difference if r.conversion else None,
                "uplift_low": r.conversion.difference_ci[0] if r.conversion else None,
                "uplift_high": r.conversion.difference_ci[1] if r.conversion else None,
                "relative_uplift": r.conversion.relative_uplift if r.conversion else None,
                "p_value": r.conversion.p_value if r.conversion else None,
                "rpc_treatment": r.treatment.revenue_per_unit,
                "rpc_control": r.control.revenue_per_unit,
                "incremental_revenue": r.incremental_revenue,
                "incremental_revenue_low": (
                    r.incremental_revenue_ci[0] if r.incremental_revenue_ci else None
                ),
                "incremental_revenue_high": (
                    r.incremental_revenue_ci[1] if r.incremental_revenue_ci else None
                ),
            }
        )
    return pd.DataFrame(rows)

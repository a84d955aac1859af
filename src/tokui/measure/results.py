"""Everything the results page of one scenario shows, computed by the measurement core.

- uplift against each holdout step and the global control group, over every window
  complete by `as_of` (tokui.measure.uplift); the causal part;
- each A/B/n test (tokui.measure.abtest);
- attribution of the period's orders to the scenario's messages, last or first touch
  within a chosen window, per step and channel, with its goal conversions
  (tokui.measure.attribution); bookkeeping, not cause;
- KPIs of its messages per shop-local week (every week of the period, empty ones
  included so a chart shows the gaps), per channel and per segment (tokui.measure.kpis);
- F2 and continuation against the holdout.

The attribution chosen (model, window) also credits the KPIs' conversions, so the page
tells one story.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
from ibis.backends import BaseBackend
from sqlalchemy.orm import Session

from tokui.clock import DEFAULT_TZ
from tokui.measure.abtest import ABResult, scenario_tests
from tokui.measure.attribution import Model, attribute
from tokui.measure.kpis import (
    RATES,
    RetentionChange,
    add_rates,
    kpis,
    retention_changes,
    segment_kpis,
    week_bounds,
    week_label,
)
from tokui.measure.messages import COUNTS
from tokui.measure.uplift import UpliftResult, scenario_uplift

CREDIT_TOTALS = (
    "attributed",
    "attributed_revenue",
    "goal_conversions",
    "goal_revenue",
    "conversions",
    "revenue",
)


@dataclass(frozen=True)
class ScenarioResults:
    key: str
    start: datetime  # naive UTC, the period of attribution and KPIs
    end: datetime
    as_of: datetime  # naive UTC, uplift windows complete by then
    model: Model
    window: timedelta
    uplift: list[UpliftResult]
    tests: list[ABResult]
    credited: dict[str, float]  # CREDIT_TOTALS
    by_touch: pd.DataFrame  # step_id, channel, conversions, revenue, customers
    weekly: pd.DataFrame  # week (local Monday) + COUNTS + conversions, revenue + RATES
    channels: pd.DataFrame  # channel + the same
    segments: pd.DataFrame  # segment_key + the same
    retention: list[RetentionChange]


def _mine(table: pd.DataFrame, key: str) -> pd.DataFrame:
    return table[table["scenario_key"] == key].drop(columns="scenario_key")


def scenario_results(
    con: BaseBackend,
    db: Session,
    key: str,
    start: datetime,
    end: datetime,
    as_of: datetime,
    window: timedelta,
    model: Model = "last",
    tz: ZoneInfo = DEFAULT_TZ,
) -> ScenarioResults:
    """The results of scenario `key` (naive UTC times); ScenarioStoreError when unknown."""
    uplift = scenario_uplift(con, db, key, as_of)
    tests = scenario_tests(con, db, key, as_of)
    att = attribute(con, db, start, end, window, model)
    per = att.per_scenario()
    row = per[per["scenario_key"] == key]
    credited = {c: float(row.iloc[0][c]) if len(row) else 0.0 for c in CREDIT_TOTALS}
    credits = att.credits[att.credits["scenario_key"] == key]
    by_touch = (
        credits.groupby(["step_id", "channel"])
        .agg(
            conversions=("order_id", "count"),
            revenue=("revenue", "sum"),
            customers=("customer_id", "nunique"),
        )
        .reset_index()
        if len(credits)
        else pd.DataFrame(columns=["step_id", "channel", "conversions", "revenue", "customers"])
    )
    weekly = _mine(
        kpis(con, db, start, end, ["scenario_key", "week"], tz, attribution=att).table, key
    )
    weeks = list(week_label(week_bounds(start, end, tz), tz).values())
    weekly = _every_week(weekly, weeks)
    channels = _mine(
        kpis(con, db, start, end, ["scenario_key", "channel"], tz, attribution=att).table, key
    )
    segments = segment_kpis(con, db, start, end, att, scenario_key=key)
    return ScenarioResults(
        key,
        start,
        end,
        as_of,
        model,
        window,
        uplift,
        tests,
        credited,
        by_touch.reset_index(drop=True),
        weekly,
        channels.reset_index(drop=True),
        segments,
        retention_changes(con, db, key, as_of),
    )


def _every_week(table: pd.DataFrame, weeks: Sequence[object]) -> pd.DataFrame:
    """One row per week of the period, zero counts (and no rates) where nothing was sent."""
    full = pd.DataFrame({"week": weeks})
    counts = [*COUNTS, "conversions", "revenue"]
    merged = full.merge(table[["week", *counts]], on="week", how="left")
    merged[list(COUNTS)] = merged[list(COUNTS)].fillna(0).astype("int64")
    merged["conversions"] = merged["conversions"].fillna(0).astype("int64")
    merged["revenue"] = merged["revenue"].fillna(0.0).astype(float)
    out = add_rates(merged)
    return out[["week", *counts, *RATES]]

"""Every scenario on one page: what it sent, what it earned, whether it annoys.

Per scenario, over a period of shop-local days:

- sent, delivered, unsubscribe and bounce rates: the KPIs of the marketing messages it
  queued in the period (tokui.measure.kpis);
- conversions and revenue: orders credited to its messages (last touch, 7 days) plus its
  goal conversions, distinct orders (tokui.measure.attribution); bookkeeping, not cause;
- incremental revenue with its 95 % interval: the causal comparison, over every window
  complete so far (not only the period, so the interval narrows as data comes in): the
  first holdout step with both groups, else the global control group
  (tokui.measure.uplift).

Flags, fixed rules so the same numbers always give the same flags:

- earns money: the incremental revenue interval lies above zero;
- annoys: the unsubscribe rate is above UNSUBSCRIBE_MAX (0.5 %) or the bounce rate above
  BOUNCE_MAX (2 %) in the period, the thresholds of the weekly report.

Sorting is by a name from SORTS only, done in Python over the finished rows: no sort key
ever reaches a query.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from ibis.backends import BaseBackend
from pydantic import ValidationError
from sqlalchemy.orm import Session

from tokui.measure.attribution import attribute
from tokui.measure.kpis import kpis
from tokui.measure.report import BOUNCE_MAX, UNSUBSCRIBE_MAX
from tokui.measure.uplift import UpliftResult, marketing_uplift, scenario_uplift
from tokui.scenarios import store

SORTS = (
    "name",
    "status",
    "sent",
    "conversions",
    "revenue",
    "incremental_revenue",
    "unsubscribe_rate",
    "bounce_rate",
)
DIRECTIONS = ("asc", "desc")


@dataclass(frozen=True)
class OverviewRow:
    key: str
    name_ja: str
    name_en: str
    status: str
    sent: int
    delivered: int
    conversions: int
    revenue: float
    unsubscribe_rate: float | None
    bounce_rate: float | None
    uplift: UpliftResult | None  # the comparison the money figure comes from

    def name(self, lang: str) -> str:
        return self.name_ja if lang == "ja" else self.name_en

    @property
    def incremental_revenue(self) -> float | None:
        return self.uplift.incremental_revenue if self.uplift else None

    @property
    def incremental_revenue_ci(self) -> tuple[float, float] | None:
        return self.uplift.incremental_revenue_ci if self.uplift else None

    @property
    def earns(self) -> bool | None:
        """The incremental revenue interval above zero; None without a comparison."""
        ci = self.incremental_revenue_ci
        return None if ci is None else ci[0] > 0

    @property
    def annoys(self) -> bool:
        return (self.unsubscribe_rate or 0.0) > UNSUBSCRIBE_MAX or (
            self.bounce_rate or 0.0
        ) > BOUNCE_MAX


@dataclass(frozen=True)
class Overview:
    start: datetime  # naive UTC, the period of the KPIs and attribution
    end: datetime
    as_of: datetime  # naive UTC, uplift windows complete by then
    rows: list[OverviewRow]
    marketing: UpliftResult | None  # all marketing against the global control group
    marketing_error: str | None  # why that comparison is missing although the group is on
    global_control_percent: float


def primary_uplift(results: list[UpliftResult]) -> UpliftResult | None:
    """The first holdout comparison with both groups, else the global control's."""
    usable = [r for r in results if r.treatment.n > 0 and r.control.n > 0]
    for kind in ("holdout", "global_control"):
        for r in usable:
            if r.kind == kind:
                return r
    return None


def _number(value: object) -> float | None:
    if value is None:
        return None
    x = float(value)  # type: ignore[arg-type]
    return None if math.isnan(x) else x


def overview(
    con: BaseBackend,
    db: Session,
    start: datetime,
    end: datetime,
    as_of: datetime,
    global_control_percent: float = 0.0,
) -> Overview:
    """Every stored scenario (naive UTC times)."""
    att = attribute(con, db, start, end)
    table = kpis(con, db, start, end, by=["scenario_key"], attribution=att).table
    table = table.dropna(subset=["scenario_key"]).set_index("scenario_key")
    credited = att.per_scenario().set_index("scenario_key")
    rows = []
    for scenario in store.list_all(db):
        try:
            d = store.load_version(store.version_row(db, scenario))
            names = (d.name_ja, d.name_en)
            uplift = primary_uplift(scenario_uplift(con, db, scenario.key, as_of))
        except ValidationError:  # stored before a change of the models
            names, uplift = (scenario.key, scenario.key), None
        k = table.loc[scenario.key] if scenario.key in table.index else pd.Series(dtype=float)
        c = credited.loc[scenario.key] if scenario.key in credited.index else None
        rows.append(
            OverviewRow(
                key=scenario.key,
                name_ja=names[0],
                name_en=names[1],
                status=scenario.status,
                sent=int(k.get("sent", 0)),
                delivered=int(k.get("delivered", 0)),
                conversions=int(c["conversions"]) if c is not None else 0,
                revenue=float(c["revenue"]) if c is not None else 0.0,
                unsubscribe_rate=_number(k.get("unsubscribe_rate")),
                bounce_rate=_number(k.get("bounce_rate")),
                uplift=uplift,
            )
        )
    marketing, error = None, None
    if global_control_percent > 0:
        try:
            marketing = marketing_uplift(con, global_control_percent, start, end)
        except ValueError as exc:
            error = str(exc)
    return Overview(start, end, as_of, rows, marketing, error, global_control_percent)


def sort_rows(rows: list[OverviewRow], sort: str, direction: str, lang: str) -> list[OverviewRow]:
    """Rows by one of SORTS; rows without a value go last either way, ties by key."""
    if sort not in SORTS:
        raise ValueError(f"sort must be one of {', '.join(SORTS)}")
    if direction not in DIRECTIONS:
        raise ValueError(f"dir must be one of {', '.join(DIRECTIONS)}")

    reverse = direction == "desc"
    by_key = sorted(rows, key=lambda r: r.key)  # ties stay in key order (sorts are stable)
    if sort in ("name", "status"):
        return sorted(
            by_key, key=lambda r: r.name(lang) if sort == "name" else r.status, reverse=reverse
        )
    values: dict[str, float | None] = {}
    for r in by_key:
        v = getattr(r, sort)
        values[r.key] = None if v is None else float(v)
    present = [r for r in by_key if values[r.key] is not None]
    missing = [r for r in by_key if values[r.key] is None]
    present.sort(key=lambda r: values[r.key] or 0.0, reverse=reverse)
    return present + missing

"""Building blocks shared by the analysis templates.

All of them are Ibis expressions. Ranking windows always carry a tie-break (order id or
customer id) so every engine numbers ties the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

import ibis
import pandas as pd
from ibis.backends import BaseBackend

from tokui.analytics.registry import Param

# Japan has no daylight saving time: the shop-local date is UTC + 9 h on every engine.
JST_HOURS = 9
JST = ibis.interval(hours=JST_HOURS)

AS_OF = Param(
    "as_of",
    "date",
    "基準日 (空欄: 最終受注日)",
    "Reference date (empty: last order date)",
)
START = Param("start", "date", "期間開始日", "Period start")
END = Param("end", "date", "期間終了日", "Period end")


def local_date(ts: ibis.Value) -> ibis.Value:
    return (ts + JST).date()


def purchases(con: BaseBackend) -> ibis.Table:
    """Completed orders of known customers, with the shop-local order date."""
    o = con.table("orders")
    o = o.filter((o.status == "completed") & o.customer_id.notnull())
    return o.mutate(order_date=local_date(o.ordered_at))


def as_of_date(con: BaseBackend, params: Mapping[str, Any]) -> date:
    """The reference date: the parameter, or the last order date in the warehouse."""
    value = params.get("as_of")
    if value is not None:
        return date.fromisoformat(str(value)) if not isinstance(value, date) else value
    last = purchases(con).order_date.max().execute()
    if last is None or pd.isna(last):
        return date(1970, 1, 1)  # an empty shop: every template returns no rows
    day: date = pd.Timestamp(last).date()
    return day


def purchases_until(con: BaseBackend, params: Mapping[str, Any]) -> tuple[ibis.Table, date]:
    ref = as_of_date(con, params)
    p = purchases(con)
    if ref >= date.max:
        return p, ref
    # The same rows as order_date <= ref, but compared on the stored column: an engine
    # then skips whole blocks by their min/max and computes no local date to filter.
    cutoff = datetime.combine(ref + timedelta(days=1), time()) - timedelta(hours=JST_HOURS)
    return p.filter(p.ordered_at < cutoff), ref


def in_period(p: ibis.Table, params: Mapping[str, Any]) -> ibis.Table:
    if params.get("start") is not None:
        p = p.filter(p.order_date >= params["start"])
    if params.get("end") is not None:
        p = p.filter(p.order_date <= params["end"])
    return p


def numbered(p: ibis.Table) -> ibis.Table:
    """Each purchase with its number in the customer's history (1 = first purchase)."""
    w = ibis.window(group_by=p.customer_id, order_by=[p.ordered_at, p.order_id])
    return p.mutate(order_no=ibis.row_number().over(w) + 1)


def days_between(later: ibis.Value, earlier: ibis.Value) -> ibis.Value:
    return later.delta(earlier, unit="day")


def month_start(d: ibis.Value) -> ibis.Value:
    return d.truncate("M")


def rounded(x: ibis.Value, digits: int = 0) -> ibis.Value:
    """x rounded half up to `digits` decimals, the same on every engine.

    SQL ROUND is not portable: PostgreSQL rounds a double half to even (9396.5 -> 9396)
    and DuckDB half away from zero (9397). floor(x * 10^d + 0.5) / 10^d is plain IEEE
    arithmetic, which every engine evaluates identically.
    """
    scale = 10**digits
    return (x.cast("float64") * scale + 0.5).floor() / scale

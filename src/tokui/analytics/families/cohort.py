"""Monthly acquisition cohorts (初回購入月別レポート).

A customer's cohort is the shop-local month of the first completed purchase. Month k of
a cohort is the calendar month k months after the cohort month (k = 0 is the
acquisition month itself). The grid holds every (cohort, k) that the reference date has
reached, with zeros, so a heatmap keeps its shape and an unobserved month is absent, not 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import ibis
from ibis.backends import BaseBackend

from tokui.analytics.base import AS_OF, month_start, numbered, purchases_until, rounded
from tokui.analytics.registry import Chart, Param, Template, register

MAX_MONTHS = Param(
    "max_months", "int", "表示する最大経過月数", "Months since acquisition to show", 12, minimum=0
)
COHORT_PARAMS = (
    Param("start", "date", "初回購入日の開始", "First purchase from"),
    Param("end", "date", "初回購入日の終了", "First purchase until"),
    AS_OF,
    MAX_MONTHS,
)


def month_index(d: ibis.Value) -> ibis.Value:
    """Months since year 0: differences of it count calendar months on every engine."""
    return d.year() * 12 + d.month() - 1


def rate(numerator: ibis.Value, denominator: ibis.Value, digits: int = 4) -> ibis.Value:
    """A ratio rounded for display; null (not an error) when the denominator is 0.

    The cast matters: PostgreSQL divides two integers (e.g. counts) as integers.
    """
    return rounded(numerator.cast("float64") / denominator.nullif(0), digits)


def first_purchases(
    con: BaseBackend, params: Mapping[str, Any]
) -> tuple[ibis.Table, ibis.Table, date]:
    """Purchases up to the reference date with each customer's first date and cohort.

    The period parameters select cohorts by first purchase date, never purchases, so a
    cohort's later months stay complete.
    """
    p, ref = purchases_until(con, params)
    first = p.group_by("customer_id").aggregate(first_date=p.order_date.min())
    if params.get("start") is not None:
        first = first.filter(first.first_date >= params["start"])
    if params.get("end") is not None:
        first = first.filter(first.first_date <= params["end"])
    first = first.mutate(
        cohort_month=month_start(first.first_date), cohort_idx=month_index(first.first_date)
    )
    j = p.inner_join(first, "customer_id")
    j = j.mutate(months_since=month_index(j.order_date) - j.cohort_idx)
    return j, first, ref


def cohort_grid(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    """Every observed (cohort, months_since) with customers, orders and revenue."""
    j, first, ref = first_purchases(con, params)
    ref_idx = month_index(ibis.literal(ref))
    sizes = first.group_by(["cohort_month", "cohort_idx"]).aggregate(
        cohort_size=first.customer_id.count()
    )
    ks = ibis.memtable({"months_since": list(range(params["max_months"] + 1))})
    grid = sizes.cross_join(ks)
    grid = grid.filter(grid.cohort_idx + grid.months_since <= ref_idx)
    # Cells past max_months fall outside the grid: leave their orders out before counting.
    j = j.filter(j.months_since <= params["max_months"])
    cells = j.group_by(["cohort_month", "months_since"]).aggregate(
        customers=j.customer_id.nunique(), orders=j.count(), revenue=j.total.sum()
    )
    g = grid.left_join(cells, ["cohort_month", "months_since"])
    g = g.select(
        "cohort_month",
        "months_since",
        "cohort_size",
        customers=g.customers.fill_null(0),
        orders=g.orders.fill_null(0),
        revenue=g.revenue.fill_null(0),
    )
    return g.mutate(retention_rate=rate(g.customers, g.cohort_size))


register(
    Template(
        id="cohort_retention",
        category="cohort",
        name_ja="初回購入月別レポート (継続率)",
        name_en="Cohort retention by first purchase month",
        description_ja="初回購入月ごとのコホートについて、経過月数ごとに購入した顧客の割合 "
        "(0ヶ月目=初回購入月)。",
        description_en="For each first-purchase month cohort, the share of customers who "
        "bought in each month since acquisition (month 0 = acquisition month).",
        build=cohort_grid,
        params=COHORT_PARAMS,
        chart=Chart("heatmap", x="months_since", y=("cohort_month",), z="retention_rate"),
        order_by=("cohort_month", "months_since"),
    )
)

register(
    Template(
        id="cohort_revenue",
        category="cohort",
        name_ja="初回購入月別レポート (売上)",
        name_en="Cohort revenue by first purchase month",
        description_ja="初回購入月ごとのコホートの経過月数別の売上・受注数・購入者数。",
        description_en="Revenue, orders and buyers of each first-purchase month cohort by "
        "month since acquisition.",
        build=cohort_grid,
        params=COHORT_PARAMS,
        chart=Chart("heatmap", x="months_since", y=("cohort_month",), z="revenue"),
        order_by=("cohort_month", "months_since"),
    )
)


def cohort_summary(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    j, _, _ = first_purchases(con, params)
    c = j.group_by(["customer_id", "cohort_month"]).aggregate(
        orders=j.order_id.count(),
        revenue=j.total.sum(),
        first_revenue=ibis.ifelse(j.order_date == j.first_date, j.total, 0).sum(),
    )
    g = c.group_by("cohort_month").aggregate(
        new_customers=c.customer_id.count(),
        first_day_revenue=c.first_revenue.sum(),
        repeat_customers=ibis.ifelse(c.orders >= 2, 1, 0).sum(),
        revenue=c.revenue.sum(),
    )
    return g.mutate(
        repeat_rate=rate(g.repeat_customers, g.new_customers),
        revenue_per_customer=rounded((g.revenue.cast("float64") / g.new_customers), 0),
    )


register(
    Template(
        id="cohort_summary",
        category="cohort",
        name_ja="初回購入月別サマリー",
        name_en="Cohort summary by first purchase month",
        description_ja="初回購入月ごとの新規顧客数・初回購入日の売上・リピート顧客数と"
        "リピート率・基準日までの累計売上と顧客単価。",
        description_en="New customers, first-day revenue, repeat customers and rate, and "
        "revenue to date per customer for each first-purchase month.",
        build=cohort_summary,
        params=COHORT_PARAMS[:3],
        chart=Chart("bar", x="cohort_month", y=("new_customers", "repeat_customers")),
        order_by=("cohort_month",),
    )
)


def _retention_by(key: str) -> Any:
    """Retention by months since acquisition, with cohorts formed by a dimension."""

    def build(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
        from tokui.analytics.dims import customer_values, with_order_dim

        j, first, ref = first_purchases(con, params)
        if key == "acquisition_channel":
            d = customer_values(con, key, ref)
        else:
            n = numbered(j.drop("first_date", "cohort_month", "cohort_idx", "months_since"))
            d = with_order_dim(con, n.filter(n.order_no == 1), key).select("customer_id", key)
        first = first.inner_join(d, "customer_id")
        j = j.inner_join(d, "customer_id")
        ref_idx = month_index(ibis.literal(ref))
        ks = ibis.memtable({"months_since": list(range(params["max_months"] + 1))})
        # A customer counts in month k only once k is observed for that customer.
        eligible = first.cross_join(ks)
        eligible = eligible.filter(eligible.cohort_idx + eligible.months_since <= ref_idx)
        base = eligible.group_by([key, "months_since"]).aggregate(
            cohort_size=eligible.customer_id.count()
        )
        cells = j.group_by([key, "months_since"]).aggregate(
            customers=j.customer_id.nunique(), revenue=j.total.sum()
        )
        g = base.left_join(cells, [key, "months_since"])
        g = g.select(
            key,
            "months_since",
            "cohort_size",
            customers=g.customers.fill_null(0),
            revenue=g.revenue.fill_null(0),
        )
        return g.mutate(retention_rate=rate(g.customers, g.cohort_size))

    return build


for _key, _ja, _en in (
    ("channel", "初回購入の受注経路", "first order channel"),
    ("acquisition_channel", "獲得経路", "acquisition channel"),
):
    register(
        Template(
            id=f"cohort_retention_by_{'first_' if _key == 'channel' else ''}{_key}",
            category="cohort",
            name_ja=f"{_ja}別 継続率 (経過月数別)",
            name_en=f"Retention by {_en} and month since acquisition",
            description_ja=f"{_ja}ごとに、初回購入月から経過月数kの月に購入した顧客の割合。"
            "分母はk月目が基準日までに来た顧客のみ。",
            description_en=f"Per {_en}, the share of customers who bought in month k after "
            "their acquisition month; the denominator counts only customers for whom month "
            "k has been reached.",
            build=_retention_by(_key),
            params=COHORT_PARAMS,
            chart=Chart("line", x="months_since", y=("retention_rate",), color=_key),
            order_by=(_key, "months_since"),
        )
    )


def cumulative_repeat(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    """Share of each cohort with a second purchase in or before month k."""
    j, first, ref = first_purchases(con, params)
    n = numbered(j)
    second = n.filter(n.order_no == 2).select("customer_id", second_k="months_since")
    c = first.left_join(second, "customer_id")
    ks = ibis.memtable({"months_since": list(range(params["max_months"] + 1))})
    g = c.cross_join(ks)
    g = g.filter(g.cohort_idx + g.months_since <= month_index(ibis.literal(ref)))
    done = g.second_k.notnull() & (g.second_k <= g.months_since)
    out = g.group_by(["cohort_month", "months_since"]).aggregate(
        cohort_size=g.customer_id.count(), repeaters=ibis.ifelse(done, 1, 0).sum()
    )
    return out.mutate(cumulative_repeat_rate=rate(out.repeaters, out.cohort_size))


register(
    Template(
        id="cohort_cumulative_repeat",
        category="cohort",
        name_ja="初回購入月別 累積リピート率",
        name_en="Cumulative repeat rate by cohort",
        description_ja="初回購入月コホートごとに、経過月数kまでに2回目を購入した顧客の累積割合。",
        description_en="For each first-purchase month cohort, the cumulative share of "
        "customers who made a second purchase by month k since acquisition.",
        build=cumulative_repeat,
        params=COHORT_PARAMS,
        chart=Chart("line", x="months_since", y=("cumulative_repeat_rate",), color="cohort_month"),
        order_by=("cohort_month", "months_since"),
    )
)

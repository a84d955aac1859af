"""Customer lifetime value (LTV).

The LTV curve is cumulative revenue per acquired customer by months since the first
purchase, per first-purchase month cohort. LTV by channel, first category or first
product is the revenue a customer brought within `horizon_days` of the first purchase;
the *_matured columns count only customers whose horizon has fully passed by the
reference date, the fair figure to compare (younger customers understate it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ibis
from ibis.backends import BaseBackend

from tokui.analytics.base import days_between
from tokui.analytics.families.cohort import COHORT_PARAMS, cohort_grid, first_purchases, rate
from tokui.analytics.families.products import lines, main_of_order
from tokui.analytics.registry import Chart, Param, Template, register

UNKNOWN = "(不明)"


def ltv_curve(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    g = cohort_grid(con, params)
    w = ibis.window(group_by=g.cohort_month, order_by=g.months_since, rows=(None, 0))
    g = g.mutate(cumulative_revenue=g.revenue.sum().over(w))
    return g.select(
        "cohort_month",
        "months_since",
        "cohort_size",
        "revenue",
        "cumulative_revenue",
        ltv=(g.cumulative_revenue.cast("float64") / g.cohort_size).round(0),
    )


register(
    Template(
        id="ltv_curve",
        category="cohort",
        name_ja="LTV推移 (初回購入月別・経過月数別の累計売上/人)",
        name_en="LTV curve by acquisition cohort",
        description_ja="初回購入月コホートごとに、経過月数までの累計売上をコホート人数で"
        "割った1人あたりLTV。",
        description_en="Cumulative revenue per acquired customer by months since the first "
        "purchase, for each first-purchase month cohort.",
        build=ltv_curve,
        params=(
            *COHORT_PARAMS[:3],
            Param(
                "max_months",
                "int",
                "表示する最大経過月数",
                "Months since acquisition to show",
                24,
                minimum=0,
            ),
        ),
        chart=Chart("line", x="months_since", y=("ltv",), color="cohort_month"),
        order_by=("cohort_month", "months_since"),
    )
)

HORIZON = Param(
    "horizon_days", "int", "LTVの期間 (初回からの日数)", "LTV horizon (days)", 365, minimum=1
)


def _customer_ltv(con: BaseBackend, params: Mapping[str, Any]) -> tuple[ibis.Table, ibis.Table]:
    j, _, ref = first_purchases(con, params)
    j = j.filter(days_between(j.order_date, j.first_date) <= params["horizon_days"])
    c = j.group_by(["customer_id", "first_date"]).aggregate(
        revenue=j.total.sum(), orders=j.order_id.count()
    )
    c = c.mutate(
        matured=ibis.ifelse(
            days_between(ibis.literal(ref), c.first_date) >= params["horizon_days"], 1, 0
        )
    )
    return c, j


def _summarise(c: ibis.Table, key: str) -> ibis.Table:
    g = c.group_by(key).aggregate(
        customers=c.customer_id.count(),
        revenue=c.revenue.sum(),
        orders=c.orders.sum(),
        matured_customers=c.matured.sum(),
        matured_revenue=ibis.ifelse(c.matured == 1, c.revenue, 0).sum(),
    )
    return g.select(
        key,
        "customers",
        "revenue",
        ltv=rate(g.revenue, g.customers, 0),
        orders_per_customer=rate(g.orders, g.customers, 2),
        matured_customers=g.matured_customers,
        ltv_matured=rate(g.matured_revenue, g.matured_customers, 0),
    )


def ltv_by_channel(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    c, _ = _customer_ltv(con, params)
    cust = con.table("customers").select("customer_id", "acquisition_channel")
    c = c.left_join(cust, "customer_id")
    c = c.mutate(channel=c.acquisition_channel.fill_null(UNKNOWN))
    return _summarise(c, "channel")


def _by_first(level: str) -> Any:
    key = {"product": "product_id", "category": "category"}[level]

    def build(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
        c, j = _customer_ltv(con, params)
        first_orders = j.filter(j.order_date == j.first_date)
        main = main_of_order(lines(con, first_orders.drop("first_date")), key)
        # The first order of the day is the first purchase; ties by time, then order id.
        w = ibis.window(
            group_by=first_orders.customer_id,
            order_by=[first_orders.ordered_at, first_orders.order_id],
        )
        fo = first_orders.mutate(rn=ibis.row_number().over(w))
        fo = fo.filter(fo.rn == 0).select("customer_id", "order_id")
        m = fo.inner_join(main, "order_id").select("customer_id", first_item="main")
        c = c.inner_join(m, "customer_id").rename({key: "first_item"})
        return _summarise(c, key)

    return build


LTV_PARAMS = (*COHORT_PARAMS[:3], HORIZON)
for _id, _ja, _en, _build, _key in (
    ("ltv_by_channel", "獲得経路", "acquisition channel", ltv_by_channel, "channel"),
    (
        "ltv_by_first_category",
        "初回購入カテゴリ",
        "first category",
        _by_first("category"),
        "category",
    ),
    ("ltv_by_first_product", "初回購入商品", "first product", _by_first("product"), "product_id"),
):
    register(
        Template(
            id=_id,
            category="cohort",
            name_ja=f"{_ja}別LTV",
            name_en=f"LTV by {_en}",
            description_ja=f"{_ja}ごとの顧客数と、初回購入から指定日数 (既定365日) 以内の"
            "1人あたり売上 (LTV)。ltv_matured は期間が経過済みの顧客のみ。",
            description_en=f"Customers and revenue per customer within the horizon (default "
            f"365 days) from the first purchase, by {_en}; ltv_matured counts only customers "
            "whose horizon has passed.",
            build=_build,
            params=LTV_PARAMS,
            chart=Chart("bar", x=_key, y=("ltv",)),
            order_by=("customers desc", _key),
        )
    )

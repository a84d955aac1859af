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

from tokui.analytics.base import days_between, numbered, purchases_until, rounded
from tokui.analytics.dims import (
    CUSTOMER_DIMS,
    ORDER_DIMS,
    by_ja,
    customer_values,
    with_order_dim,
)
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
        ltv=rounded((g.cumulative_revenue.cast("float64") / g.cohort_size), 0),
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
            name_ja=f"{by_ja(_ja)}LTV",
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


def _first_order_dims(con: BaseBackend, params: Mapping[str, Any], key: str) -> ibis.Table:
    """customer_id and the `key` value of the customer's first purchase (or record)."""
    p, ref = purchases_until(con, params)
    if key in CUSTOMER_DIMS:
        return customer_values(con, key, ref)
    n = numbered(p)
    first = with_order_dim(con, n.filter(n.order_no == 1), key)
    return first.select("customer_id", key)


def _ltv_by_dim(key: str, column: str) -> Any:
    def build(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
        c, _ = _customer_ltv(con, params)
        d = _first_order_dims(con, params, key).rename({column: key})
        return _summarise(c.inner_join(d, "customer_id"), column)

    return build


for _key, _column in (
    ("month", "first_month"),
    ("channel", "first_channel"),
    ("payment_method", "first_payment_method"),
    ("coupon", "first_coupon"),
    ("order_type", "first_order_type"),
    ("gender", "gender"),
    ("age_band", "age_band"),
):
    _dim = ORDER_DIMS.get(_key) or CUSTOMER_DIMS[_key]
    _first = _dim.level != "customer"
    _ja = ("初回購入" if _key == "month" else "初回の") + _dim.ja if _first else _dim.ja
    _en = f"first order {_dim.en}" if _first else _dim.en
    register(
        Template(
            id=f"ltv_by_{_column}",
            category="cohort",
            name_ja=f"{by_ja(_ja)}LTV",
            name_en=f"LTV by {_en}",
            description_ja=f"{_ja}ごとの顧客数と、初回購入から指定日数 (既定365日) 以内の"
            "1人あたり売上 (LTV)。ltv_matured は期間が経過済みの顧客のみ。",
            description_en=f"Customers and revenue per customer within the horizon (default "
            f"365 days) from the first purchase, by {_en}; ltv_matured counts only "
            "customers whose horizon has passed.",
            build=_ltv_by_dim(_key, _column),
            params=LTV_PARAMS,
            chart=Chart("bar", x=_column, y=("ltv",)),
            order_by=(_column,) if _key in ("month", "age_band") else ("customers desc", _column),
        )
    )

SHORT = 365  # 12 months
LONG = 730  # 24 months


def _two_horizons(key: str, column: str) -> Any:
    def build(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
        j, _, ref = first_purchases(con, params)
        age = days_between(ibis.literal(ref), j.first_date)
        since = days_between(j.order_date, j.first_date)
        c = j.group_by(["customer_id", "first_date"]).aggregate(
            revenue_12m=ibis.ifelse(since < SHORT, j.total, 0).sum(),
            revenue_24m=ibis.ifelse(since < LONG, j.total, 0).sum(),
            age_days=age.max(),
        )
        if key == "product_id" or key == "category":
            d = _first_main(con, params, key)
        else:
            d = _first_order_dims(con, params, key)
        c = c.inner_join(d.rename({column: key}), "customer_id")
        m12 = c.age_days >= SHORT
        m24 = c.age_days >= LONG
        g = c.group_by(column).aggregate(
            customers=c.customer_id.count(),
            customers_12m=ibis.ifelse(m12, 1, 0).sum(),
            revenue_12m=ibis.ifelse(m12, c.revenue_12m, 0).sum(),
            customers_24m=ibis.ifelse(m24, 1, 0).sum(),
            revenue_24m=ibis.ifelse(m24, c.revenue_24m, 0).sum(),
        )
        return g.select(
            column,
            "customers",
            "customers_12m",
            ltv_12m=rate(g.revenue_12m, g.customers_12m, 0),
            customers_24m=g.customers_24m,
            ltv_24m=rate(g.revenue_24m, g.customers_24m, 0),
        )

    return build


def _first_main(con: BaseBackend, params: Mapping[str, Any], key: str) -> ibis.Table:
    """The main product or category (largest amount) of each customer's first order."""
    p, _ = purchases_until(con, params)
    n = numbered(p)
    first = n.filter(n.order_no == 1)
    m = main_of_order(lines(con, first), key)
    j = first.inner_join(m, "order_id")
    return j.select("customer_id", **{key: j.main})


for _key, _column, _ja, _en in (
    ("month", "first_month", "初回購入月", "acquisition month"),
    ("acquisition_channel", "acquisition_channel", "獲得経路", "acquisition channel"),
    ("category", "first_category", "初回購入のメインカテゴリ", "first main category"),
    ("product_id", "first_product", "初回購入のメイン商品", "first main product"),
):
    register(
        Template(
            id=f"ltv_12_24_by_{_column}",
            category="cohort",
            name_ja=f"12ヶ月・24ヶ月LTV ({_ja}別)",
            name_en=f"12- and 24-month LTV by {_en}",
            description_ja=f"{_ja}ごとに、初回購入から12ヶ月 (365日) と24ヶ月 (730日) の"
            "1人あたり売上。それぞれ期間が経過済みの顧客だけで計算する。",
            description_en=f"Revenue per customer in the first 12 months (365 days) and 24 "
            f"months (730 days) from the first purchase, by {_en}; each counts only "
            "customers whose window has fully passed.",
            build=_two_horizons(_key, _column),
            params=COHORT_PARAMS[:3],
            chart=Chart("bar", x=_column, y=("ltv_12m", "ltv_24m")),
            order_by=(_column,) if _key == "month" else ("customers desc", _column),
        )
    )

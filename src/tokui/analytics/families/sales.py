"""Sales by customer and decile analysis."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ibis
from ibis.backends import BaseBackend

from tokui.analytics.base import AS_OF, END, START, in_period, purchases_until
from tokui.analytics.registry import Chart, Param, Template, register


def customer_sales(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    p, _ = purchases_until(con, params)
    p = in_period(p, params)
    return p.group_by("customer_id").aggregate(
        orders=p.order_id.count(),
        revenue=p.total.sum(),
        first_order=p.order_date.min(),
        last_order=p.order_date.max(),
        average_order_value=p.total.mean().round(0),
    )


register(
    Template(
        id="sales_by_customer",
        category="sales",
        name_ja="顧客別売上分析",
        name_en="Sales by customer",
        description_ja="期間内の顧客ごとの受注回数・売上・初回/最終購入日・平均単価。",
        description_en="Orders, revenue, first and last order and average order value "
        "per customer in the period.",
        build=customer_sales,
        params=(START, END, AS_OF),
        chart=Chart("table"),
        order_by=("revenue desc", "customer_id"),
    )
)


def decile(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    """Customers split into ten equal groups by revenue (decile 1 = the top tenth)."""
    c = customer_sales(con, params)
    w = ibis.window(order_by=[ibis.desc(c.revenue), c.customer_id])
    c = c.mutate(decile=ibis.ntile(params["groups"]).over(w) + 1)
    total = c.revenue.sum().as_scalar()
    g = c.group_by("decile").aggregate(
        customers=c.customer_id.count(),
        revenue=c.revenue.sum(),
        orders=c.orders.sum(),
        min_revenue=c.revenue.min(),
        max_revenue=c.revenue.max(),
    )
    g = g.mutate(revenue_share=(g.revenue / total).round(4))
    cum = ibis.window(order_by=g.decile, rows=(None, 0))
    return g.mutate(cumulative_share=(g.revenue.sum().over(cum) / total).round(4))


register(
    Template(
        id="decile",
        category="sales",
        name_ja="デシル分析",
        name_en="Decile analysis",
        description_ja="購入金額順に顧客を10等分し、各グループの売上構成比と累積構成比を見る。",
        description_en="Customers in ten equal groups by revenue, with each group's share "
        "and the cumulative share.",
        build=decile,
        params=(
            START,
            END,
            AS_OF,
            Param("groups", "int", "分割数", "Number of groups", 10, minimum=2),
        ),
        chart=Chart("bar", x="decile", y=("revenue",)),
        order_by=("decile",),
    )
)

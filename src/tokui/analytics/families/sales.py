"""Sales by customer and decile analysis."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ibis
from ibis.backends import BaseBackend

from tokui.analytics.base import (
    AS_OF,
    END,
    START,
    days_between,
    in_period,
    month_start,
    numbered,
    purchases_until,
    rounded,
)
from tokui.analytics.dims import (
    CUSTOMER_DIMS,
    ORDER_DIMS,
    by_ja,
    customer_values,
    with_order_dim,
)
from tokui.analytics.registry import Chart, Param, Template, register


def customer_sales(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    p, _ = purchases_until(con, params)
    p = in_period(p, params)
    return p.group_by("customer_id").aggregate(
        orders=p.order_id.count(),
        revenue=p.total.sum(),
        first_order=p.order_date.min(),
        last_order=p.order_date.max(),
        average_order_value=rounded(p.total.mean(), 0),
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
    g = g.mutate(revenue_share=rounded((g.revenue / total), 4))
    cum = ibis.window(order_by=g.decile, rows=(None, 0))
    return g.mutate(cumulative_share=rounded((g.revenue.sum().over(cum) / total), 4))


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


def _share(g: ibis.Table, col: str) -> ibis.Value:
    return rounded((g[col].cast("float64") / g[col].sum().over(ibis.window()).nullif(0)), 4)


def _sales_by(key: str) -> Any:
    def build(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
        p, ref = purchases_until(con, params)
        p = in_period(p, params)
        if key in ORDER_DIMS:
            p = with_order_dim(con, p, key)
        else:
            p = p.inner_join(customer_values(con, key, ref), "customer_id")
        g = p.group_by(key).aggregate(
            orders=p.order_id.count(), customers=p.customer_id.nunique(), revenue=p.total.sum()
        )
        return g.mutate(
            average_order_value=rounded((g.revenue.cast("float64") / g.orders), 0),
            revenue_share=_share(g, "revenue"),
        )

    return build


# Keys whose values have a natural order (time, bands) keep it; the rest rank by revenue.
_ORDERED_KEYS = ("weekday", "hour", "month", "value_band", "age_band")
for _key in (
    "month",
    "channel",
    "payment_method",
    "shipping_prefecture",
    "weekday",
    "hour",
    "coupon",
    "gift",
    "order_type",
    "value_band",
    "acquisition_channel",
    "gender",
    "age_band",
    "prefecture",
):
    _dim = ORDER_DIMS.get(_key) or CUSTOMER_DIMS[_key]
    _of = "" if _dim.ja.startswith("受注") else ("受注の" if _dim.level == "order" else "顧客の")
    register(
        Template(
            id=f"sales_by_{_key}",
            category="sales",
            name_ja=f"{by_ja(_dim.ja)}売上",
            name_en=f"Sales by {_dim.en}",
            description_ja=f"期間内の完了受注を{_of}{_dim.ja}で分け、受注数・購入者数・売上・"
            "平均単価・売上構成比を見る。",
            description_en=f"Completed orders in the period split by the "
            f"{'order' if _dim.level == 'order' else 'customer'}'s {_dim.en}: orders, "
            "buyers, revenue, average order value and revenue share.",
            build=_sales_by(_key),
            params=(START, END, AS_OF),
            chart=Chart("line" if _key == "month" else "bar", x=_key, y=("revenue",)),
            order_by=(_key,) if _key in _ORDERED_KEYS else ("revenue desc", _key),
        )
    )


def new_repeat_monthly(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    """Each month's orders split by whether they were the customer's first purchase."""
    p, _ = purchases_until(con, params)
    n = numbered(p)
    n = in_period(n, params)
    n = n.mutate(month=month_start(n.order_date), new=n.order_no == 1)
    g = n.group_by("month").aggregate(
        customers=n.customer_id.nunique(),
        new_customers=ibis.ifelse(n.new, 1, 0).sum(),
        new_revenue=ibis.ifelse(n.new, n.total, 0).sum(),
        repeat_orders=ibis.ifelse(n.new, 0, 1).sum(),
        repeat_revenue=ibis.ifelse(n.new, 0, n.total).sum(),
    )
    return g.mutate(
        revenue=g.new_revenue + g.repeat_revenue,
        repeat_revenue_share=rounded(
            (g.repeat_revenue.cast("float64") / (g.new_revenue + g.repeat_revenue).nullif(0)), 4
        ),
    )


register(
    Template(
        id="sales_new_repeat_monthly",
        category="sales",
        name_ja="新規・リピート別売上 (月別)",
        name_en="New and repeat revenue by month",
        description_ja="月ごとの購入者数、新規顧客数 (その月に初回購入) と初回受注の売上、"
        "2回目以降の受注数・売上とリピート売上比率。",
        description_en="Per month: buyers, new customers (first purchase that month) and "
        "their first-order revenue, repeat orders and revenue, and the repeat share.",
        build=new_repeat_monthly,
        params=(START, END, AS_OF),
        chart=Chart("bar", x="month", y=("new_revenue", "repeat_revenue")),
        order_by=("month",),
    )
)

WINDOW_DAYS = Param("days", "int", "初期/直近の日数", "Days of each window", 90, minimum=1)


def initial_recent(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    """Revenue in the first N days from the first purchase (day 0 to N-1) and in the
    last N days up to the reference date (ref - N + 1 to ref)."""
    p, ref = purchases_until(con, params)
    first = p.group_by("customer_id").aggregate(first_order=p.order_date.min())
    j = p.inner_join(first, "customer_id")
    n = params["days"]
    initial = days_between(j.order_date, j.first_order) < n
    recent = days_between(ibis.literal(ref), j.order_date) < n
    c = j.group_by(["customer_id", "first_order"]).aggregate(
        orders=j.order_id.count(),
        revenue=j.total.sum(),
        initial_orders=ibis.ifelse(initial, 1, 0).sum(),
        initial_revenue=ibis.ifelse(initial, j.total, 0).sum(),
        recent_orders=ibis.ifelse(recent, 1, 0).sum(),
        recent_revenue=ibis.ifelse(recent, j.total, 0).sum(),
    )
    return c.mutate(
        trend=ibis.cases(
            (c.recent_revenue > c.initial_revenue, "up"),
            (c.recent_revenue < c.initial_revenue, "down"),
            else_="flat",
        )
    )


register(
    Template(
        id="customer_initial_recent_sales",
        category="sales",
        name_ja="顧客別初期/直近売上分析",
        name_en="Initial and recent sales by customer",
        description_ja="顧客ごとに、初回購入からN日間 (初期) と基準日までの直近N日間の受注数・"
        "売上を並べ、増減 (up/down/flat) を示す。既定90日。",
        description_en="Per customer, orders and revenue in the first N days from the first "
        "purchase and in the last N days to the reference date, with the trend.",
        build=initial_recent,
        params=(AS_OF, WINDOW_DAYS),
        chart=Chart("scatter", x="initial_revenue", y=("recent_revenue",), color="trend"),
        order_by=("customer_id",),
    )
)


def pyramid_by_rank(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    p, ref = purchases_until(con, params)
    p = in_period(p, params)
    spend = p.group_by("customer_id").aggregate(orders=p.order_id.count(), revenue=p.total.sum())
    c = customer_values(con, "rank", ref).left_join(spend, "customer_id")
    g = c.group_by("rank").aggregate(
        members=c.customer_id.count(),
        buyers=c.orders.count(),
        orders=c.orders.sum().fill_null(0),
        revenue=c.revenue.sum().fill_null(0),
    )
    return g.mutate(
        member_share=_share(g, "members"),
        revenue_share=_share(g, "revenue"),
        revenue_per_member=rounded((g.revenue.cast("float64") / g.members), 0),
    )


register(
    Template(
        id="customer_pyramid_rank",
        category="sales",
        name_ja="顧客ピラミッド (会員ランク別)",
        name_en="Customer pyramid by membership rank",
        description_ja="会員ランクごとの会員数、期間内の購入者数・受注数・売上、会員数と売上の"
        "構成比、会員1人あたり売上。ランクは顧客マスタの会員ランク。",
        description_en="Members per membership rank with buyers, orders and revenue in the "
        "period, member and revenue shares, and revenue per member.",
        build=pyramid_by_rank,
        params=(START, END, AS_OF),
        chart=Chart("bar", x="rank", y=("members",)),
        order_by=("revenue_per_member desc", "rank"),
    )
)


def pyramid_by_revenue(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    """Buyers ranked by revenue (ties by customer id) and cut at top-percent bounds."""
    c = customer_sales(con, params)
    w = ibis.window(order_by=[ibis.desc(c.revenue), c.customer_id])
    c = c.mutate(pos=ibis.row_number().over(w) + 1, n=c.customer_id.count().over(ibis.window()))
    bounds = params["tiers"]
    labels, low = [], 0
    for b in bounds:
        labels.append(f"{low}-{b}%")
        low = b
    labels.append(f"{low}-100%")
    # Position p is in the top b% when p <= ceil(n * b / 100), so a tier is never empty
    # for lack of rounding when there are fewer buyers than tiers need.
    tier = ibis.cases(
        *[(c.pos <= (c.n * b / 100).ceil(), i) for i, b in enumerate(bounds)],
        else_=len(bounds),
    )
    c = c.mutate(tier_order=tier)
    g = c.group_by("tier_order").aggregate(
        customers=c.customer_id.count(),
        revenue=c.revenue.sum(),
        min_revenue=c.revenue.min(),
    )
    frame = ibis.memtable({"tier_order": list(range(len(labels))), "tier": labels})
    j = frame.left_join(g, "tier_order")
    j = j.select(
        "tier_order",
        "tier",
        customers=j.customers.fill_null(0),
        revenue=j.revenue.fill_null(0),
        min_revenue=j.min_revenue.cast("int64"),
    )
    return j.mutate(revenue_share=_share(j, "revenue"))


register(
    Template(
        id="customer_pyramid_revenue",
        category="sales",
        name_ja="顧客ピラミッド (売上上位%別)",
        name_en="Customer pyramid by revenue percentile",
        description_ja="期間内の購入者を売上順に上位1%・5%・20%・50%・残りに分け、"
        "層ごとの人数・売上・売上構成比と層に入る最低売上を見る。",
        description_en="Buyers in the period ranked by revenue and cut into the top 1%, "
        "5%, 20%, 50% and the rest: customers, revenue, share and the entry revenue.",
        build=pyramid_by_revenue,
        params=(
            START,
            END,
            AS_OF,
            Param(
                "tiers",
                "int_list",
                "層の上限 (上位%, 昇順)",
                "Tier bounds (top percent, increasing)",
                (1, 5, 20, 50),
                minimum=1,
            ),
        ),
        chart=Chart("bar", x="tier", y=("revenue_share",)),
        order_by=("tier_order",),
    )
)

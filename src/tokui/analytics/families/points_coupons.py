"""Points and coupons: monthly point flows and coupon redemption.

Point transactions are signed (earned positive, used and expired negative); the report
shows each flow as a positive amount and the outstanding balance at each month end,
counted over all history up to the reference date, not only the period shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ibis
from ibis.backends import BaseBackend

from tokui.analytics.base import AS_OF, END, START, as_of_date, local_date, month_start, purchases
from tokui.analytics.families.cohort import rate
from tokui.analytics.registry import Chart, Param, Template, register


def points_monthly(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    ref = as_of_date(con, params)
    t = con.table("point_transactions")
    t = t.mutate(day=local_date(t.occurred_at))
    t = t.filter(t.day <= ref).mutate(month=month_start(t.day))

    def flow(kind: str) -> ibis.Value:
        return ibis.ifelse(t.kind == kind, t.points, 0).sum()

    g = t.group_by("month").aggregate(
        earned=flow("earn"),
        used=-flow("use"),
        expired=-flow("expire"),
        adjusted=flow("adjust"),
        net=t.points.sum(),
        customers=t.customer_id.nunique(),
    )
    g = g.mutate(balance=g.net.sum().over(ibis.window(order_by=g.month, rows=(None, 0))))
    g = g.mutate(usage_rate=rate(g.used, g.earned))
    if params.get("start") is not None:
        g = g.filter(g.month >= month_start(ibis.literal(params["start"])))
    if params.get("end") is not None:
        g = g.filter(g.month <= params["end"])
    return g


register(
    Template(
        id="points_monthly",
        category="points",
        name_ja="ポイント付与・利用・失効 (月別)",
        name_en="Points earned, used and expired by month",
        description_ja="月ごとの付与・利用・失効・調整ポイント、純増減、月末の未使用残高と"
        "利用率 (利用 ÷ 付与)。",
        description_en="Points earned, used, expired and adjusted per month, the net change, "
        "the outstanding balance at month end and usage (used / earned).",
        build=points_monthly,
        params=(START, END, AS_OF),
        chart=Chart("bar", x="month", y=("earned", "used", "expired")),
        order_by=("month",),
    )
)


def coupon_redemption(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    ref = as_of_date(con, params)
    gr = con.table("coupon_grants")
    gr = gr.mutate(granted_on=local_date(gr.granted_at), used_on=local_date(gr.used_at))
    gr = gr.filter(gr.granted_on <= ref)
    if params.get("start") is not None:
        gr = gr.filter(gr.granted_on >= params["start"])
    if params.get("end") is not None:
        gr = gr.filter(gr.granted_on <= params["end"])
    used = gr.used_on.notnull() & (gr.used_on <= ref)
    gr = gr.mutate(used=ibis.ifelse(used, 1, 0), used_order=ibis.ifelse(used, gr.order_id, None))
    o = purchases(con).select(used_order="order_id", total="total", discount="discount")
    j = gr.left_join(o, "used_order")
    g = j.group_by("coupon_id").aggregate(
        granted=j.grant_id.count(),
        customers=j.customer_id.nunique(),
        used=j.used.sum(),
        orders=j.total.count(),
        revenue=j.total.sum().fill_null(0),
        discount=j.discount.sum().fill_null(0),
    )
    c = con.table("coupons").select("coupon_id", "name", "discount_type")
    g = g.left_join(c, "coupon_id")
    return g.select(
        "coupon_id",
        "name",
        "discount_type",
        "granted",
        "customers",
        "used",
        redemption_rate=rate(g.used, g.granted),
        orders=g.orders,
        revenue=g.revenue,
        discount=g.discount,
    )


register(
    Template(
        id="coupon_redemption",
        category="points",
        name_ja="クーポン利用率 (クーポン別)",
        name_en="Coupon redemption by coupon",
        description_ja="期間内に付与したクーポンごとの付与数・利用数・利用率と、利用された"
        "受注 (完了分) の売上・値引き額。",
        description_en="Per coupon granted in the period: grants, redemptions, redemption "
        "rate, and revenue and discount of the completed orders that used it.",
        build=coupon_redemption,
        params=(START, END, AS_OF),
        chart=Chart("bar", x="coupon_id", y=("redemption_rate",)),
        order_by=("coupon_id",),
    )
)


def balance_distribution(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    from tokui.analytics.families.repeat import bucketed

    ref = as_of_date(con, params)
    t = con.table("point_transactions")
    t = t.filter(local_date(t.occurred_at) <= ref)
    b = t.group_by("customer_id").aggregate(balance=t.points.sum())
    b = b.filter(b.balance > 0)
    return bucketed(b, "balance", params["buckets"])


register(
    Template(
        id="points_balance_distribution",
        category="points",
        name_ja="ポイント残高の分布",
        name_en="Point balance distribution",
        description_ja="基準日時点でポイント残高がある顧客の、残高帯ごとの人数・構成比・累積構成比。",
        description_en="Customers holding points on the reference date by balance band, "
        "with share and cumulative share.",
        build=balance_distribution,
        params=(
            AS_OF,
            Param(
                "buckets",
                "int_list",
                "残高の区切り (昇順)",
                "Balance band bounds (increasing)",
                (99, 499, 999, 4999),
                minimum=0,
            ),
        ),
        chart=Chart("bar", x="bucket", y=("count",)),
        order_by=("bucket_order",),
    )
)


def coupon_monthly(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    ref = as_of_date(con, params)
    gr = con.table("coupon_grants")
    gr = gr.mutate(granted_on=local_date(gr.granted_at), used_on=local_date(gr.used_at))
    gr = gr.filter(gr.granted_on <= ref)
    if params.get("start") is not None:
        gr = gr.filter(gr.granted_on >= params["start"])
    if params.get("end") is not None:
        gr = gr.filter(gr.granted_on <= params["end"])
    used = gr.used_on.notnull() & (gr.used_on <= ref)
    gap = gr.used_on.delta(gr.granted_on, unit="day")
    gr = gr.mutate(
        month=month_start(gr.granted_on),
        used=ibis.ifelse(used, 1, 0),
        days_to_use=ibis.ifelse(used, gap, None),
    )
    g = gr.group_by("month").aggregate(
        granted=gr.grant_id.count(),
        used=gr.used.sum(),
        median_days_to_use=gr.days_to_use.median().cast("float64"),
    )
    return g.mutate(redemption_rate=rate(g.used, g.granted))


register(
    Template(
        id="coupon_monthly",
        category="points",
        name_ja="クーポン付与・利用 (付与月別)",
        name_en="Coupon grants and redemptions by month",
        description_ja="付与月ごとのクーポン付与数・基準日までの利用数・利用率と、付与から"
        "利用までの日数の中央値。",
        description_en="Per grant month: coupons granted, redeemed by the reference date, "
        "the redemption rate and the median days from grant to use.",
        build=coupon_monthly,
        params=(START, END, AS_OF),
        chart=Chart("bar", x="month", y=("granted", "used")),
        order_by=("month",),
    )
)


def point_users_repeat(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    """Repeat rate of customers who have and have not used points."""
    ref = as_of_date(con, params)
    p = purchases(con)
    p = p.filter(p.order_date <= ref)
    c = p.group_by("customer_id").aggregate(orders=p.order_id.count(), revenue=p.total.sum())
    t = con.table("point_transactions")
    t = t.filter((t.kind == "use") & (local_date(t.occurred_at) <= ref))
    users = t.select(user="customer_id").distinct()
    j = c.left_join(users, c.customer_id == users.user)
    j = j.mutate(point_use=ibis.ifelse(j.user.notnull(), "used", "never_used"))
    g = j.group_by("point_use").aggregate(
        customers=j.customer_id.count(),
        repeat_customers=ibis.ifelse(j.orders >= 2, 1, 0).sum(),
        orders=j.orders.sum(),
        revenue=j.revenue.sum(),
    )
    return g.mutate(
        repeat_rate=rate(g.repeat_customers, g.customers),
        orders_per_customer=rate(g.orders, g.customers, 2),
        revenue_per_customer=rate(g.revenue, g.customers, 0),
    )


register(
    Template(
        id="point_use_repeat",
        category="points",
        name_ja="ポイント利用有無別 リピート率・顧客単価",
        name_en="Repeat rate by point use",
        description_ja="基準日までにポイントを使ったことがある顧客と無い顧客の、リピート率 "
        "(2回以上購入)・1人あたり受注数・1人あたり売上。",
        description_en="Customers who have and have not used points by the reference "
        "date: repeat rate (two or more orders), orders and revenue per customer.",
        build=point_users_repeat,
        params=(AS_OF,),
        chart=Chart("bar", x="point_use", y=("repeat_rate",)),
        order_by=("point_use",),
    )
)

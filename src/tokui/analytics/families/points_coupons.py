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
from tokui.analytics.registry import Chart, Template, register


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
        category="lifecycle",
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
        category="sales",
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

"""Gifts and seasons: お中元 / お歳暮 buyers and gift orders by month.

A gift purchase is a completed order shipped as a gift (orders.is_gift) or holding a
gift item (products.is_gift). The seasons are the customary ones in Japan: お中元 from
June to August, お歳暮 from November to December (months are shop-local).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ibis
from ibis.backends import BaseBackend

from tokui.analytics.base import AS_OF, END, START, in_period, month_start, purchases_until
from tokui.analytics.families.cohort import rate
from tokui.analytics.registry import Chart, Param, Template, register

SEASONS: dict[str, tuple[int, ...]] = {"ochugen": (6, 7, 8), "oseibo": (11, 12)}
SEASON = Param(
    "season",
    "choice",
    "季節 (ochugen: お中元 6-8月, oseibo: お歳暮 11-12月)",
    "Season (ochugen: June-August, oseibo: November-December)",
    "oseibo",
    choices=tuple(SEASONS),
)


def gift_orders(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    """Purchases up to the reference date flagged gift (shipping or a gift item)."""
    p, _ = purchases_until(con, params)
    items = con.table("order_items")
    products = con.table("products").filter(lambda t: t.is_gift).select("product_id")
    gift_lines = items.inner_join(products, "product_id").select("order_id").distinct()
    gift_lines = gift_lines.mutate(has_gift_item=1)
    j = p.left_join(gift_lines, "order_id").drop("order_id_right")
    return j.mutate(is_gift_purchase=j.is_gift | j.has_gift_item.notnull())


def seasonal_buyers(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    g = gift_orders(con, params)
    g = g.filter(g.is_gift_purchase & g.order_date.month().isin(SEASONS[params["season"]]))
    g = g.mutate(year=g.order_date.year())
    per = g.group_by(["year", "customer_id"]).aggregate(
        orders=g.order_id.count(), revenue=g.total.sum()
    )
    prev = per.select(prev_year="year", prev_customer="customer_id")
    j = per.left_join(
        prev, (per.customer_id == prev.prev_customer) & (per.year == prev.prev_year + 1)
    )
    y = j.group_by("year").aggregate(
        buyers=j.customer_id.count(),
        returning_buyers=j.prev_customer.count(),
        orders=j.orders.sum(),
        revenue=j.revenue.sum(),
    )
    last = per.group_by("year").aggregate(last_year_buyers=per.customer_id.count())
    last = last.select(year=last.year + 1, last_year_buyers=last.last_year_buyers)
    y = y.left_join(last, "year").drop("year_right")
    return y.mutate(
        last_year_buyers=y.last_year_buyers.fill_null(0),
        retention_from_last_year=rate(y.returning_buyers, y.last_year_buyers),
        revenue_per_buyer=rate(y.revenue, y.buyers, 0),
    )


register(
    Template(
        id="seasonal_gift_buyers",
        category="gift",
        name_ja="季節ギフト購入者 (お中元・お歳暮)",
        name_en="Seasonal gift buyers",
        description_ja="年ごとのお中元 (6-8月) またはお歳暮 (11-12月) のギフト購入者数・受注数・"
        "売上と、前年の同じ季節にも買った継続購入者数・継続率。ギフトはギフト配送または"
        "ギフト商品を含む受注。",
        description_en="Per year, buyers, orders and revenue of gift purchases in the "
        "ochugen (June-August) or oseibo (November-December) season, and how many of last "
        "year's season buyers came back.",
        build=seasonal_buyers,
        params=(AS_OF, SEASON),
        chart=Chart("bar", x="year", y=("buyers", "returning_buyers")),
        order_by=("year",),
    )
)


def gift_monthly(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    g = in_period(gift_orders(con, params), params)
    g = g.mutate(month=month_start(g.order_date), gift=ibis.ifelse(g.is_gift_purchase, 1, 0))
    m = g.group_by("month").aggregate(
        orders=g.order_id.count(),
        gift_orders=g.gift.sum(),
        gift_buyers=ibis.ifelse(g.gift == 1, g.customer_id, None).nunique(),
        gift_revenue=ibis.ifelse(g.gift == 1, g.total, 0).sum(),
        revenue=g.total.sum(),
    )
    return m.mutate(gift_revenue_share=rate(m.gift_revenue, m.revenue))


register(
    Template(
        id="gift_monthly",
        category="gift",
        name_ja="ギフト受注の推移 (月別)",
        name_en="Gift orders by month",
        description_ja="月ごとのギフト受注数・ギフト購入者数・ギフト売上と売上に占める割合。",
        description_en="Gift orders, gift buyers, gift revenue and its share of revenue per month.",
        build=gift_monthly,
        params=(START, END, AS_OF),
        chart=Chart("bar", x="month", y=("gift_revenue",)),
        order_by=("month",),
    )
)


def gift_buyer_products(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    """What gift buyers buy for themselves: their non-gift orders' categories."""
    from tokui.analytics.families.products import lines

    g = gift_orders(con, params)
    buyers = g.filter(g.is_gift_purchase).select(buyer="customer_id").distinct()
    own = in_period(g.filter(~g.is_gift_purchase), params)
    own = own.inner_join(buyers, own.customer_id == buyers.buyer)
    items = lines(con, own.drop("buyer"))
    out = items.group_by("category").aggregate(
        buyers=items.customer_id.nunique(),
        orders=items.order_id.nunique(),
        revenue=items.amount.sum(),
    )
    return out.mutate(revenue_share=rate(out.revenue, out.revenue.sum().over(ibis.window())))


register(
    Template(
        id="gift_buyer_self_purchases",
        category="gift",
        name_ja="ギフト購入者の自家需要 (カテゴリ別)",
        name_en="Gift buyers' own purchases by category",
        description_ja="ギフトを買ったことのある顧客の、ギフト以外の受注のカテゴリ別の購入者数・"
        "受注数・売上。ギフト客を自家需要へ広げる商品選びに。",
        description_en="Categories of the non-gift orders of customers who have bought a "
        "gift: buyers, orders and revenue, to turn gift senders into own-use buyers.",
        build=gift_buyer_products,
        params=(START, END, AS_OF),
        chart=Chart("bar", x="category", y=("revenue",)),
        order_by=("revenue desc", "category"),
    )
)

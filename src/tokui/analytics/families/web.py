"""Web behaviour: cart abandonment and product view to purchase conversion.

Web events are joined to orders through the logged-in customer id; anonymous events
cannot be tied to a purchase and are left out of the rates (they are counted apart).
"""

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
    local_date,
    month_start,
    purchases_until,
)
from tokui.analytics.families.cohort import rate
from tokui.analytics.families.products import lines
from tokui.analytics.registry import Chart, Param, Template, register


def _events(con: BaseBackend, params: Mapping[str, Any], kind: str, ref: Any) -> ibis.Table:
    e = con.table("web_events")
    e = e.filter(e.event_type == kind)
    e = e.mutate(event_date=local_date(e.occurred_at))
    e = e.filter(e.event_date <= ref)
    if params.get("start") is not None:
        e = e.filter(e.event_date >= params["start"])
    if params.get("end") is not None:
        e = e.filter(e.event_date <= params["end"])
    return e


def cart_abandonment(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    """A cart is a known customer's day with a cart_add; it converted when the customer
    completed an order on that day or within `days` days after it."""
    p, ref = purchases_until(con, params)
    e = _events(con, params, "cart_add", ref)
    anon = (
        e.filter(e.customer_id.isnull())
        .mutate(month=month_start(e.event_date))
        .group_by("month")
        .aggregate(anonymous_cart_adds=lambda t: t.event_id.count())
    )
    carts = e.filter(e.customer_id.notnull()).select("customer_id", "event_date").distinct()
    orders = p.select(buyer="customer_id", order_date="order_date")
    hit = carts.inner_join(
        orders,
        (carts.customer_id == orders.buyer)
        & (orders.order_date >= carts.event_date)
        & (days_between(orders.order_date, carts.event_date) <= params["days"]),
    )
    converted = hit.select("customer_id", "event_date").distinct().mutate(converted=1)
    c = carts.left_join(converted, ["customer_id", "event_date"])
    c = c.mutate(month=month_start(c.event_date), converted=c.converted.fill_null(0))
    g = c.group_by("month").aggregate(
        carts=c.customer_id.count(), converted_carts=c.converted.sum()
    )
    g = g.mutate(abandoned_carts=g.carts - g.converted_carts)
    g = g.mutate(abandonment_rate=rate(g.abandoned_carts, g.carts))
    g = g.left_join(anon, "month")
    return g.select(
        "month",
        "carts",
        "converted_carts",
        "abandoned_carts",
        "abandonment_rate",
        anonymous_cart_adds=g.anonymous_cart_adds.fill_null(0),
    )


register(
    Template(
        id="cart_abandonment",
        category="sales",
        name_ja="カゴ落ち率 (月別)",
        name_en="Cart abandonment by month",
        description_ja="会員がカートに商品を入れた日 (カート) のうち、その日からN日以内に"
        "購入しなかった割合。匿名のカート追加は別列で件数のみ。",
        description_en="Share of carts (a known customer's day with a cart add) not followed "
        "by a completed order within N days; anonymous cart adds are counted apart.",
        build=cart_abandonment,
        params=(
            START,
            END,
            AS_OF,
            Param(
                "days", "int", "購入とみなす日数 (カート追加から)", "Days to purchase", 1, minimum=0
            ),
        ),
        chart=Chart("line", x="month", y=("abandonment_rate",)),
        order_by=("month",),
    )
)


def view_conversion(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    """Viewers are known customers who viewed the product; buyers among them bought it
    on the day of their first view or within `days` days after it."""
    p, ref = purchases_until(con, params)
    e = _events(con, params, "product_view", ref)
    e = e.filter(e.product_id.notnull())
    views = e.group_by("product_id").aggregate(
        views=e.event_id.count(), anonymous_views=ibis.ifelse(e.customer_id.isnull(), 1, 0).sum()
    )
    known = e.filter(e.customer_id.notnull())
    first_view = known.group_by(["product_id", "customer_id"]).aggregate(
        first_view=known.event_date.min()
    )
    bought = lines(con, p).select(
        buyer="customer_id", bought_product="product_id", bought_on="order_date"
    )
    hit = first_view.inner_join(
        bought,
        (first_view.customer_id == bought.buyer)
        & (first_view.product_id == bought.bought_product)
        & (bought.bought_on >= first_view.first_view)
        & (days_between(bought.bought_on, first_view.first_view) <= params["days"]),
    )
    buyers = hit.select("product_id", "customer_id").distinct().mutate(bought=1)
    v = first_view.left_join(buyers, ["product_id", "customer_id"])
    g = v.group_by("product_id").aggregate(
        viewers=v.customer_id.count(), buyers=v.bought.fill_null(0).sum()
    )
    g = views.inner_join(g, "product_id")
    names = con.table("products").select("product_id", "name")
    g = g.left_join(names, "product_id")
    return g.select(
        "product_id",
        "name",
        "views",
        "anonymous_views",
        "viewers",
        "buyers",
        conversion_rate=rate(g.buyers, g.viewers),
    )


register(
    Template(
        id="product_view_conversion",
        category="product",
        name_ja="商品閲覧→購入転換率",
        name_en="Product view to purchase conversion",
        description_ja="商品ごとの閲覧数と、閲覧した会員のうち初回閲覧からN日以内に"
        "その商品を購入した割合。",
        description_en="Views per product and the share of customers who viewed it and "
        "bought it within N days of their first view.",
        build=view_conversion,
        params=(
            START,
            END,
            AS_OF,
            Param(
                "days", "int", "購入とみなす日数 (初回閲覧から)", "Days to purchase", 30, minimum=0
            ),
        ),
        chart=Chart("bar", x="product_id", y=("conversion_rate",)),
        order_by=("viewers desc", "product_id"),
    )
)

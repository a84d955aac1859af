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
        category="web",
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
        category="web",
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


def _band(value: ibis.Value, uppers: tuple[int, ...]) -> tuple[ibis.Value, ibis.Value]:
    """(order, label) of the band 0-u1, u1+1-u2, ..., un+1+ that `value` falls in."""
    labels, low = [], 0
    for u in uppers:
        labels.append(f"{low}-{u}")
        low = u + 1
    labels.append(f"{low}+")
    order = ibis.cases(*[(value <= u, i) for i, u in enumerate(uppers)], else_=len(uppers))
    label = ibis.cases(*[(order == i, lab) for i, lab in enumerate(labels)])
    return order, label


NONE_BAND = "(なし)"
R_DAYS = Param(
    "r_days",
    "int_list",
    "経過日数の区切り (昇順)",
    "Recency band bounds in days (increasing)",
    (7, 30, 90, 180),
    minimum=0,
)
F_WINDOW = Param(
    "window_days", "int", "アクセス頻度を数える日数", "Days to count visits over", 90, minimum=1
)
F_BOUNDS = Param(
    "f_days",
    "int_list",
    "アクセス日数の区切り (昇順)",
    "Visit-day band bounds (increasing)",
    (1, 4, 9),
    minimum=0,
)


def access_summary(con: BaseBackend, params: Mapping[str, Any]) -> tuple[ibis.Table, Any]:
    """Per known customer: days since the last visit and visit days in the window."""
    p, ref = purchases_until(con, params)
    e = con.table("web_events")
    e = e.filter(e.customer_id.notnull())
    e = e.mutate(day=local_date(e.occurred_at))
    e = e.filter(e.day <= ref)
    recent = days_between(ibis.literal(ref), e.day) < params["window_days"]
    a = e.group_by("customer_id").aggregate(
        last_visit=e.day.max(),
        visit_days=ibis.ifelse(recent, e.day, None).nunique(),
    )
    a = a.mutate(access_recency_days=days_between(ibis.literal(ref), a.last_visit))
    return a, (p, ref)


def access_rf(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    a, (p, ref) = access_summary(con, params)
    r_order, r_label = _band(a.access_recency_days, params["r_days"])
    f_order, f_label = _band(a.visit_days, params["f_days"])
    a = a.mutate(r_order=r_order, r_band=r_label, f_order=f_order, f_band=f_label)
    recent = p.filter(days_between(ibis.literal(ref), p.order_date) < params["window_days"])
    buyers = recent.select(buyer="customer_id").distinct()
    a = a.left_join(buyers, a.customer_id == buyers.buyer)
    g = a.group_by(["r_order", "r_band", "f_order", "f_band"]).aggregate(
        customers=a.customer_id.count(), buyers=a.buyer.count()
    )
    return g.mutate(buyer_rate=rate(g.buyers, g.customers))


register(
    Template(
        id="access_rf",
        category="web",
        name_ja="サイトアクセスRF分析",
        name_en="Site access RF analysis",
        description_ja="会員ごとの最終アクセスからの日数 (R) と直近N日間 (既定90日) のアクセス日数 "
        "(F) の帯の組み合わせごとの顧客数と、そのうち同じN日間に購入した割合。",
        description_en="Known customers by band of days since the last site visit (R) and "
        "of visit days in the last N days (F, default 90), with the share who bought in "
        "those N days.",
        build=access_rf,
        params=(AS_OF, R_DAYS, F_WINDOW, F_BOUNDS),
        chart=Chart("heatmap", x="f_band", y=("r_band",), z="customers"),
        order_by=("r_order", "f_order"),
    )
)


def purchase_access_rf(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    a, (p, ref) = access_summary(con, params)
    last = p.group_by("customer_id").aggregate(last_order=p.order_date.max())
    last = last.mutate(purchase_recency_days=days_between(ibis.literal(ref), last.last_order))
    ids = a.select("customer_id").union(last.select("customer_id"), distinct=True)
    j = ids.left_join(a, "customer_id").drop("customer_id_right")
    j = j.left_join(last, "customer_id").drop("customer_id_right")
    po, pl = _band(j.purchase_recency_days, params["r_days"])
    ao, al = _band(j.access_recency_days, params["r_days"])
    # No purchase (or no visit) at all is its own band, after the oldest one.
    none = len(params["r_days"]) + 1
    j = j.mutate(
        purchase_order=ibis.ifelse(j.last_order.isnull(), none, po),
        purchase_band=ibis.ifelse(j.last_order.isnull(), NONE_BAND, pl),
        access_order=ibis.ifelse(j.last_visit.isnull(), none, ao),
        access_band=ibis.ifelse(j.last_visit.isnull(), NONE_BAND, al),
    )
    return j.group_by(["purchase_order", "purchase_band", "access_order", "access_band"]).aggregate(
        customers=j.customer_id.count()
    )


register(
    Template(
        id="purchase_access_rf",
        category="web",
        name_ja="購入/サイトアクセスRF分析",
        name_en="Purchase and site access recency",
        description_ja="最終購入からの日数の帯 × 最終サイトアクセスからの日数の帯ごとの顧客数。"
        "買っていないがよく見に来る顧客 (購入R大・アクセスR小) などを見つける。",
        description_en="Customers by band of days since the last purchase x band of days "
        "since the last site visit, to find e.g. customers who still visit but stopped "
        "buying.",
        build=purchase_access_rf,
        params=(AS_OF, R_DAYS, F_WINDOW),
        chart=Chart("heatmap", x="access_band", y=("purchase_band",), z="customers"),
        order_by=("purchase_order", "access_order"),
    )
)


def web_funnel(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    """Per month, distinct visitors (customer id, else cookie id) at each step."""
    p, ref = purchases_until(con, params)
    e = con.table("web_events")
    e = e.mutate(day=local_date(e.occurred_at), visitor=e.customer_id.fill_null(e.anonymous_id))
    e = e.filter((e.day <= ref) & e.visitor.notnull())
    if params.get("start") is not None:
        e = e.filter(e.day >= params["start"])
    if params.get("end") is not None:
        e = e.filter(e.day <= params["end"])
    e = e.mutate(month=month_start(e.day))
    orders = p.select(buyer="customer_id", order_month=month_start(p.order_date)).distinct()
    e = e.left_join(orders, (e.customer_id == orders.buyer) & (e.month == orders.order_month))

    def who(cond: ibis.Value) -> ibis.Value:
        return ibis.ifelse(cond, e.visitor, None).nunique()

    g = e.group_by("month").aggregate(
        visitors=e.visitor.nunique(),
        known_visitors=e.customer_id.nunique(),
        product_viewers=who(e.event_type == "product_view"),
        cart_adders=who(e.event_type == "cart_add"),
        buyers=e.buyer.nunique(),
    )
    return g.mutate(
        view_rate=rate(g.product_viewers, g.visitors),
        cart_rate=rate(g.cart_adders, g.visitors),
        known_buyer_rate=rate(g.buyers, g.known_visitors),
    )


register(
    Template(
        id="web_funnel_monthly",
        category="web",
        name_ja="サイト訪問→閲覧→カート→購入 (月別)",
        name_en="Web funnel by month",
        description_ja="月ごとの訪問者数 (会員ID、なければCookie ID)、商品閲覧者・カート追加者"
        "の数と訪問者に対する率、会員訪問者のうちその月に購入した人数と率。",
        description_en="Per month: visitors (customer id, else cookie id), product viewers "
        "and cart adders with their shares of visitors, and known visitors who bought that month.",
        build=web_funnel,
        params=(START, END, AS_OF),
        chart=Chart("line", x="month", y=("view_rate", "cart_rate", "known_buyer_rate")),
        order_by=("month",),
    )
)

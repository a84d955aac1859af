"""Dimensions that the template variants break results down by.

A dimension turns an order (its channel, payment, main category, ...) or a customer
(acquisition channel, gender, age band, ...) into one text value, so one builder serves
"sales by channel", "repeat rate by first payment method", "LTV by gender" and so on.
Missing values become a visible "(不明)" bucket, never a silently dropped row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import ibis
from ibis.backends import BaseBackend

from tokui.analytics.base import JST, days_between, month_start

UNKNOWN = "(不明)"

# Order value bands (yen): the leading digit makes the text sort in band order.
VALUE_BANDS: tuple[tuple[int, str], ...] = (
    (3_000, "1:0-2999"),
    (5_000, "2:3000-4999"),
    (10_000, "3:5000-9999"),
    (20_000, "4:10000-19999"),
)
VALUE_TOP = "5:20000+"
WEEKDAYS = ("0月", "1火", "2水", "3木", "4金", "5土", "6日")


def by_ja(ja: str) -> str:
    """ "X別" (by X), without doubling the 別 of 性別."""
    return ja if ja.endswith("別") else ja + "別"


@dataclass(frozen=True)
class Dimension:
    key: str  # result column name
    ja: str
    en: str
    level: str  # order, line (needs the order's lines) or customer


def order_value(p: ibis.Table, key: str) -> ibis.Value:
    """The dimension's value for each order of `p` (purchases with order_date)."""
    if key == "channel":
        return p.channel.fill_null(UNKNOWN)
    if key == "payment_method":
        return p.payment_method.fill_null(UNKNOWN)
    if key == "shipping_prefecture":
        return p.shipping_prefecture.fill_null(UNKNOWN)
    if key == "weekday":
        # ISO weekday index (0 = Monday) with its name: sorts Monday first as text.
        i = p.order_date.day_of_week.index()
        return ibis.cases(*[(i == n, name) for n, name in enumerate(WEEKDAYS)])
    if key == "hour":
        return (p.ordered_at + JST).hour().cast("int64")
    if key == "coupon":
        used = p.coupon_code.notnull() & (p.coupon_code != "")
        return ibis.ifelse(used, "coupon", "no_coupon")
    if key == "gift":
        return ibis.ifelse(p.is_gift, "gift", "self")
    if key == "order_type":
        return ibis.ifelse(p.subscription_id.notnull(), "subscription", "one_off")
    if key == "value_band":
        return ibis.cases(*[(p.total < t, label) for t, label in VALUE_BANDS], else_=VALUE_TOP)
    if key == "month":
        return month_start(p.order_date)
    raise KeyError(key)


def customer_values(con: BaseBackend, key: str, ref: date) -> ibis.Table:
    """customer_id and the customer's value of the dimension `key`."""
    c = con.table("customers")
    if key == "acquisition_channel":
        v: ibis.Value = c.acquisition_channel.fill_null(UNKNOWN)
    elif key == "gender":
        v = c.gender.fill_null("unknown")
    elif key == "prefecture":
        v = c.prefecture.fill_null(UNKNOWN)
    elif key == "rank":
        v = c.rank.fill_null(UNKNOWN)
    elif key == "age_band":
        age = (days_between(ibis.literal(ref), c.birth_date) / 365.25).floor().cast("int64")
        band = ((age / 10).floor() * 10).cast("int64")
        # Two digits keep the text order numeric (10s before 20s before 100s is moot).
        v = ibis.ifelse(c.birth_date.notnull(), band.cast("string").lpad(2, "0") + "s", UNKNOWN)
    else:
        raise KeyError(key)
    return c.select("customer_id", **{key: v})


ORDER_DIMS: dict[str, Dimension] = {
    d.key: d
    for d in (
        Dimension("channel", "受注経路", "sales channel", "order"),
        Dimension("payment_method", "支払方法", "payment method", "order"),
        Dimension("shipping_prefecture", "配送先都道府県", "shipping prefecture", "order"),
        Dimension("weekday", "曜日", "weekday", "order"),
        Dimension("hour", "時間帯", "hour of day", "order"),
        Dimension("coupon", "クーポン利用有無", "coupon use", "order"),
        Dimension("gift", "ギフト配送有無", "gift shipping", "order"),
        Dimension("order_type", "定期/通常", "subscription or one-off", "order"),
        Dimension("value_band", "受注金額帯", "order value band", "order"),
        Dimension("month", "月", "month", "order"),
        Dimension("category", "メインカテゴリ", "main category", "line"),
        Dimension("product_id", "メイン商品", "main product", "line"),
    )
}
CUSTOMER_DIMS: dict[str, Dimension] = {
    d.key: d
    for d in (
        Dimension("acquisition_channel", "獲得経路", "acquisition channel", "customer"),
        Dimension("gender", "性別", "gender", "customer"),
        Dimension("age_band", "年代", "age band", "customer"),
        Dimension("prefecture", "都道府県", "prefecture", "customer"),
        Dimension("rank", "会員ランク", "membership rank", "customer"),
    )
}


def with_order_dim(con: BaseBackend, p: ibis.Table, key: str) -> ibis.Table:
    """`p` with a column `key`: the order's value of an order or line dimension."""
    dim = ORDER_DIMS[key]
    if dim.level == "line":
        # Imported here: the product family imports this module's users.
        from tokui.analytics.families.products import lines, main_of_order

        m = main_of_order(lines(con, p), key)
        j = p.left_join(m, "order_id").drop("order_id_right")
        return j.mutate(**{key: j.main.fill_null(UNKNOWN)}).drop("main")
    return p.mutate(**{key: order_value(p, key)})

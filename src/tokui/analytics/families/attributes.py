"""Breakdowns by purchase attributes.

初回購入属性別リピート分析: new customers grouped by an attribute of their first purchase
(its channel, payment, coupon use, value band...) or of the customer (acquisition
channel, gender, age band...), with the F2 rate within N days, the repeat rate by the
reference date and the median days to the second purchase.

N回目購入属性別分析: the n-th purchases of all customers grouped by an attribute, with
the share of those customers who went on to an n+1-th purchase.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ibis
from ibis.backends import BaseBackend

from tokui.analytics.base import AS_OF, days_between, numbered, purchases_until
from tokui.analytics.dims import CUSTOMER_DIMS, ORDER_DIMS, customer_values, with_order_dim
from tokui.analytics.families.cohort import rate
from tokui.analytics.families.repeat import WITHIN_DAYS
from tokui.analytics.registry import Chart, Param, Template, register

FIRST_FROM = Param("start", "date", "初回購入日の開始", "First purchase from")
FIRST_UNTIL = Param("end", "date", "初回購入日の終了", "First purchase until")
NTH = Param("n", "int", "何回目の購入か", "Purchase number n", 2, minimum=1)


def _attach_dim(con: BaseBackend, t: ibis.Table, key: str, ref: Any) -> ibis.Table:
    if key in ORDER_DIMS:
        return with_order_dim(con, t, key)
    return t.inner_join(customer_values(con, key, ref), "customer_id")


def _first_repeat(key: str) -> Any:
    def build(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
        p, ref = purchases_until(con, params)
        n = numbered(p)
        first = n.filter(n.order_no == 1)
        if params.get("start") is not None:
            first = first.filter(first.order_date >= params["start"])
        if params.get("end") is not None:
            first = first.filter(first.order_date <= params["end"])
        first = _attach_dim(con, first, key, ref)
        first = first.select("customer_id", key, first_date=first.order_date)
        second = n.filter(n.order_no == 2).select(buyer="customer_id", second_date="order_date")
        c = first.left_join(second, first.customer_id == second.buyer)
        gap = days_between(c.second_date, c.first_date)
        c = c.mutate(
            days_to_second=gap,
            f2=ibis.ifelse(c.second_date.notnull() & (gap <= params["days"]), 1, 0),
            repeat=ibis.ifelse(c.second_date.notnull(), 1, 0),
        )
        g = c.group_by(key).aggregate(
            new_customers=c.customer_id.count(),
            f2_customers=c.f2.sum(),
            repeat_customers=c.repeat.sum(),
            median_days_to_second=c.days_to_second.median(),
        )
        return g.select(
            key,
            "new_customers",
            "f2_customers",
            "repeat_customers",
            f2_rate=rate(g.f2_customers, g.new_customers),
            repeat_rate=rate(g.repeat_customers, g.new_customers),
            median_days_to_second=g.median_days_to_second.cast("float64"),
        )

    return build


for _key in (
    "channel",
    "payment_method",
    "coupon",
    "gift",
    "order_type",
    "value_band",
    "shipping_prefecture",
    "acquisition_channel",
    "gender",
    "age_band",
    "prefecture",
):
    _dim = ORDER_DIMS.get(_key) or CUSTOMER_DIMS[_key]
    _order = _dim.level != "customer"
    register(
        Template(
            id=f"repeat_by_first_{_key}" if _order else f"repeat_by_{_key}",
            category="repeat",
            name_ja=f"初回購入属性別リピート分析 ({'初回の' if _order else ''}{_dim.ja})",
            name_en=f"Repeat rate by {'first order ' if _order else ''}{_dim.en}",
            description_ja=f"新規顧客を{'初回購入の' if _order else ''}{_dim.ja}で分け、"
            "初回からN日以内の2回目購入率 (F2転換率)、基準日までのリピート率、"
            "2回目までの日数の中央値を見る。",
            description_en=f"New customers grouped by the {_dim.en} of their "
            f"{'first order' if _order else 'customer record'}: F2 rate within N days, "
            "repeat rate by the reference date and median days to the second purchase.",
            build=_first_repeat(_key),
            params=(FIRST_FROM, FIRST_UNTIL, AS_OF, WITHIN_DAYS),
            chart=Chart("bar", x=_key, y=("f2_rate", "repeat_rate")),
            order_by=(_key,)
            if _key in ("value_band", "age_band")
            else ("new_customers desc", _key),
        )
    )


def _nth(key: str) -> Any:
    def build(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
        p, ref = purchases_until(con, params)
        h = numbered(p)
        nth = h.filter(h.order_no == params["n"])
        nxt = h.filter(h.order_no == params["n"] + 1).select(buyer="customer_id")
        nth = _attach_dim(con, nth, key, ref)
        j = nth.left_join(nxt, nth.customer_id == nxt.buyer)
        g = j.group_by(key).aggregate(
            customers=j.customer_id.count(),
            revenue=j.total.sum(),
            next_customers=j.buyer.count(),
        )
        return g.select(
            key,
            "customers",
            customer_share=rate(g.customers, g.customers.sum().over(ibis.window())),
            revenue=g.revenue,
            average_order_value=rate(g.revenue, g.customers, 0),
            next_customers=g.next_customers,
            next_rate=rate(g.next_customers, g.customers),
        )

    return build


for _key in (
    "channel",
    "payment_method",
    "category",
    "product_id",
    "coupon",
    "order_type",
    "value_band",
):
    _dim = ORDER_DIMS[_key]
    register(
        Template(
            id=f"nth_purchase_by_{_key}",
            category="repeat",
            name_ja=f"N回目購入属性別分析 ({_dim.ja})",
            name_en=f"N-th purchase by {_dim.en}",
            description_ja=f"n回目 (既定2回目) の購入を{_dim.ja}で分け、顧客数・構成比・売上・"
            "平均単価と、そのうちn+1回目に進んだ顧客の割合を見る。",
            description_en=f"Customers' n-th purchases (default the second) by {_dim.en}: "
            "customers, share, revenue, average order value and the share who went on to "
            "an n+1-th purchase.",
            build=_nth(_key),
            params=(AS_OF, NTH),
            chart=Chart("bar", x=_key, y=("customers",)),
            order_by=(_key,) if _key == "value_band" else ("customers desc", _key),
        )
    )

"""Dormancy (休眠) and churn risk.

Recency is the days from the last completed purchase to the reference date. A customer
is dormant at threshold t when recency >= t (the same convention as CPM's 離脱).
The churn-risk rule compares recency with the customer's own rhythm: with mean interval
(last - first) / (orders - 1), a customer is at risk when recency > k x mean interval.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ibis
from ibis.backends import BaseBackend

from tokui.analytics.base import AS_OF, days_between, purchases_until
from tokui.analytics.families.cohort import rate
from tokui.analytics.families.repeat import bucketed
from tokui.analytics.registry import Chart, Param, Template, register


def customer_recency(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    p, ref = purchases_until(con, params)
    c = p.group_by("customer_id").aggregate(
        orders=p.order_id.count(),
        revenue=p.total.sum(),
        first_order=p.order_date.min(),
        last_order=p.order_date.max(),
    )
    return c.mutate(recency_days=days_between(ibis.literal(ref), c.last_order))


def recency_distribution(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    return bucketed(customer_recency(con, params), "recency_days", params["buckets"])


register(
    Template(
        id="recency_distribution",
        category="lifecycle",
        name_ja="最終購入からの経過日数分布",
        name_en="Days since last purchase",
        description_ja="購入顧客の最終購入日から基準日までの日数の分布と累積構成比。",
        description_en="Distribution of the days from each customer's last purchase to the "
        "reference date, with the cumulative share.",
        build=recency_distribution,
        params=(
            AS_OF,
            Param(
                "buckets",
                "int_list",
                "日数の区切り (昇順)",
                "Bucket upper bounds in days (increasing)",
                (30, 60, 90, 180, 365),
                minimum=0,
            ),
        ),
        chart=Chart("bar", x="bucket", y=("count",)),
        order_by=("bucket_order",),
    )
)


def dormant_share(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    c = customer_recency(con, params)
    t = ibis.memtable({"threshold_days": list(params["thresholds"])})
    j = c.cross_join(t)
    dormant = j.recency_days >= j.threshold_days
    g = j.group_by("threshold_days").aggregate(
        customers=j.customer_id.count(),
        dormant_customers=ibis.ifelse(dormant, 1, 0).sum(),
        dormant_one_time=ibis.ifelse(dormant & (j.orders == 1), 1, 0).sum(),
        dormant_repeat=ibis.ifelse(dormant & (j.orders >= 2), 1, 0).sum(),
        dormant_revenue=ibis.ifelse(dormant, j.revenue, 0).sum(),
    )
    return g.mutate(dormant_share=rate(g.dormant_customers, g.customers))


register(
    Template(
        id="dormant_share",
        category="lifecycle",
        name_ja="休眠顧客の割合 (閾値別)",
        name_en="Dormant customers by threshold",
        description_ja="最終購入から閾値日数以上経過した休眠顧客の数と割合を閾値ごとに。"
        "1回購入/リピート顧客の内訳と休眠顧客の累計売上も。",
        description_en="Customers with no purchase for at least each threshold of days, "
        "their share, the split one-time/repeat and their lifetime revenue.",
        build=dormant_share,
        params=(
            AS_OF,
            Param(
                "thresholds",
                "int_list",
                "休眠とみなす日数 (昇順)",
                "Dormancy thresholds in days (increasing)",
                (90, 180, 365),
                minimum=1,
            ),
        ),
        chart=Chart("bar", x="threshold_days", y=("dormant_share",)),
        order_by=("threshold_days",),
    )
)


def churn_risk(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    c = customer_recency(con, params)
    c = c.filter(c.orders >= params["min_orders"])
    c = c.mutate(
        mean_interval_days=(
            days_between(c.last_order, c.first_order).cast("float64") / (c.orders - 1)
        ).round(2)
    )
    c = c.filter(c.mean_interval_days > 0)
    c = c.mutate(risk_ratio=rate(c.recency_days, c.mean_interval_days))
    return c.filter(c.recency_days > params["k"] * c.mean_interval_days)


register(
    Template(
        id="churn_risk",
        category="lifecycle",
        name_ja="離脱リスク顧客 (購入周期比)",
        name_en="Churn risk by own purchase rhythm",
        description_ja="最終購入からの日数が、その顧客自身の平均購入間隔のk倍を超えた顧客の"
        "一覧 (既定: 2回以上購入、k=2)。",
        description_en="Customers whose days since the last purchase exceed k times their "
        "own mean interval between purchases (default: 2+ orders, k = 2).",
        build=churn_risk,
        params=(
            AS_OF,
            Param("k", "float", "平均購入間隔の何倍で離脱リスクか", "Multiple k", 2.0, minimum=0),
            Param("min_orders", "int", "対象の最小購入回数", "Minimum orders", 2, minimum=2),
        ),
        chart=Chart("scatter", x="mean_interval_days", y=("recency_days",)),
        order_by=("risk_ratio desc", "customer_id"),
    )
)

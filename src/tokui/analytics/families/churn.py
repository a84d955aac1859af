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

from tokui.analytics.base import AS_OF, days_between, purchases_until, rounded
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
        mean_interval_days=rounded(
            (days_between(c.last_order, c.first_order).cast("float64") / (c.orders - 1)), 2
        )
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


STAGES = ("first", "repeat", "loyal")
STAGE_JA = {"first": "初回 (1回)", "repeat": "リピート (2-4回)", "loyal": "ロイヤル (5回以上)"}
THRESHOLDS = Param(
    "thresholds",
    "int_list",
    "休眠とみなす日数 (昇順)",
    "Dormancy thresholds in days (increasing)",
    (90, 180, 365),
    minimum=1,
)


def stage_of(orders: ibis.Value) -> ibis.Value:
    """Lifecycle stage by purchase count, as in customer_features."""
    return ibis.cases((orders == 1, "first"), (orders < 5, "repeat"), else_="loyal")


def dormancy_by_stage(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    c = customer_recency(con, params)
    c = c.mutate(stage=stage_of(c.orders))
    t = ibis.memtable({"threshold_days": list(params["thresholds"])})
    j = c.cross_join(t)
    dormant = j.recency_days >= j.threshold_days
    g = j.group_by(["stage", "threshold_days"]).aggregate(
        customers=j.customer_id.count(),
        dormant_customers=ibis.ifelse(dormant, 1, 0).sum(),
        dormant_revenue=ibis.ifelse(dormant, j.revenue, 0).sum(),
    )
    g = g.mutate(
        stage_order=ibis.cases(*[(g.stage == s, i) for i, s in enumerate(STAGES)]),
        stage_label=g.stage.substitute(STAGE_JA),
    )
    return g.select(
        "stage_order",
        "stage",
        "stage_label",
        "threshold_days",
        "customers",
        "dormant_customers",
        dormant_share=rate(g.dormant_customers, g.customers),
        dormant_revenue=g.dormant_revenue,
    )


register(
    Template(
        id="dormancy_by_stage",
        category="lifecycle",
        name_ja="ライフサイクル段階別 休眠顧客数",
        name_en="Dormant customers by lifecycle stage",
        description_ja="購入回数による段階 (初回1回・リピート2-4回・ロイヤル5回以上) ごとに、"
        "最終購入から閾値日数以上経過した休眠顧客の数・割合と累計売上。",
        description_en="Per lifecycle stage by purchase count (first: 1, repeat: 2-4, "
        "loyal: 5+), customers with no purchase for at least each threshold of days, their "
        "share and lifetime revenue.",
        build=dormancy_by_stage,
        params=(AS_OF, THRESHOLDS),
        chart=Chart("bar", x="stage_label", y=("dormant_customers",), color="threshold_days"),
        order_by=("stage_order", "threshold_days"),
    )
)


def dormant_list(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    c = customer_recency(con, params)
    c = c.filter((c.recency_days >= params["min_days"]) & (c.recency_days <= params["max_days"]))
    return c.mutate(stage=stage_of(c.orders))


register(
    Template(
        id="dormant_customers",
        category="lifecycle",
        name_ja="休眠顧客リスト (経過日数の範囲指定)",
        name_en="Dormant customers (days since last purchase in a range)",
        description_ja="最終購入からの日数が指定範囲 (既定180〜365日) の顧客の一覧: 購入回数・"
        "累計売上・初回/最終購入日・段階。掘り起こし施策の対象選びに。",
        description_en="Customers whose days since the last purchase fall in a range "
        "(default 180 to 365): orders, lifetime revenue, first and last order and stage.",
        build=dormant_list,
        params=(
            AS_OF,
            Param("min_days", "int", "経過日数の下限", "Minimum days", 180, minimum=0),
            Param("max_days", "int", "経過日数の上限", "Maximum days", 365, minimum=0),
        ),
        chart=Chart("scatter", x="recency_days", y=("revenue",)),
        order_by=("revenue desc", "customer_id"),
    )
)


def reactivation(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    """Dormant on (reference date - days): did they buy in the days after it?"""
    from datetime import timedelta

    from tokui.analytics.base import as_of_date, purchases

    ref = as_of_date(con, params)
    base = ref - timedelta(days=params["days"])
    c = customer_recency(con, {**params, "as_of": base})
    t = ibis.memtable({"threshold_days": list(params["thresholds"])})
    j = c.cross_join(t)
    j = j.filter(j.recency_days >= j.threshold_days)
    p = purchases(con)
    p = p.filter((p.order_date > base) & (p.order_date <= ref))
    back = p.group_by("customer_id").aggregate(revenue_after=p.total.sum())
    back = back.rename(buyer="customer_id")
    j = j.left_join(back, j.customer_id == back.buyer)
    g = j.group_by("threshold_days").aggregate(
        dormant_customers=j.customer_id.count(),
        reactivated=j.buyer.count(),
        revenue_after=j.revenue_after.sum().fill_null(0),
    )
    return g.mutate(reactivation_rate=rate(g.reactivated, g.dormant_customers))


register(
    Template(
        id="reactivation_rate",
        category="lifecycle",
        name_ja="休眠復帰率",
        name_en="Reactivation of dormant customers",
        description_ja="基準日のN日前 (既定90日) に休眠 (閾値日数以上購入なし) だった顧客のうち、"
        "その後N日間に購入して復帰した割合と売上を閾値ごとに。",
        description_en="Of customers dormant (no purchase for at least each threshold) "
        "N days (default 90) before the reference date, the share who bought in the "
        "following N days, and their revenue.",
        build=reactivation,
        params=(
            AS_OF,
            THRESHOLDS,
            Param("days", "int", "復帰を見る日数", "Days to watch for a return", 90, minimum=1),
        ),
        chart=Chart("bar", x="threshold_days", y=("reactivation_rate",)),
        order_by=("threshold_days",),
    )
)


def registration_conversion(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    from tokui.analytics.base import as_of_date, local_date, month_start, purchases

    ref = as_of_date(con, params)
    c = con.table("customers")
    c = c.mutate(registered_on=local_date(c.registered_at))
    c = c.filter(c.registered_on <= ref)
    if params.get("start") is not None:
        c = c.filter(c.registered_on >= params["start"])
    if params.get("end") is not None:
        c = c.filter(c.registered_on <= params["end"])
    p = purchases(con)
    p = p.filter(p.order_date <= ref)
    first = p.group_by("customer_id").aggregate(first_order=p.order_date.min())
    first = first.rename(buyer="customer_id")
    j = c.left_join(first, c.customer_id == first.buyer)
    gap = days_between(j.first_order, j.registered_on)
    j = j.mutate(
        month=month_start(j.registered_on),
        within=ibis.ifelse(j.first_order.notnull() & (gap <= params["days"]), 1, 0),
        gap=gap,
    )
    g = j.group_by("month").aggregate(
        registered=j.customer_id.count(),
        buyers=j.first_order.count(),
        buyers_within=j.within.sum(),
        median_days_to_first=j.gap.median().cast("float64"),
    )
    return g.mutate(
        conversion_rate=rate(g.buyers_within, g.registered),
        buyer_rate=rate(g.buyers, g.registered),
    )


register(
    Template(
        id="registration_conversion",
        category="lifecycle",
        name_ja="会員登録→初回購入転換率 (登録月別)",
        name_en="Registration to first purchase by month",
        description_ja="会員登録月ごとの登録者数、登録からN日以内 (既定30日) に初回購入した"
        "割合、基準日までの購入者率と初回購入までの日数の中央値 (登録前の購入は負の日数)。",
        description_en="Per registration month: registrations, the share making a first "
        "purchase within N days (default 30), the share by the reference date and the "
        "median days to the first purchase (negative when they bought before registering).",
        build=registration_conversion,
        params=(
            Param("start", "date", "登録日の開始", "Registered from"),
            Param("end", "date", "登録日の終了", "Registered until"),
            AS_OF,
            Param("days", "int", "登録から何日以内", "Within days of registration", 30, minimum=0),
        ),
        chart=Chart("bar", x="month", y=("conversion_rate",)),
        order_by=("month",),
    )
)

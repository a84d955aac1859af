"""Repeat purchase: F2 conversion, the F-conversion funnel (F転換) and repeat intervals.

F(n) is a customer's n-th completed purchase. F2 conversion (F2転換率) is the share of
new customers who make a second purchase; "within N days" counts a second purchase on
day N after the first as converted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ibis
from ibis.backends import BaseBackend

from tokui.analytics.base import (
    AS_OF,
    as_of_date,
    days_between,
    month_start,
    numbered,
    purchases_until,
    rounded,
)
from tokui.analytics.families.cohort import COHORT_PARAMS, rate
from tokui.analytics.registry import Chart, Param, Template, register

WITHIN_DAYS = Param(
    "days", "int", "初回購入から何日以内 (日)", "Within days of the first purchase", 90, minimum=0
)
INTERVAL_BUCKETS = Param(
    "buckets",
    "int_list",
    "日数の区切り (昇順)",
    "Bucket upper bounds in days (increasing)",
    (7, 14, 30, 60, 90, 180, 365),
    minimum=0,
)


def bucketed(values: ibis.Table, column: str, thresholds: tuple[int, ...]) -> ibis.Table:
    """Counts of `column` in the buckets 0-t1, t1+1-t2, ..., tn+1+, every bucket present.

    Returns bucket_order, bucket, count, share and cumulative_share; buckets without
    values are 0 so a histogram keeps its shape.
    """
    labels = []
    low = 0
    for t in thresholds:
        labels.append(f"{low}-{t}")
        low = t + 1
    labels.append(f"{low}+")
    v = values[column]
    order = ibis.cases(*[(v <= t, i) for i, t in enumerate(thresholds)], else_=len(thresholds))
    counts = values.mutate(bucket_order=order).group_by("bucket_order").aggregate(n=v.count())
    frame = ibis.memtable({"bucket_order": list(range(len(labels))), "bucket": labels})
    j = frame.left_join(counts, "bucket_order")
    j = j.select("bucket_order", "bucket", count=j.n.fill_null(0))
    total = j["count"].sum().over(ibis.window())
    cum = ibis.window(order_by=j.bucket_order, rows=(None, 0))
    return j.mutate(
        share=rate(j["count"], total), cumulative_share=rate(j["count"].sum().over(cum), total)
    )


def customer_history(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    """Each purchase numbered per customer, with the days until the customer's next one."""
    p, _ = purchases_until(con, params)
    w = ibis.window(group_by=p.customer_id, order_by=[p.ordered_at, p.order_id])
    # Both in one projection over one window: the engine sorts the purchases once.
    n = p.mutate(order_no=ibis.row_number().over(w) + 1, next_date=p.order_date.lead().over(w))
    return n.mutate(days_to_next=days_between(n.next_date, n.order_date))


def purchase_gaps(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    """The days between each purchase and the customer's next one, without numbering.

    Ordered by date alone: a customer's gaps are the differences of consecutive dates in
    date order, however orders of the same day are ranked, so no tie-break is needed and
    the engine sorts on one narrow key instead of the order time and id.
    """
    p, _ = purchases_until(con, params)
    w = ibis.window(group_by=p.customer_id, order_by=p.order_date)
    n = p.select("customer_id", "order_date", next_date=p.order_date.lead().over(w))
    return n.mutate(days_to_next=days_between(n.next_date, n.order_date))


def f2_conversion(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    p, ref = purchases_until(con, params)
    # Only dates are needed, and the k-th purchase's date is the k-th smallest date
    # however same-day orders are ranked: one window on the date, the second date read
    # from the first purchase's row (no join of first and second purchases).
    w = ibis.window(group_by=p.customer_id, order_by=p.order_date)
    n = p.select(
        "customer_id",
        first_date=p.order_date,
        second_date=p.order_date.lead().over(w),
        order_no=ibis.row_number().over(w),
    )
    c = n.filter(n.order_no == 0).drop("order_no")
    if params.get("start") is not None:
        c = c.filter(c.first_date >= params["start"])
    if params.get("end") is not None:
        c = c.filter(c.first_date <= params["end"])
    c = c.mutate(
        first_month=month_start(c.first_date),
        converted=ibis.ifelse(
            c.second_date.notnull() & (days_between(c.second_date, c.first_date) <= params["days"]),
            1,
            0,
        ),
    )
    g = c.group_by("first_month").aggregate(
        new_customers=c.customer_id.count(),
        f2_customers=c.converted.sum(),
        last_first_date=c.first_date.max(),
    )
    g = g.mutate(
        f2_rate=rate(g.f2_customers, g.new_customers),
        # Every customer of the month had the full N days before the reference date.
        fully_observed=days_between(ibis.literal(ref), g.last_first_date) >= params["days"],
    )
    return g.drop("last_first_date")


register(
    Template(
        id="f2_conversion",
        category="repeat",
        name_ja="F2転換率 (初回購入月別)",
        name_en="F2 conversion by first purchase month",
        description_ja="初回購入月ごとの新規顧客のうち、初回からN日以内に2回目を購入した割合。"
        "N日が経過していない月は fully_observed=false。",
        description_en="Share of each first-purchase month's new customers who bought a "
        "second time within N days; months not yet N days old are fully_observed=false.",
        build=f2_conversion,
        params=(*COHORT_PARAMS[:3], WITHIN_DAYS),
        chart=Chart("bar", x="first_month", y=("f2_rate",)),
        order_by=("first_month",),
    )
)


def f_funnel(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    h = customer_history(con, params)
    h = h.filter(h.order_no <= params["max_n"])
    return (
        h.group_by("order_no")
        .aggregate(
            customers=h.customer_id.count(),
            next_customers=h.next_date.count(),
            avg_days_to_next=rounded(h.days_to_next.mean(), 2),
            median_days_to_next=h.days_to_next.median().cast("float64"),
        )
        .mutate(conversion_rate=lambda t: rate(t.next_customers, t.customers))
    )


register(
    Template(
        id="f_conversion_funnel",
        category="repeat",
        name_ja="F転換 (n回目→n+1回目の購入転換率)",
        name_en="F-conversion funnel (n-th to n+1-th purchase)",
        description_ja="購入転換率・タイミング分析: n回目まで購入した顧客数、n+1回目に進んだ"
        "顧客数、その転換率とn回目からn+1回目までの日数の平均・中央値。",
        description_en="Customers with at least n purchases, those who made the n+1-th, the "
        "conversion rate and the mean and median days between the two.",
        build=f_funnel,
        params=(
            AS_OF,
            Param("max_n", "int", "表示する最大購入回数", "Highest purchase number", 10, minimum=1),
        ),
        chart=Chart("bar", x="order_no", y=("conversion_rate",)),
        order_by=("order_no",),
    )
)


def f2_interval(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    h = customer_history(con, params)
    h = h.filter((h.order_no == 1) & h.days_to_next.notnull())
    return bucketed(h, "days_to_next", params["buckets"])


register(
    Template(
        id="f2_interval",
        category="repeat",
        name_ja="初回→2回目の購入間隔分布",
        name_en="Days from first to second purchase",
        description_ja="2回目を購入した顧客の、初回から2回目までの日数の分布 (区切りは指定可)。",
        description_en="Distribution of the days between the first and second purchase "
        "of customers who bought twice, in configurable buckets.",
        build=f2_interval,
        params=(AS_OF, INTERVAL_BUCKETS),
        chart=Chart("bar", x="bucket", y=("count",)),
        order_by=("bucket_order",),
    )
)


def repeat_interval(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    h = purchase_gaps(con, params)
    h = h.filter(h.days_to_next.notnull())
    return bucketed(h, "days_to_next", params["buckets"])


register(
    Template(
        id="repeat_interval",
        category="repeat",
        name_ja="リピート間隔分布 (連続する購入の間隔)",
        name_en="Repeat interval distribution",
        description_ja="すべての連続する2回の購入の間隔 (日数) の分布。",
        description_en="Distribution of the days between every pair of consecutive "
        "purchases of the same customer.",
        build=repeat_interval,
        params=(AS_OF, INTERVAL_BUCKETS),
        chart=Chart("bar", x="bucket", y=("count",)),
        order_by=("bucket_order",),
    )
)


def customer_intervals(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    day = as_of_date(con, params)
    h = purchase_gaps(con, {**params, "as_of": day})
    gaps = h.filter(h.days_to_next.notnull())
    c = gaps.group_by("customer_id").aggregate(
        intervals=gaps.days_to_next.count(),
        mean_interval=rounded(gaps.days_to_next.mean(), 2),
        median_interval=gaps.days_to_next.median().cast("float64"),
        min_interval=gaps.days_to_next.min(),
        max_interval=gaps.days_to_next.max(),
        last_order=gaps.next_date.max(),
    )
    c = c.mutate(days_since_last=days_between(ibis.literal(day), c.last_order))
    return c.mutate(
        orders=c.intervals + 1,
        overdue_ratio=rate(c.days_since_last, c.median_interval.nullif(0), 2),
    )


register(
    Template(
        id="customer_repeat_interval",
        category="repeat",
        name_ja="顧客別リピート間隔分析",
        name_en="Repeat interval by customer",
        description_ja="2回以上購入した顧客ごとの購入間隔 (日) の平均・中央値・最小・最大、"
        "最終購入からの日数と、それが中央値の何倍か (overdue_ratio)。",
        description_en="Per customer with two or more purchases: mean, median, shortest and "
        "longest days between purchases, days since the last one and its ratio to the "
        "median (overdue_ratio).",
        build=customer_intervals,
        params=(AS_OF,),
        chart=Chart("scatter", x="median_interval", y=("days_since_last",)),
        order_by=("customer_id",),
    )
)


def interval_stats(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    h = customer_history(con, params)
    h = h.filter(h.days_to_next.notnull() & (h.order_no <= params["max_n"]))
    d = h.days_to_next
    return h.group_by("order_no").aggregate(
        pairs=d.count(),
        mean_days=rounded(d.mean(), 2),
        median_days=d.median().cast("float64"),
        p25_days=d.quantile(0.25).cast("float64"),
        p75_days=d.quantile(0.75).cast("float64"),
    )


register(
    Template(
        id="repeat_interval_by_order_no",
        category="repeat",
        name_ja="購入回数別リピート間隔 (中央値・四分位)",
        name_en="Repeat interval by purchase number (median, quartiles)",
        description_ja="n回目からn+1回目までの日数の平均・中央値・第1/第3四分位 (線形補間)。"
        "次回案内の送信タイミング設計に。",
        description_en="Mean, median and first/third quartiles (linear interpolation) of "
        "the days from the n-th to the n+1-th purchase.",
        build=interval_stats,
        params=(
            AS_OF,
            Param("max_n", "int", "表示する最大購入回数", "Highest purchase number", 10, minimum=1),
        ),
        chart=Chart("line", x="order_no", y=("median_days",)),
        order_by=("order_no",),
    )
)


def days_to_nth(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    p, _ = purchases_until(con, params)
    n = numbered(p)
    first = n.filter(n.order_no == 1).select(buyer="customer_id", first_date="order_date")
    j = n.filter((n.order_no >= 2) & (n.order_no <= params["max_n"]))
    j = j.inner_join(first, j.customer_id == first.buyer)
    d = days_between(j.order_date, j.first_date)
    j = j.mutate(days=d)
    return j.group_by("order_no").aggregate(
        customers=j.customer_id.count(),
        mean_days_from_first=rounded(j.days.mean(), 2),
        median_days_from_first=j.days.median().cast("float64"),
    )


register(
    Template(
        id="days_to_nth_purchase",
        category="repeat",
        name_ja="初回からn回目購入までの日数",
        name_en="Days from the first to the n-th purchase",
        description_ja="n回目 (2回目以降) の購入に到達した顧客数と、初回からの日数の平均・中央値。",
        description_en="Customers reaching their n-th purchase (n >= 2) and the mean and "
        "median days it took from the first purchase.",
        build=days_to_nth,
        params=(
            AS_OF,
            Param("max_n", "int", "表示する最大購入回数", "Highest purchase number", 10, minimum=2),
        ),
        chart=Chart("line", x="order_no", y=("median_days_from_first",)),
        order_by=("order_no",),
    )
)

"""Subscriptions (定期): continuation by delivery count, survival, cancellations, skips.

回数 (delivery count) counts shipped deliveries only: a skipped delivery keeps the
subscription alive but is not a 回. A subscription is cancelled as of the reference
date when its cancellation (shop-local date) is on or before it. A live subscription
that has not yet reached its next delivery is censored (not yet due), not lost.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import ibis
import pandas as pd
from ibis.backends import BaseBackend

from tokui.analytics.base import (
    AS_OF,
    END,
    START,
    as_of_date,
    days_between,
    local_date,
    month_start,
    rounded,
)
from tokui.analytics.families.cohort import month_index, rate
from tokui.analytics.registry import Chart, Param, Template, register

MAX_DELIVERIES = Param(
    "max_deliveries", "int", "表示する最大お届け回数", "Highest delivery count", 12, minimum=1
)
PRODUCT = Param("product_id", "str", "定期商品ID (空欄: すべて)", "Product id (empty: all)")
NO_REASON = "(未回答)"


def subscriptions_as_of(con: BaseBackend, params: Mapping[str, Any]) -> tuple[ibis.Table, date]:
    ref = as_of_date(con, params)
    s = con.table("subscriptions")
    s = s.mutate(start_date=local_date(s.started_at), cancel_date=local_date(s.cancelled_at))
    s = s.filter(s.start_date <= ref)
    if params.get("product_id"):
        s = s.filter(s.product_id == params["product_id"])
    cancelled = s.cancel_date.notnull() & (s.cancel_date <= ref)
    s = s.mutate(is_cancelled=ibis.ifelse(cancelled, 1, 0))
    return s, ref


def shipped_counts(con: BaseBackend, ref: date) -> ibis.Table:
    d = con.table("subscription_deliveries")
    d = d.filter((d.status == "shipped") & (d.scheduled_on <= ref))
    return d.group_by("subscription_id").aggregate(shipped=d.delivery_number.count())


def continuation(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    s, ref = subscriptions_as_of(con, params)
    n = shipped_counts(con, ref)
    s = s.left_join(n, "subscription_id")
    s = s.select("subscription_id", "is_cancelled", shipped=s.shipped.fill_null(0))
    ks = ibis.memtable({"delivery_count": list(range(1, params["max_deliveries"] + 1))})
    j = s.cross_join(ks)
    j = j.filter(j.shipped >= j.delivery_count)
    g = j.group_by("delivery_count").aggregate(
        subscriptions=j.subscription_id.count(),
        continued=ibis.ifelse(j.shipped > j.delivery_count, 1, 0).sum(),
        censored=ibis.ifelse((j.shipped == j.delivery_count) & (j.is_cancelled == 0), 1, 0).sum(),
    )
    first = g.subscriptions.max().over(ibis.window())
    return g.mutate(
        continuation_rate=rate(g.continued, g.subscriptions - g.censored),
        retention_from_first=rate(g.subscriptions, first),
    )


register(
    Template(
        id="subscription_continuation",
        category="subscription",
        name_ja="定期継続率 (回数別・定期フロー)",
        name_en="Subscription continuation by delivery count",
        description_ja="n回目のお届けを受けた定期契約のうち、n+1回目も受けた割合。"
        "n+1回目がまだ来ていない継続中の契約は打ち切り (censored) として分母から除く。",
        description_en="Of subscriptions with n shipped deliveries, the share that reached "
        "n+1; live subscriptions not yet due for n+1 are censored out of the denominator.",
        build=continuation,
        params=(AS_OF, MAX_DELIVERIES, PRODUCT),
        chart=Chart("line", x="delivery_count", y=("continuation_rate", "retention_from_first")),
        order_by=("delivery_count",),
    )
)


def survival(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    """Month k after the start month: still subscribed unless cancelled in month <= k."""
    s, ref = subscriptions_as_of(con, params)
    s = s.mutate(
        start_month=month_start(s.start_date),
        start_idx=month_index(s.start_date),
        cancel_k=ibis.ifelse(
            s.is_cancelled == 1, month_index(s.cancel_date) - month_index(s.start_date), None
        ),
    )
    ks = ibis.memtable({"months_since_start": list(range(params["max_months"] + 1))})
    j = s.cross_join(ks)
    j = j.filter(j.start_idx + j.months_since_start <= month_index(ibis.literal(ref)))
    alive = j.cancel_k.isnull() | (j.cancel_k > j.months_since_start)
    g = j.group_by(["start_month", "months_since_start"]).aggregate(
        started=j.subscription_id.count(), surviving=ibis.ifelse(alive, 1, 0).sum()
    )
    return g.mutate(survival_rate=rate(g.surviving, g.started))


register(
    Template(
        id="subscription_survival",
        category="subscription",
        name_ja="定期契約の生存率 (申込月別)",
        name_en="Subscription survival by start month",
        description_ja="申込月ごとに、経過月数ごとの解約していない契約の割合 "
        "(解約月以降は非継続)。",
        description_en="For each start month, the share of subscriptions not cancelled by "
        "each month since the start (a cancellation counts from its month).",
        build=survival,
        params=(
            AS_OF,
            Param("max_months", "int", "表示する最大経過月数", "Months to show", 12, minimum=0),
            PRODUCT,
        ),
        chart=Chart("heatmap", x="months_since_start", y=("start_month",), z="survival_rate"),
        order_by=("start_month", "months_since_start"),
    )
)


def cancel_reasons(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    s, ref = subscriptions_as_of(con, params)
    s = s.filter(s.is_cancelled == 1)
    if params.get("start") is not None:
        s = s.filter(s.cancel_date >= params["start"])
    if params.get("end") is not None:
        s = s.filter(s.cancel_date <= params["end"])
    s = s.left_join(shipped_counts(con, ref), "subscription_id")
    s = s.mutate(
        reason=s.cancel_reason.fill_null(NO_REASON),
        shipped=s.shipped.fill_null(0),
        days_active=days_between(s.cancel_date, s.start_date),
    )
    g = s.group_by("reason").aggregate(
        cancellations=s.subscription_id.count(),
        avg_deliveries=rounded(s.shipped.mean(), 2),
        avg_days_active=rounded(s.days_active.mean(), 2),
    )
    return g.mutate(share=rate(g.cancellations, g.cancellations.sum().over(ibis.window())))


register(
    Template(
        id="subscription_cancel_reasons",
        category="subscription",
        name_ja="定期解約理由",
        name_en="Subscription cancellation reasons",
        description_ja="期間内に解約された定期契約の理由ごとの件数・構成比、解約までの"
        "平均お届け回数と平均継続日数。",
        description_en="Cancellations in the period by reason, with share, average shipped "
        "deliveries and average days subscribed before cancelling.",
        build=cancel_reasons,
        params=(START, END, AS_OF, PRODUCT),
        chart=Chart("bar", x="reason", y=("cancellations",)),
        order_by=("cancellations desc", "reason"),
    )
)


def skip_rate(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    """Due deliveries (shipped or skipped, scheduled by the reference date) per number."""
    s, ref = subscriptions_as_of(con, params)
    d = con.table("subscription_deliveries")
    d = d.filter(d.status.isin(["shipped", "skipped"]) & (d.scheduled_on <= ref))
    d = d.filter(d.delivery_number <= params["max_deliveries"])
    d = d.inner_join(s.select("subscription_id"), "subscription_id")
    g = d.group_by("delivery_number").aggregate(
        deliveries=d.subscription_id.count(),
        skipped=ibis.ifelse(d.status == "skipped", 1, 0).sum(),
    )
    return g.mutate(skip_rate=rate(g.skipped, g.deliveries))


register(
    Template(
        id="subscription_skip_rate",
        category="subscription",
        name_ja="お届け回数別スキップ率",
        name_en="Skip rate by delivery number",
        description_ja="n回目の予定日が基準日までに来たお届け (出荷またはスキップ) のうち"
        "スキップされた割合。",
        description_en="Of the n-th deliveries due by the reference date (shipped or "
        "skipped), the share skipped.",
        build=skip_rate,
        params=(AS_OF, MAX_DELIVERIES, PRODUCT),
        chart=Chart("bar", x="delivery_number", y=("skip_rate",)),
        order_by=("delivery_number",),
    )
)


def active_monthly(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    s, ref = subscriptions_as_of(con, params)
    first = s.start_date.min().execute()
    months: list[date] = []
    if first is not None and not pd.isna(first):
        m = date(first.year, first.month, 1)
        while m <= ref:
            months.append(m)
            m = date(m.year + (m.month == 12), m.month % 12 + 1, 1)
    spine = ibis.memtable({"month": months}, schema={"month": "date"})
    starts = (
        s.mutate(month=month_start(s.start_date))
        .group_by("month")
        .aggregate(started=lambda t: t.subscription_id.count())
    )
    c = s.filter(s.is_cancelled == 1)
    cancels = (
        c.mutate(month=month_start(c.cancel_date))
        .group_by("month")
        .aggregate(cancelled=lambda t: t.subscription_id.count())
    )
    j = spine.left_join(starts, "month").drop("month_right")
    j = j.left_join(cancels, "month").drop("month_right")
    j = j.mutate(started=j.started.fill_null(0), cancelled=j.cancelled.fill_null(0))
    w = ibis.window(order_by=j.month, rows=(None, 0))
    j = j.mutate(active_end=(j.started - j.cancelled).sum().over(w))
    j = j.mutate(active_start=j.active_end - j.started + j.cancelled)
    return j.select(
        "month",
        "active_start",
        "started",
        "cancelled",
        "active_end",
        churn_rate=rate(j.cancelled, j.active_start),
    )


register(
    Template(
        id="subscription_active_monthly",
        category="subscription",
        name_ja="定期契約数の推移 (月別)",
        name_en="Active subscriptions by month",
        description_ja="月初・月末の継続中契約数、新規申込数、解約数と月次解約率 "
        "(解約数 ÷ 月初契約数)。",
        description_en="Active subscriptions at the start and end of each month, new "
        "starts, cancellations and monthly churn (cancellations / active at start).",
        build=active_monthly,
        params=(AS_OF, PRODUCT),
        chart=Chart("line", x="month", y=("active_end",)),
        order_by=("month",),
    )
)


def subscription_list(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    s, ref = subscriptions_as_of(con, params)
    d = con.table("subscription_deliveries")
    d = d.filter(d.scheduled_on <= ref)
    counts = d.group_by("subscription_id").aggregate(
        shipped=ibis.ifelse(d.status == "shipped", 1, 0).sum(),
        skipped=ibis.ifelse(d.status == "skipped", 1, 0).sum(),
        shipped_amount=ibis.ifelse(d.status == "shipped", d.amount, 0).sum(),
        last_shipped_on=ibis.ifelse(d.status == "shipped", d.scheduled_on, None).max(),
    )
    s = s.left_join(counts, "subscription_id")
    status = ibis.cases(
        (s.is_cancelled == 1, "cancelled"),
        (s.status == "paused", "paused"),
        else_="active",
    )
    return s.select(
        "customer_id",
        "subscription_id",
        "product_id",
        "quantity",
        "unit_price",
        cycle=s.cycle_interval.cast("string") + " " + s.cycle_unit,
        status_as_of=status,
        start_date="start_date",
        cancel_date=ibis.ifelse(s.is_cancelled == 1, s.cancel_date, None),
        cancel_reason=ibis.ifelse(s.is_cancelled == 1, s.cancel_reason, None),
        shipped=s.shipped.fill_null(0),
        skipped=s.skipped.fill_null(0),
        shipped_amount=s.shipped_amount.fill_null(0),
        last_shipped_on=s.last_shipped_on,
        days_subscribed=days_between(
            ibis.ifelse(s.is_cancelled == 1, s.cancel_date, ibis.literal(ref)), s.start_date
        ),
    )


register(
    Template(
        id="subscription_list",
        category="subscription",
        name_ja="顧客別定期契約リスト",
        name_en="Subscriptions by customer",
        description_ja="顧客ごとの定期契約: 商品・数量・単価・周期、基準日時点の状況 (継続/休止/"
        "解約)、申込日・解約日と理由、出荷回数・スキップ回数・出荷金額・最終出荷日・継続日数。",
        description_en="Each customer's subscriptions: product, quantity, price, cycle, "
        "status on the reference date, start and cancellation with reason, shipped and "
        "skipped deliveries, shipped amount, last shipment and days subscribed.",
        build=subscription_list,
        params=(AS_OF, PRODUCT),
        order_by=("customer_id", "subscription_id"),
    )
)


def _flow_by(key: str) -> Any:
    """Continuation n -> n+1 (censoring live subscriptions not yet due) per group."""

    def build(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
        s, ref = subscriptions_as_of(con, params)
        s = s.mutate(
            start_month=month_start(s.start_date),
            cycle=s.cycle_interval.cast("string") + " " + s.cycle_unit,
        )
        s = s.left_join(shipped_counts(con, ref), "subscription_id")
        s = s.select("subscription_id", "is_cancelled", key, shipped=s.shipped.fill_null(0))
        ks = ibis.memtable({"delivery_count": list(range(1, params["max_deliveries"] + 1))})
        j = s.cross_join(ks)
        j = j.filter(j.shipped >= j.delivery_count)
        g = j.group_by([key, "delivery_count"]).aggregate(
            subscriptions=j.subscription_id.count(),
            continued=ibis.ifelse(j.shipped > j.delivery_count, 1, 0).sum(),
            censored=ibis.ifelse(
                (j.shipped == j.delivery_count) & (j.is_cancelled == 0), 1, 0
            ).sum(),
        )
        g = g.mutate(dropped=g.subscriptions - g.continued - g.censored)
        return g.mutate(continuation_rate=rate(g.continued, g.subscriptions - g.censored))

    return build


for _key, _ja, _en in (
    ("product_id", "商品", "product"),
    ("start_month", "申込月", "start month"),
    ("cycle", "お届け周期", "delivery cycle"),
):
    register(
        Template(
            id=f"subscription_flow_by_{_key.removesuffix('_id')}",
            category="subscription",
            name_ja=f"定期フロー分析 ({_ja}別)",
            name_en=f"Subscription flow by {_en}",
            description_ja=f"{_ja}ごとに、n回目のお届けを受けた契約のうちn+1回目も受けた割合。"
            "n+1回目がまだ来ていない継続中の契約は打ち切り (censored) として分母から除き、"
            "解約で止まった契約は dropped。",
            description_en=f"Per {_en}, of subscriptions with n shipped deliveries the share "
            "that reached n+1; live ones not yet due are censored out of the denominator, "
            "cancelled ones are dropped.",
            build=_flow_by(_key),
            params=(AS_OF, MAX_DELIVERIES, PRODUCT),
            chart=Chart("line", x="delivery_count", y=("continuation_rate",), color=_key),
            order_by=(_key, "delivery_count"),
        )
    )


def by_product(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    s, ref = subscriptions_as_of(con, params)
    s = s.left_join(shipped_counts(con, ref), "subscription_id")
    s = s.mutate(shipped=s.shipped.fill_null(0))
    g = s.group_by("product_id").aggregate(
        subscriptions=s.subscription_id.count(),
        active=ibis.ifelse(s.is_cancelled == 0, 1, 0).sum(),
        cancelled=s.is_cancelled.sum(),
        mean_shipped=rounded(s.shipped.mean(), 2),
        median_shipped=s.shipped.median().cast("float64"),
        cancelled_mean_shipped=rounded(ibis.ifelse(s.is_cancelled == 1, s.shipped, None).mean(), 2),
    )
    return g.mutate(cancel_share=rate(g.cancelled, g.subscriptions))


register(
    Template(
        id="subscription_by_product",
        category="subscription",
        name_ja="定期商品別 契約数・解約・平均お届け回数",
        name_en="Subscriptions by product",
        description_ja="定期商品ごとの契約数・継続中・解約数と解約割合、お届け回数の平均と"
        "中央値、解約した契約の平均お届け回数。",
        description_en="Per subscription product: subscriptions, live, cancelled and the "
        "cancelled share, mean and median shipped deliveries, and the mean for cancelled "
        "ones.",
        build=by_product,
        params=(AS_OF, PRODUCT),
        chart=Chart("bar", x="product_id", y=("active", "cancelled")),
        order_by=("subscriptions desc", "product_id"),
    )
)


def delivery_revenue(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    s, ref = subscriptions_as_of(con, params)
    d = con.table("subscription_deliveries")
    d = d.filter((d.status == "shipped") & (d.scheduled_on <= ref))
    d = d.inner_join(s.select("subscription_id"), "subscription_id")
    d = d.mutate(month=month_start(d.scheduled_on))
    if params.get("start") is not None:
        d = d.filter(d.scheduled_on >= params["start"])
    if params.get("end") is not None:
        d = d.filter(d.scheduled_on <= params["end"])
    return d.group_by("month").aggregate(
        deliveries=d.subscription_id.count(),
        first_deliveries=ibis.ifelse(d.delivery_number == 1, 1, 0).sum(),
        subscriptions=d.subscription_id.nunique(),
        revenue=d.amount.sum().fill_null(0),
    )


register(
    Template(
        id="subscription_deliveries_monthly",
        category="subscription",
        name_ja="定期お届け件数・売上 (月別)",
        name_en="Subscription deliveries and revenue by month",
        description_ja="お届け予定日の月ごとの出荷件数 (うち初回)、出荷した契約数、出荷金額。",
        description_en="Shipped deliveries (and first deliveries), subscriptions shipped and "
        "the amount charged per month of the scheduled date.",
        build=delivery_revenue,
        params=(START, END, AS_OF, PRODUCT),
        chart=Chart("bar", x="month", y=("revenue",)),
        order_by=("month",),
    )
)

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
        avg_deliveries=s.shipped.mean().round(2),
        avg_days_active=s.days_active.mean().round(2),
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

"""Customer portfolio management (CPM, 顧客ポートフォリオ分析).

The usual definition: tenure is the days from the first to the latest purchase, and a
customer is 離脱 (lapsed) once `churn_days` have passed since the latest purchase.
初回 bought once; よちよち bought twice or more within a tenure under `short_days`;
of the rest, コツコツ spent under `amount`, 流行 reached `amount` with a tenure under
`long_days`, and 優良 reached it with a longer tenure.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import ibis
from ibis.backends import BaseBackend

from tokui.analytics.base import (
    AS_OF,
    as_of_date,
    days_between,
    purchases,
    purchases_until,
    rounded,
)
from tokui.analytics.dims import customer_values
from tokui.analytics.registry import Chart, Param, ParamError, Template, register

GROUPS = ("first", "toddler", "steady", "trendy", "loyal")
GROUP_JA = {
    "first": "初回",
    "toddler": "よちよち",
    "steady": "コツコツ",
    "trendy": "流行",
    "loyal": "優良",
}
STATUSES = ("active", "lapsed")
STATUS_JA = {"active": "現役", "lapsed": "離脱"}

CPM_PARAMS = (
    AS_OF,
    Param(
        "churn_days",
        "int",
        "離脱とみなす日数",
        "Days without purchase until lapsed",
        240,
        minimum=1,
    ),
    Param(
        "short_days", "int", "在籍期間の閾値1 (日)", "First tenure threshold (days)", 90, minimum=1
    ),
    Param(
        "long_days", "int", "在籍期間の閾値2 (日)", "Second tenure threshold (days)", 210, minimum=1
    ),
    Param(
        "amount",
        "int",
        "累計購入金額の閾値 (円)",
        "Cumulative amount threshold (yen)",
        70_000,
        minimum=0,
    ),
)


def cpm_customers(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    p, ref = purchases_until(con, params)
    c = p.group_by("customer_id").aggregate(
        first_order=p.order_date.min(),
        last_order=p.order_date.max(),
        orders=p.count(),
        cumulative=p.total.sum(),
    )
    c = c.mutate(
        tenure_days=days_between(c.last_order, c.first_order),
        days_since_last=days_between(ibis.literal(ref), c.last_order),
    )
    group = ibis.cases(
        (c.orders == 1, "first"),
        (c.tenure_days < params["short_days"], "toddler"),
        (c.cumulative < params["amount"], "steady"),
        (c.tenure_days < params["long_days"], "trendy"),
        else_="loyal",
    )
    status = ibis.ifelse(c.days_since_last >= params["churn_days"], "lapsed", "active")
    c = c.mutate(cpm_group=group, cpm_status=status)
    return c.mutate(
        cpm_label=c.cpm_group.substitute(GROUP_JA) + c.cpm_status.substitute(STATUS_JA) + "客"
    )


register(
    Template(
        id="cpm_customers",
        category="cpm",
        name_ja="顧客ポートフォリオ分析 (顧客別)",
        name_en="Customer portfolio (per customer)",
        description_ja="顧客ごとのCPM区分 (初回/よちよち/コツコツ/流行/優良 × 現役/離脱) と"
        "在籍期間・累計購入金額。",
        description_en="Each customer's CPM group (first, toddler, steady, trendy, loyal x "
        "active, lapsed) with tenure and cumulative spend.",
        build=cpm_customers,
        params=CPM_PARAMS,
        order_by=("customer_id",),
    )
)


def cpm_summary(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    """All ten groups, including empty ones, so charts keep their shape."""
    c = cpm_customers(con, params)
    counts = c.group_by(["cpm_group", "cpm_status"]).aggregate(
        customers=c.customer_id.count(), revenue=c.cumulative.sum()
    )
    frame = ibis.memtable(
        {
            "cpm_group": [g for g in GROUPS for _ in STATUSES],
            "cpm_status": [s for _ in GROUPS for s in STATUSES],
            "group_order": [i for i in range(len(GROUPS)) for _ in STATUSES],
            "cpm_label": [GROUP_JA[g] + STATUS_JA[s] + "客" for g in GROUPS for s in STATUSES],
        }
    )
    j = frame.left_join(counts, ["cpm_group", "cpm_status"])
    return j.select(
        "group_order",
        "cpm_group",
        "cpm_status",
        "cpm_label",
        customers=j.customers.fill_null(0),
        revenue=j.revenue.fill_null(0),
    )


register(
    Template(
        id="cpm",
        category="cpm",
        name_ja="顧客ポートフォリオ分析 (CPM)",
        name_en="Customer portfolio (CPM)",
        description_ja="10区分 (初回/よちよち/コツコツ/流行/優良 × 現役/離脱) ごとの"
        "顧客数と累計売上。既定: 離脱240日、在籍90日/210日、累計70,000円。",
        description_en="Customers and cumulative revenue in the ten CPM groups. Defaults: "
        "lapsed after 240 days, tenure 90/210 days, cumulative 70,000 yen.",
        build=cpm_summary,
        params=CPM_PARAMS,
        chart=Chart("bar", x="cpm_label", y=("customers",), color="cpm_status"),
        order_by=("group_order", "cpm_status"),
    )
)


def _code(group: ibis.Value, status: ibis.Value) -> ibis.Value:
    """A sortable code for the ten groups: 0 first ... 4 loyal, a active / b lapsed."""
    order = group.substitute({g: str(i) for i, g in enumerate(GROUPS)})
    return order + ibis.ifelse(status == "active", "a", "b")


NONE_CODE = "-"
NONE_LABEL = "(未購入)"

FROM_DATE = Param(
    "from_date",
    "date",
    "比較元の日付 (空欄: 基準日の180日前)",
    "Date to compare from (empty: 180 days before the reference date)",
)


def cpm_transition(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    ref = as_of_date(con, params)
    before = params.get("from_date") or ref - timedelta(days=180)
    if before >= ref:
        raise ParamError("parameter from_date: must be before the reference date")
    old = cpm_customers(con, {**params, "as_of": before})
    new = cpm_customers(con, {**params, "as_of": ref})
    old = old.select(
        "customer_id", from_code=_code(old.cpm_group, old.cpm_status), from_label="cpm_label"
    )
    new = new.select(
        "customer_id", to_code=_code(new.cpm_group, new.cpm_status), to_label="cpm_label"
    )
    j = new.left_join(old, "customer_id")
    j = j.mutate(
        from_code=j.from_code.fill_null(NONE_CODE), from_label=j.from_label.fill_null(NONE_LABEL)
    )
    g = j.group_by(["from_code", "from_label", "to_code", "to_label"]).aggregate(
        customers=j.customer_id.count()
    )
    total = g.customers.sum().over(ibis.window(group_by=g.from_code))
    return g.mutate(share_of_from=rounded((g.customers.cast("float64") / total), 4))


register(
    Template(
        id="cpm_transition",
        category="cpm",
        name_ja="顧客ポートフォリオ推移分析 (CPM推移)",
        name_en="Customer portfolio transition (CPM)",
        description_ja="比較元の日付と基準日のCPM区分の遷移: 区分の組み合わせごとの顧客数と"
        "比較元区分に占める割合。比較元で未購入の顧客は「(未購入)」。コードは区分順"
        " (0初回…4優良、a現役/b離脱)。",
        description_en="Transitions between CPM groups from an earlier date to the "
        "reference date: customers per (from, to) pair and their share of the from group; "
        "customers without a purchase on the earlier date come from '(未購入)'.",
        build=cpm_transition,
        params=(*CPM_PARAMS, FROM_DATE),
        chart=Chart("heatmap", x="to_label", y=("from_label",), z="customers"),
        order_by=("from_code", "to_code"),
    )
)


def cpm_by_channel(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    ref = as_of_date(con, params)
    c = cpm_customers(con, params)
    c = c.inner_join(customer_values(con, "acquisition_channel", ref), "customer_id")
    c = c.mutate(cpm_code=_code(c.cpm_group, c.cpm_status))
    g = c.group_by(["acquisition_channel", "cpm_code", "cpm_label"]).aggregate(
        customers=c.customer_id.count(), revenue=c.cumulative.sum()
    )
    total = g.customers.sum().over(ibis.window(group_by=g.acquisition_channel))
    return g.mutate(share_of_channel=rounded((g.customers.cast("float64") / total), 4))


register(
    Template(
        id="cpm_by_acquisition_channel",
        category="cpm",
        name_ja="獲得経路別 顧客ポートフォリオ",
        name_en="Customer portfolio by acquisition channel",
        description_ja="獲得経路ごとのCPM区分別の顧客数・累計売上と、経路内の構成比。"
        "どの経路が優良客を生むかを見る。",
        description_en="Customers and cumulative revenue per CPM group within each "
        "acquisition channel, and the group's share of the channel.",
        build=cpm_by_channel,
        params=CPM_PARAMS,
        chart=Chart("bar", x="acquisition_channel", y=("customers",), color="cpm_label"),
        order_by=("acquisition_channel", "cpm_code"),
    )
)

NEXT_DAYS = Param("days", "int", "次期の日数", "Days of the following period", 90, minimum=1)


def cpm_next_period(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    """Groups as of (reference date - days), purchases in the days after it."""
    ref = as_of_date(con, params)
    base = ref - timedelta(days=params["days"])
    c = cpm_customers(con, {**params, "as_of": base})
    c = c.select("customer_id", "cpm_label", cpm_code=_code(c.cpm_group, c.cpm_status))
    p = purchases(con)
    p = p.filter((p.order_date > base) & (p.order_date <= ref))
    nxt = p.group_by("customer_id").aggregate(orders=p.order_id.count(), revenue=p.total.sum())
    j = c.left_join(nxt, "customer_id")
    g = j.group_by(["cpm_code", "cpm_label"]).aggregate(
        customers=j.customer_id.count(),
        buyers=j.orders.count(),
        orders=j.orders.sum().fill_null(0),
        revenue=j.revenue.sum().fill_null(0),
    )
    return g.mutate(
        purchase_rate=rounded((g.buyers.cast("float64") / g.customers), 4),
        revenue_per_customer=rounded((g.revenue.cast("float64") / g.customers), 0),
    )


register(
    Template(
        id="cpm_next_period",
        category="cpm",
        name_ja="CPM区分別 次期購入率・売上",
        name_en="Next-period purchases by CPM group",
        description_ja="基準日のN日前 (既定90日) 時点のCPM区分ごとに、その後N日間の購入率・"
        "受注数・売上・1人あたり売上。施策の優先順位付けに。",
        description_en="For each CPM group as of N days (default 90) before the reference "
        "date, the purchase rate, orders, revenue and revenue per customer in the "
        "following N days.",
        build=cpm_next_period,
        params=(*CPM_PARAMS, NEXT_DAYS),
        chart=Chart("bar", x="cpm_label", y=("purchase_rate",)),
        order_by=("cpm_code",),
    )
)

"""Customer portfolio management (CPM, 顧客ポートフォリオ分析).

The usual definition: tenure is the days from the first to the latest purchase, and a
customer is 離脱 (lapsed) once `churn_days` have passed since the latest purchase.
初回 bought once; よちよち bought twice or more within a tenure under `short_days`;
of the rest, コツコツ spent under `amount`, 流行 reached `amount` with a tenure under
`long_days`, and 優良 reached it with a longer tenure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ibis
from ibis.backends import BaseBackend

from tokui.analytics.base import AS_OF, days_between, purchases_until
from tokui.analytics.registry import Chart, Param, Template, register

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
        orders=p.order_id.count(),
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

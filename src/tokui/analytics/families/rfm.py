"""RFM: recency, frequency and monetary value per customer, scored 1 (low) to 5 (high)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ibis
from ibis.backends import BaseBackend

from tokui.analytics.base import AS_OF, days_between, purchases_until
from tokui.analytics.registry import Chart, Param, Template, register

METHOD = Param(
    "method",
    "choice",
    "スコアの付け方 (quintile: 5分位, thresholds: 閾値)",
    "Scoring (quintile or thresholds)",
    "thresholds",
    choices=("quintile", "thresholds"),
)
R_BINS = Param(
    "r_thresholds",
    "int_list",
    "R閾値 (日数, 昇順)",
    "Recency thresholds (days)",
    (30, 60, 90, 180),
    minimum=0,
)
F_BINS = Param(
    "f_thresholds",
    "int_list",
    "F閾値 (回数, 昇順)",
    "Frequency thresholds (orders)",
    (2, 3, 5, 10),
    minimum=1,
)
M_BINS = Param(
    "m_thresholds",
    "int_list",
    "M閾値 (円, 昇順)",
    "Monetary thresholds (yen)",
    (10_000, 30_000, 50_000, 100_000),
    minimum=0,
)
RFM_PARAMS = (AS_OF, METHOD, R_BINS, F_BINS, M_BINS)


def _score_up(value: ibis.Value, thresholds: tuple[int, ...]) -> ibis.Value:
    """1 + the number of thresholds the value reaches: more is better (F, M)."""
    score: ibis.Value = ibis.literal(1)
    for t in thresholds:
        score = score + ibis.ifelse(value >= t, 1, 0)
    return score


def _score_down(value: ibis.Value, thresholds: tuple[int, ...]) -> ibis.Value:
    """1 + the number of thresholds the value stays within: fewer days is better (R)."""
    score: ibis.Value = ibis.literal(1)
    for t in thresholds:
        score = score + ibis.ifelse(value <= t, 1, 0)
    return score


def rfm_values(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    p, ref = purchases_until(con, params)
    c = p.group_by("customer_id").aggregate(
        last_order=p.order_date.max(),
        frequency=p.order_id.count(),
        monetary=p.total.sum(),
    )
    return c.mutate(recency_days=days_between(ibis.literal(ref), c.last_order))


def rfm_scores(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    c = rfm_values(con, params)
    if params["method"] == "quintile":

        def tile(*keys: Any) -> ibis.Value:
            return ibis.ntile(5).over(ibis.window(order_by=[*keys, c.customer_id])) + 1

        c = c.mutate(
            r_score=tile(ibis.desc(c.recency_days)),
            f_score=tile(c.frequency),
            m_score=tile(c.monetary),
        )
    else:
        c = c.mutate(
            r_score=_score_down(c.recency_days, params["r_thresholds"]),
            f_score=_score_up(c.frequency, params["f_thresholds"]),
            m_score=_score_up(c.monetary, params["m_thresholds"]),
        )
    c = c.mutate(
        rfm_cell=c.r_score.cast("string") + c.f_score.cast("string") + c.m_score.cast("string")
    )
    return c.select(
        "customer_id",
        "recency_days",
        "frequency",
        "monetary",
        "last_order",
        "r_score",
        "f_score",
        "m_score",
        "rfm_cell",
    )


register(
    Template(
        id="rfm",
        category="rfm",
        name_ja="RFM分析",
        name_en="RFM analysis",
        description_ja="顧客ごとの最終購入からの日数 (R)・購入回数 (F)・購入金額 (M) と"
        "1〜5のスコア。閾値指定または5分位。",
        description_en="Recency, frequency and monetary value per customer with 1-5 scores, "
        "by thresholds or quintiles.",
        build=rfm_scores,
        params=RFM_PARAMS,
        chart=Chart("table"),
        order_by=("customer_id",),
    )
)


def rfm_grid(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
    s = rfm_scores(con, params)
    return s.group_by(["r_score", "f_score"]).aggregate(
        customers=s.customer_id.count(), revenue=s.monetary.sum()
    )


register(
    Template(
        id="rfm_grid",
        category="rfm",
        name_ja="RFMグリッド (R×F)",
        name_en="RFM grid (R x F)",
        description_ja="RスコアとFスコアの組み合わせごとの顧客数と売上。",
        description_en="Customers and revenue for each combination of R and F scores.",
        build=rfm_grid,
        params=RFM_PARAMS,
        chart=Chart("heatmap", x="f_score", y=("r_score",), z="customers"),
        order_by=("r_score", "f_score"),
    )
)

"""RFM: recency, frequency and monetary value per customer, scored 1 (low) to 5 (high)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
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
from tokui.analytics.registry import Chart, Param, ParamError, Template, register

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
        frequency=p.count(),
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


AXES = {"r": "r_score", "f": "f_score", "m": "m_score"}
AXIS_JA = {"r": "R (最終購入からの日数)", "f": "F (購入回数)", "m": "M (購入金額)"}
AXIS_EN = {"r": "recency", "f": "frequency", "m": "monetary"}
FROM_DATE = Param(
    "from_date",
    "date",
    "比較元の日付 (空欄: 基準日の180日前)",
    "Date to compare from (empty: 180 days before the reference date)",
)


def _at(params: Mapping[str, Any], day: date) -> dict[str, Any]:
    return {**params, "as_of": day}


def _from_date(params: Mapping[str, Any], ref: date) -> date:
    day = params.get("from_date")
    return day if isinstance(day, date) else ref - timedelta(days=180)


def _transition(axis: str) -> Any:
    col = AXES[axis]

    def build(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
        ref = as_of_date(con, params)
        before = _from_date(params, ref)
        if before >= ref:
            raise ParamError("parameter from_date: must be before the reference date")
        old = rfm_scores(con, _at(params, before)).select("customer_id", old=col)
        new = rfm_scores(con, _at(params, ref)).select("customer_id", new=col)
        j = new.left_join(old, "customer_id")
        # 0 = no purchase yet on the earlier date (a new customer since then).
        j = j.mutate(from_score=j.old.fill_null(0), to_score=j.new)
        g = j.group_by(["from_score", "to_score"]).aggregate(customers=j.customer_id.count())
        total = g.customers.sum().over(ibis.window(group_by=g.from_score))
        return g.mutate(share_of_from=rate_of(g.customers, total))

    return build


def rate_of(numerator: ibis.Value, denominator: ibis.Value) -> ibis.Value:
    return rounded((numerator.cast("float64") / denominator.nullif(0)), 4)


for _axis in AXES:
    register(
        Template(
            id=f"rfm_transition_{_axis}",
            category="rfm",
            name_ja=f"RFMセグメント推移分析 ({_axis.upper()}スコア)",
            name_en=f"RFM transition matrix ({AXIS_EN[_axis]} score)",
            description_ja=f"比較元の日付と基準日の{AXIS_JA[_axis]}スコアの遷移行列: "
            "スコアの組み合わせごとの顧客数と、比較元スコアの顧客に占める割合。"
            "比較元で未購入の顧客はスコア0。",
            description_en=f"Transition matrix of the {AXIS_EN[_axis]} score between two "
            "dates: customers per (from, to) pair and their share of the from score; "
            "customers without a purchase on the earlier date have score 0.",
            build=_transition(_axis),
            params=(*RFM_PARAMS, FROM_DATE),
            chart=Chart("heatmap", x="to_score", y=("from_score",), z="customers"),
            order_by=("from_score", "to_score"),
        )
    )

REPEAT_DAYS = Param(
    "days", "int", "リピートを見る日数", "Days to watch for a repeat purchase", 90, minimum=1
)


def _repeat_rate(axes: tuple[str, ...]) -> Any:
    cols = [AXES[a] for a in axes]

    def build(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
        """Scores on (reference date - days), purchases in the days after it."""
        ref = as_of_date(con, params)
        base = ref - timedelta(days=params["days"])
        s = rfm_scores(con, _at(params, base)).select("customer_id", *cols)
        p = purchases(con)
        p = p.filter((p.order_date > base) & (p.order_date <= ref))
        nxt = p.group_by("customer_id").aggregate(
            next_orders=p.order_id.count(), next_revenue=p.total.sum()
        )
        j = s.left_join(nxt, "customer_id")
        g = j.group_by(cols).aggregate(
            customers=j.customer_id.count(),
            repeat_customers=j.next_orders.count(),
            next_revenue=j.next_revenue.sum().fill_null(0),
        )
        return g.mutate(repeat_rate=rate_of(g.repeat_customers, g.customers))

    return build


for _axes, _suffix in ((("r", "f"), ""), (("r",), "_r"), (("f",), "_f"), (("m",), "_m")):
    _label = "×".join(a.upper() for a in _axes)
    register(
        Template(
            id=f"rfm_repeat_rate{_suffix}",
            category="rfm",
            name_ja=f"RFMリピート率分析 ({_label})",
            name_en=f"RFM repeat rate ({' x '.join(AXIS_EN[a] for a in _axes)})",
            description_ja=f"基準日のN日前 (既定90日) 時点の{_label}スコアごとに、その後N日間に"
            "購入した顧客の割合 (リピート率) とその売上。",
            description_en="For each score as of N days (default 90) before the reference "
            "date, the share of customers who bought in the following N days and their "
            "revenue.",
            build=_repeat_rate(_axes),
            params=(*RFM_PARAMS, REPEAT_DAYS),
            chart=(
                Chart("heatmap", x="f_score", y=("r_score",), z="repeat_rate")
                if len(_axes) == 2
                else Chart("bar", x=AXES[_axes[0]], y=("repeat_rate",))
            ),
            order_by=tuple(AXES[a] for a in _axes),
        )
    )


def _distribution(axis: str) -> Any:
    col = AXES[axis]
    value = {"r": "recency_days", "f": "frequency", "m": "monetary"}[axis]

    def build(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
        s = rfm_scores(con, params)
        g = s.group_by(col).aggregate(
            customers=s.customer_id.count(),
            revenue=s.monetary.sum(),
            min_value=s[value].min(),
            max_value=s[value].max(),
        )
        return g.mutate(share=rate_of(g.customers, g.customers.sum().over(ibis.window())))

    return build


for _axis in AXES:
    register(
        Template(
            id=f"rfm_{_axis}_distribution",
            category="rfm",
            name_ja=f"RFM {_axis.upper()}スコア分布",
            name_en=f"RFM {AXIS_EN[_axis]} score distribution",
            description_ja=f"{AXIS_JA[_axis]}スコアごとの顧客数・構成比・累計売上と、"
            "そのスコアに入った値の最小・最大。",
            description_en=f"Customers, share and lifetime revenue per {AXIS_EN[_axis]} "
            "score, with the smallest and largest value in each score.",
            build=_distribution(_axis),
            params=RFM_PARAMS,
            chart=Chart("bar", x=AXES[_axis], y=("customers",)),
            order_by=(AXES[_axis],),
        )
    )


def _grid(a: str, b: str) -> Any:
    def build(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
        s = rfm_scores(con, params)
        return s.group_by([AXES[a], AXES[b]]).aggregate(
            customers=s.customer_id.count(), revenue=s.monetary.sum()
        )

    return build


for _a, _b in (("f", "m"), ("r", "m")):
    register(
        Template(
            id=f"rfm_grid_{_a}{_b}",
            category="rfm",
            name_ja=f"RFMグリッド ({_a.upper()}×{_b.upper()})",
            name_en=f"RFM grid ({_a.upper()} x {_b.upper()})",
            description_ja=f"{_a.upper()}スコアと{_b.upper()}スコアの組み合わせごとの顧客数と売上。",
            description_en=f"Customers and revenue for each combination of {_a.upper()} and "
            f"{_b.upper()} scores.",
            build=_grid(_a, _b),
            params=RFM_PARAMS,
            chart=Chart("heatmap", x=AXES[_b], y=(AXES[_a],), z="customers"),
            order_by=(AXES[_a], AXES[_b]),
        )
    )

"""Train the models on the warehouse, score every customer and subscription, record runs.

The same functions serve `tokui models train|score|report` and the refresh step.
Everything heavy stays in the warehouse (one Ibis aggregate per model) or in numpy over
one row per customer; fitting itself works on distinct rows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from ibis.backends import BaseBackend
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tokui.clock import Clock, utc_naive
from tokui.models.base import ConvergenceError, Fitter
from tokui.models.bgnbd import BetaGeoFitter, ModifiedBetaGeoFitter
from tokui.models.churn import SPECS, ChurnConfig, ChurnResult, score_churn, train_churn
from tokui.models.data import customer_rfm, purchase_intervals, subscription_periods
from tokui.models.gamma_gamma import GammaGammaFitter
from tokui.models.next_purchase import NextPurchaseModel
from tokui.models.pareto_nbd import ParetoNBDFitter
from tokui.models.recommend import RecommendConfig, evaluate, product_pairs, recommendations
from tokui.models.sbg import ShiftedBetaGeoFitter
from tokui.models.scores import (
    CUSTOMER_SCORES,
    PRODUCT_PAIRS,
    RECOMMENDATIONS,
    SUBSCRIPTION_SCORES,
    replace_table,
)
from tokui.state.db import session_scope
from tokui.state.model_runs import ModelRun

TRANSACTION_MODELS: dict[str, type[BetaGeoFitter] | type[ParetoNBDFitter]] = {
    # MBG/NBD is the default: in food e-commerce many first buyers never return, and
    # BG/NBD cannot let anyone drop out before a repeat purchase (P(alive) = 1 for
    # every one-time buyer). docs/models.md shows the difference on the demo shop.
    "mbgnbd": ModifiedBetaGeoFitter,
    "bgnbd": BetaGeoFitter,
    "pareto_nbd": ParetoNBDFitter,
}


@dataclass(frozen=True)
class ModelsConfig:
    transaction_model: str = "mbgnbd"
    monthly_discount: float = 0.01
    clv_months: int = 12
    horizon_days: int = 90
    min_group_subscriptions: int = 50
    churn: ChurnConfig = field(default_factory=ChurnConfig)
    recommend: RecommendConfig = field(default_factory=RecommendConfig)

    def __post_init__(self) -> None:
        if self.transaction_model not in TRANSACTION_MODELS:
            raise ValueError(f"transaction_model: one of {', '.join(TRANSACTION_MODELS)}")
        if not 0 <= self.monthly_discount < 1:
            raise ValueError("monthly_discount: a rate between 0 and 1")


@dataclass
class Trained:
    as_of: date
    config: ModelsConfig
    rfm: pd.DataFrame
    transactions: BetaGeoFitter | ParetoNBDFitter | None = None
    spend: GammaGammaFitter | None = None
    intervals: pd.DataFrame = field(default_factory=pd.DataFrame)
    timing: NextPurchaseModel | None = None
    subscriptions: pd.DataFrame = field(default_factory=pd.DataFrame)
    retention: dict[tuple[str, str, str], ShiftedBetaGeoFitter] = field(default_factory=dict)
    churn: dict[str, ChurnResult] = field(default_factory=dict)
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)


def train(con: BaseBackend, as_of: date, config: ModelsConfig | None = None) -> Trained:
    cfg = config or ModelsConfig()
    rfm = customer_rfm(con, as_of).to_pandas()
    out = Trained(as_of, cfg, rfm)
    if len(rfm):
        _train_clv(out)
    out.intervals = purchase_intervals(con, as_of).to_pandas()
    if (out.intervals.n_intervals >= 2).any():
        out.timing = NextPurchaseModel().fit(
            out.intervals.n_intervals, out.intervals.sum_log, out.intervals.sum_log_sq
        )
        out.metrics["next_purchase"] = {
            "customers_with_intervals": int((out.intervals.n_intervals > 0).sum()),
            "median_typical_interval_days": float(
                np.median(
                    out.timing.typical_interval_days(
                        out.intervals.n_intervals, out.intervals.sum_log
                    )
                )
            ),
        }
    out.subscriptions = subscription_periods(con, as_of).to_pandas()
    if len(out.subscriptions):
        _train_retention(out)
    for name, spec in SPECS.items():
        result = train_churn(con, spec, as_of, cfg.churn)
        out.churn[name] = result
        out.metrics[name] = {**result.metrics, **({"note": result.note} if result.note else {})}
    out.metrics["recommendations"] = {"evaluation": evaluate(con, as_of, cfg.recommend)}
    return out


def _train_clv(out: Trained) -> None:
    rfm, cfg = out.rfm, out.config
    model = TRANSACTION_MODELS[cfg.transaction_model]()
    model.fit(rfm.frequency, rfm.recency, rfm["T"])
    out.transactions = model
    alive = model.conditional_probability_alive(rfm.frequency, rfm.recency, rfm["T"])
    expected = model.conditional_expected_number_of_purchases_up_to_time(
        cfg.horizon_days, rfm.frequency, rfm.recency, rfm["T"]
    )
    out.metrics["clv"] = {
        "customers": len(rfm),
        "log_likelihood": model.log_likelihood_,
        "mean_p_alive": float(alive.mean()),
        f"expected_purchases_{cfg.horizon_days}d": float(expected.sum()),
        "repeat_purchases_observed": int(rfm.frequency.sum()),
    }
    repeat = rfm[(rfm.frequency > 0) & (rfm.monetary_value > 0)]
    if len(repeat) >= 10:
        out.spend = GammaGammaFitter().fit(repeat.frequency, repeat.monetary_value)
        # The Gamma-Gamma model assumes spend is independent of frequency; record the check.
        corr = float(np.corrcoef(repeat.frequency, repeat.monetary_value)[0, 1])
        out.metrics["clv"]["repeat_buyers"] = len(repeat)
        out.metrics["clv"]["corr_frequency_monetary"] = corr
        out.metrics["clv"]["gamma_gamma_log_likelihood"] = out.spend.log_likelihood_


def _fit_sbg(rows: pd.DataFrame) -> ShiftedBetaGeoFitter | None:
    if not rows.churned.any() or rows.churned.all():
        return None
    t = np.where(rows.churned, rows.periods, rows.renewals)
    keep = t >= 0
    try:
        return ShiftedBetaGeoFitter().fit(t[keep], rows.churned.to_numpy()[keep])
    except (ConvergenceError, ValueError):
        return None


MIN_GROUP_CANCELLATIONS = 10
MAX_GROUP_CONCENTRATION = 1_000.0


def _train_retention(out: Trained) -> None:
    subs, minimum = out.subscriptions, out.config.min_group_subscriptions
    overall = _fit_sbg(subs)
    if overall is None:
        return
    out.retention[("all", "", "")] = overall

    def group_fit(rows: pd.DataFrame) -> ShiftedBetaGeoFitter | None:
        if len(rows) < minimum or int(rows.churned.sum()) < MIN_GROUP_CANCELLATIONS:
            return None
        fit = _fit_sbg(rows)
        # A young cohort, seen for a few deliveries only, shows no heterogeneity: alpha and
        # beta run off towards infinity with their ratio fixed (a plain geometric). Its
        # long-run survival would be too pessimistic; the level above serves it better.
        if fit is None or fit.params_["alpha"] + fit.params_["beta"] > MAX_GROUP_CONCENTRATION:
            return None
        return fit

    for product, rows in subs.groupby("product_id", sort=True):
        if (fit := group_fit(rows)) is not None:
            out.retention[("product", str(product), "")] = fit
        for cohort, part in rows.groupby("cohort", sort=True):
            if (fit := group_fit(part)) is not None:
                out.retention[("product_cohort", str(product), str(cohort))] = fit
    out.metrics["sbg"] = {
        "subscriptions": len(subs),
        "cancelled_in_closed_windows": int(subs.churned.sum()),
        "groups": {
            level: sum(1 for k in out.retention if k[0] == level)
            for level in ("product_cohort", "product", "all")
        },
        "log_likelihood_all": overall.log_likelihood_,
    }


def score_customers(
    trained: Trained, computed_at: datetime, extra: list[pd.DataFrame] | None = None
) -> pa.Table:
    parts: list[pd.DataFrame] = [f for f in extra or [] if len(f)]
    cfg, rfm = trained.config, trained.rfm
    if trained.transactions is not None:
        m = trained.transactions
        x, tx, t = rfm.frequency, rfm.recency, rfm["T"]
        spend = (
            trained.spend.conditional_expected_average_profit(x, rfm.monetary_value)
            if trained.spend is not None
            else np.full(len(rfm), np.nan)
        )
        clv = (
            trained.spend.customer_lifetime_value(
                m, x, tx, t, rfm.monetary_value, cfg.clv_months, cfg.monthly_discount, "D"
            )
            if trained.spend is not None
            else np.full(len(rfm), np.nan)
        )
        parts.append(
            pd.DataFrame(
                {
                    "customer_id": rfm.customer_id,
                    "model": "clv",
                    "frequency": x,
                    "recency_days": tx,
                    "t_days": t,
                    "p_alive": m.conditional_probability_alive(x, tx, t),
                    "expected_purchases_90d": m.conditional_expected_number_of_purchases_up_to_time(
                        90, x, tx, t
                    ),
                    "expected_avg_spend": spend,
                    "clv_12m": clv,
                }
            )
        )
    if trained.timing is not None and len(trained.intervals):
        iv = trained.intervals
        days = trained.timing.typical_interval_days(iv.n_intervals, iv.sum_log)
        last = pd.to_datetime(iv.last_day).to_numpy(dtype="datetime64[D]")
        nxt = last + np.round(days).astype("timedelta64[D]")
        parts.append(
            pd.DataFrame(
                {
                    "customer_id": iv.customer_id,
                    "model": "next_purchase",
                    "next_purchase_date": nxt,
                    "typical_interval_days": days,
                }
            )
        )
    if not parts:  # an empty shop: an empty table with the declared columns
        return CUSTOMER_SCORES.schema.to_pyarrow().empty_table()
    frame = pd.concat(parts, ignore_index=True)
    frame["computed_at"] = computed_at
    frame["as_of"] = trained.as_of
    return pa.Table.from_pandas(frame, preserve_index=False)


def _period_discount(monthly: float, cycle_days: np.ndarray) -> np.ndarray:
    # a per-delivery rate equivalent to the monthly rate (30-day months, as for CLV)
    return np.asarray((1 + monthly) ** (cycle_days / 30.0) - 1, dtype=np.float64)


def score_subscriptions(trained: Trained, computed_at: datetime) -> pa.Table:
    subs = trained.subscriptions
    if not len(subs) or not trained.retention:
        return SUBSCRIPTION_SCORES.schema.to_pyarrow().empty_table()
    active = subs[subs.active].reset_index(drop=True)
    level = np.full(len(active), "all", dtype=object)
    alpha = np.full(len(active), trained.retention[("all", "", "")].params_["alpha"])
    beta = np.full(len(active), trained.retention[("all", "", "")].params_["beta"])
    for (lvl, product, cohort), fit in trained.retention.items():
        if lvl == "all":
            continue
        sel = np.array(active.product_id == product, dtype=bool)
        if lvl == "product_cohort":
            sel &= np.array(active.cohort.astype(str) == cohort, dtype=bool)
        else:
            sel &= level != "product_cohort"
        level[sel] = lvl
        alpha[sel], beta[sel] = fit.params_["alpha"], fit.params_["beta"]
    n = active.renewals.to_numpy(np.float64) + 1
    cycle = active.cycle_days.to_numpy(np.float64)
    horizon = np.maximum(np.floor(365.0 / cycle), 1).astype(int)
    expected_12m = np.empty(len(active))
    derl = np.empty(len(active))
    discount = _period_discount(trained.config.monthly_discount, cycle)
    for key in set(zip(alpha, beta, horizon, strict=True)):
        a, b, h = key
        sel = (alpha == a) & (beta == b) & (horizon == h)
        fit = ShiftedBetaGeoFitter()
        fit._set_fit(np.array([a, b]), float("nan"), np.full(2, np.nan), 0)
        expected_12m[sel] = fit.expected_remaining_periods(n[sel] - 1, int(h))
        derl[sel] = fit.discounted_expected_residual_lifetime(
            n[sel] - 1, np.maximum(discount[sel], 1e-9)
        )
    per_delivery = active.revenue.to_numpy(np.float64) / active.periods.to_numpy(np.float64)
    frame = pd.DataFrame(
        {
            "subscription_id": active.subscription_id,
            "customer_id": active.customer_id,
            "product_id": active.product_id,
            "cohort": active.cohort,
            "computed_at": computed_at,
            "as_of": trained.as_of,
            "fit_level": level,
            "renewals": active.renewals,
            "p_renew_next": (beta + n - 1) / (alpha + beta + n - 1),
            "expected_deliveries_12m": expected_12m,
            "derl_deliveries": derl,
            "revenue_per_delivery": per_delivery,
            "expected_revenue_12m": expected_12m * per_delivery,
            "expected_remaining_revenue": derl * per_delivery,
        }
    )
    return pa.Table.from_pandas(frame, preserve_index=False)


# -- runs in the state DB ---------------------------------------------------------------


def _params(fit: Fitter | None) -> dict[str, Any]:
    return fit.to_dict() if fit is not None else {}


def run_models(
    con: BaseBackend,
    sessions: sessionmaker[Session],
    clock: Clock,
    as_of: date,
    config: ModelsConfig | None = None,
    write: bool = True,
) -> Trained:
    """Train everything, write both score tables (unless `write` is False), record runs."""
    started = utc_naive(clock.now())
    trained = train(con, as_of, config)
    computed_at = utc_naive(clock.now())
    rows: dict[str, int] = {}
    if write:
        churn = [score_churn(con, result, as_of) for result in trained.churn.values()]
        for frame in churn:
            if len(frame):
                name = str(frame.model.iloc[0])
                trained.metrics[name]["scored"] = len(frame)
        rows[CUSTOMER_SCORES.name] = replace_table(
            con, CUSTOMER_SCORES, score_customers(trained, computed_at, churn)
        )
        subs = score_subscriptions(trained, computed_at)
        if subs.num_rows or SUBSCRIPTION_SCORES.name not in con.list_tables():
            rows[SUBSCRIPTION_SCORES.name] = replace_table(con, SUBSCRIPTION_SCORES, subs)
        rows.update(_write_recommendations(con, trained, computed_at))
    finished = utc_naive(clock.now())
    first = trained.rfm.first_day.min() if len(trained.rfm) else None
    data_from = pd.Timestamp(first).date() if first is not None and not pd.isna(first) else None
    runs = {
        "clv": {
            "transactions": _params(trained.transactions),
            "spend": _params(trained.spend),
            "config": {
                "transaction_model": trained.config.transaction_model,
                "monthly_discount": trained.config.monthly_discount,
                "clv_months": trained.config.clv_months,
            },
        },
        "next_purchase": _params(trained.timing),
        "sbg": {
            "/".join(k for k in key if k): fit.params_ for key, fit in trained.retention.items()
        },
    }
    for name, result in trained.churn.items():
        runs[name] = _churn_params(result)
    cfg_r = trained.config.recommend
    runs["recommendations"] = {
        "top_n": cfg_r.top_n,
        "min_orders": cfg_r.min_orders,
        "half_life_days": cfg_r.half_life_days,
        "view_weight": cfg_r.view_weight,
        "neighbours": cfg_r.neighbours,
        "new_days": cfg_r.new_days,
    }
    with session_scope(sessions) as session:
        for model, params in runs.items():
            metrics = dict(trained.metrics.get(model, {}))
            metrics["rows_written"] = rows
            fitted = trained.churn.get(model)
            session.add(
                ModelRun(
                    model=model,
                    status=_status(model, params, fitted, metrics),
                    data_from=fitted.data_from if fitted and fitted.data_from else data_from,
                    data_to=as_of,
                    params=json.dumps(params, ensure_ascii=False, default=str),
                    metrics=json.dumps(metrics, ensure_ascii=False, default=str),
                    started_at=started,
                    finished_at=finished,
                )
            )
    return trained


def _status(
    model: str, params: dict[str, Any], result: ChurnResult | None, metrics: dict[str, Any]
) -> str:
    if result is not None:
        return result.status
    if model == "recommendations":
        return "ok" if metrics.get("evaluation", {}).get("status") == "ok" else "skipped"
    return "ok" if params else "skipped"


def _churn_params(result: ChurnResult) -> dict[str, Any]:
    if result.model is None:
        return {}
    m = result.model
    return {
        "model": "LightGBM",
        "horizon_days": result.spec.horizon,
        "features": list(result.spec.features),
        "rounds": m.best_rounds_,
        "num_leaves": m.config.num_leaves,
        "max_depth": m.config.max_depth,
        "learning_rate": m.config.learning_rate,
        "calibration": m.calibrator_.to_dict(),
    }


def _write_recommendations(
    con: BaseBackend, trained: Trained, computed_at: datetime
) -> dict[str, int]:
    cfg = trained.config.recommend
    stamp = {"computed_at": computed_at, "as_of": trained.as_of}
    pairs = product_pairs(con, trained.as_of, cfg).to_pandas().assign(**stamp)
    recs = recommendations(con, trained.as_of, cfg).to_pandas().assign(**stamp)
    trained.metrics["recommendations"]["pairs"] = len(pairs)
    trained.metrics["recommendations"]["customers"] = int(recs.customer_id.nunique())
    return {
        PRODUCT_PAIRS.name: replace_table(con, PRODUCT_PAIRS, pa.Table.from_pandas(pairs)),
        RECOMMENDATIONS.name: replace_table(con, RECOMMENDATIONS, pa.Table.from_pandas(recs)),
    }


def latest_runs(sessions: sessionmaker[Session], limit: int = 20) -> list[ModelRun]:
    with session_scope(sessions) as session:
        runs = list(
            session.scalars(select(ModelRun).order_by(ModelRun.id.desc()).limit(limit)).all()
        )
        session.expunge_all()
    return runs


def default_as_of(today: date) -> date:
    """Score as of yesterday: today's orders are still arriving."""
    return today - timedelta(days=1)

"""Churn risk (定期便の解約見込み) and dormancy risk: LightGBM on features as of cutoffs.

Time-based, walk-forward. With horizon h and reference date E:
- evaluation: train on cutoffs E-3h, E-3h-step, ...; early stopping and calibration on
  the cutoff E-2h; test on E-h, whose labels end at E. No label window of a training
  row reaches into the rows it is judged on.
- production: the same procedure one period later (train up to E-2h, calibrate on
  E-h), then score everyone as of E. The reported metrics therefore measure exactly
  the procedure that produced the scores, one period earlier.
Reasons are tree SHAP contributions (LightGBM `pred_contrib`), in log-odds before
calibration; they sum with the bias to the raw score, and the top positive ones become
reason codes (see reasons.py).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import ibis
import lightgbm as lgb
import numpy as np
import pandas as pd
from ibis.backends import BaseBackend
from numpy.typing import NDArray

from tokui.models.churn_data import (
    DORMANCY_FEATURES,
    SUBSCRIPTION_FEATURES,
    dormancy_frame,
    subscription_frame,
)
from tokui.models.metrics import (
    Calibrator,
    LogisticBaseline,
    auc,
    calibration_bins,
    precision_at,
)
from tokui.models.shap import tree_contributions

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class ChurnSpec:
    """What one risk model predicts, from which rows, against which baseline."""

    name: str
    key: str
    features: tuple[str, ...]
    baseline: tuple[str, ...]
    frame: Callable[[BaseBackend, date, int | None], ibis.Table]
    horizon: int


SPECS: dict[str, ChurnSpec] = {
    # baseline: "skipped recently" and how far along the subscription is, the two
    # facts a call center would look at first
    "churn_subscription": ChurnSpec(
        "churn_subscription",
        "subscription_id",
        SUBSCRIPTION_FEATURES,
        ("skips_last_2", "delivery_number"),
        subscription_frame,
        60,
    ),
    # baseline: recency and frequency, what an RFM segment would use
    "dormancy": ChurnSpec(
        "dormancy",
        "customer_id",
        DORMANCY_FEATURES,
        ("days_since_last", "purchase_days_365d"),
        dormancy_frame,
        90,
    ),
}


@dataclass(frozen=True)
class ChurnConfig:
    train_cutoffs: int = 6
    step_days: int = 30
    max_rows_per_cutoff: int = 100_000
    # Small, shallow trees: tree SHAP costs trees x leaves x depth^2 per row, and the
    # reasons must be affordable for a million customers.
    num_leaves: int = 15
    max_depth: int = 5
    learning_rate: float = 0.1
    max_rounds: int = 200
    # reasons for the riskiest deciles only: those are the customers anyone acts on
    reason_deciles: int = 3
    min_train_rows: int = 200
    min_positives: int = 20

    def __post_init__(self) -> None:
        if self.train_cutoffs < 1 or self.step_days < 1:
            raise ValueError("train_cutoffs and step_days: at least 1")


@dataclass(frozen=True)
class Split:
    train: tuple[date, ...]
    valid: date
    test: date | None


def splits(as_of: date, horizon: int, cfg: ChurnConfig) -> tuple[Split, Split]:
    """(evaluation split, production split) of cutoff dates, as in the module docstring."""
    h = timedelta(days=horizon)
    step = timedelta(days=cfg.step_days)

    def back(start: date) -> tuple[date, ...]:
        return tuple(start - i * step for i in range(cfg.train_cutoffs))

    evaluation = Split(back(as_of - 3 * h), as_of - 2 * h, as_of - h)
    production = Split(back(as_of - 2 * h), as_of - h, None)
    return evaluation, production


class ChurnModel:
    """A LightGBM classifier with calibrated probabilities and SHAP reasons."""

    def __init__(self, spec: ChurnSpec, config: ChurnConfig | None = None) -> None:
        self.spec = spec
        self.config = config or ChurnConfig()
        self.booster_: lgb.Booster | None = None
        self.calibrator_ = Calibrator()
        self.medians_: FloatArray = np.zeros(0)
        self.best_rounds_: int = 0

    def matrix(self, frame: pd.DataFrame) -> FloatArray:
        return np.ascontiguousarray(
            frame[list(self.spec.features)].to_numpy(dtype=np.float64, na_value=np.nan)
        )

    def fit(self, train: pd.DataFrame, valid: pd.DataFrame) -> ChurnModel:
        cfg = self.config
        x, y = self.matrix(train), train.label.to_numpy(bool)
        xv, yv = self.matrix(valid), valid.label.to_numpy(bool)
        params: dict[str, Any] = {
            "objective": "binary",
            "learning_rate": cfg.learning_rate,
            "num_leaves": cfg.num_leaves,
            "max_depth": cfg.max_depth,
            "min_data_in_leaf": max(20, len(y) // 500),
            "feature_fraction": 0.9,
            "bagging_fraction": 0.8,
            "bagging_freq": 1,
            "lambda_l2": 1.0,
            "seed": 7,
            "deterministic": True,
            "force_row_wise": True,
            "num_threads": 1,
            "verbose": -1,
        }
        names = list(self.spec.features)
        dtrain = lgb.Dataset(x, y.astype(np.float64), feature_name=names)
        dvalid = lgb.Dataset(xv, yv.astype(np.float64), reference=dtrain)
        self.booster_ = lgb.train(
            params,
            dtrain,
            num_boost_round=cfg.max_rounds,
            valid_sets=[dvalid],
            callbacks=[lgb.early_stopping(30, verbose=False)],
        )
        self.best_rounds_ = int(self.booster_.best_iteration or cfg.max_rounds)
        self.calibrator_ = Calibrator().fit(self._uncalibrated(xv), yv)
        with warnings.catch_warnings():
            # a feature missing at every training cutoff (no web tag yet) has no median
            warnings.simplefilter("ignore", RuntimeWarning)
            self.medians_ = np.nan_to_num(np.nanmedian(x, axis=0))
        return self

    def _booster(self) -> lgb.Booster:
        if self.booster_ is None:
            raise RuntimeError(f"{self.spec.name}: call fit() first")
        return self.booster_

    def raw_score(self, x: FloatArray) -> FloatArray:
        b = self._booster()
        out = b.predict(x, raw_score=True, num_iteration=self.best_rounds_, num_threads=0)
        return np.asarray(out, dtype=np.float64)

    def _uncalibrated(self, x: FloatArray) -> FloatArray:
        return np.asarray(1.0 / (1.0 + np.exp(-self.raw_score(x))), dtype=np.float64)

    def predict_proba(self, x: FloatArray) -> FloatArray:
        return self.calibrator_.transform(self._uncalibrated(x))

    def contributions(self, x: FloatArray) -> FloatArray:
        """Tree SHAP per feature, then the bias column: each row sums to raw_score."""
        return tree_contributions(self._booster(), x, self.best_rounds_)

    def reasons(self, x: FloatArray, top: int = 3) -> NDArray[np.object_]:
        """Reason codes (n, top): the features that raised each row's risk the most.

        Only positive contributions count; a row with fewer gets None in the rest.
        """
        contrib = self.contributions(x)[:, :-1]
        k = min(top, contrib.shape[1])
        order = np.argsort(-contrib, axis=1, kind="stable")[:, :k]
        value = np.take_along_axis(x, order, axis=1)
        median = self.medians_[order]
        side = np.where(np.isnan(value), "missing", np.where(value > median, "high", "low"))
        names = np.array(self.spec.features, dtype=object)[order]
        codes = np.char.add(np.char.add(names.astype(str), "."), side.astype(str)).astype(object)
        positive = np.take_along_axis(contrib, order, axis=1) > 0
        codes[~positive] = None
        return np.asarray(codes, dtype=object)

    def importance(self) -> dict[str, float]:
        """Share of the total split gain per feature (sums to 1)."""
        gain = self._booster().feature_importance("gain", iteration=self.best_rounds_)
        total = float(gain.sum()) or 1.0
        return {f: float(g) / total for f, g in zip(self.spec.features, gain, strict=True)}


@dataclass
class ChurnResult:
    spec: ChurnSpec
    status: str = "skipped"
    note: str = ""
    model: ChurnModel | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    data_from: date | None = None


def _collect(
    con: BaseBackend, spec: ChurnSpec, days: set[date], cfg: ChurnConfig
) -> dict[date, pd.DataFrame]:
    out: dict[date, pd.DataFrame] = {}
    for day in sorted(days):
        frame = spec.frame(con, day, spec.horizon).to_pandas()
        if len(frame) > cfg.max_rows_per_cutoff:
            # a fixed-seed sample: training cost stays flat as the shop grows
            frame = frame.sample(n=cfg.max_rows_per_cutoff, random_state=day.toordinal())
        out[day] = frame.sort_values(spec.key, kind="stable").reset_index(drop=True)
    return out


def _stack(frames: dict[date, pd.DataFrame], days: tuple[date, ...]) -> pd.DataFrame:
    parts = [frames[d] for d in days if len(frames[d])]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _enough(frame: pd.DataFrame, cfg: ChurnConfig, what: str) -> str:
    if len(frame) < cfg.min_train_rows:
        return f"{what}: {len(frame)} rows (need {cfg.min_train_rows})"
    pos = int(frame.label.sum())
    if min(pos, len(frame) - pos) < cfg.min_positives:
        return f"{what}: {pos} positives of {len(frame)} (need {cfg.min_positives} of each class)"
    return ""


def _columns(frame: pd.DataFrame, names: tuple[str, ...]) -> dict[str, FloatArray]:
    return {n: frame[n].to_numpy(dtype=np.float64, na_value=np.nan) for n in names}


def evaluate(model: ChurnModel, baseline: LogisticBaseline, test: pd.DataFrame) -> dict[str, Any]:
    """Held-out metrics of the model and the baseline on the same rows."""
    y = test.label.to_numpy(bool)
    x = model.matrix(test)
    p = model.predict_proba(x)
    b = baseline.predict(_columns(test, baseline.features))
    return {
        "test_rows": len(y),
        "test_positive_rate": float(y.mean()),
        "auc": auc(y, p),
        "auc_baseline": auc(y, b),
        "precision_top_decile": precision_at(y, p, 0.1),
        "precision_top_decile_baseline": precision_at(y, b, 0.1),
        "mean_predicted": float(p.mean()),
        "brier": float(np.mean((p - y) ** 2)),
        "calibration": calibration_bins(y, p, 10),
    }


def train_churn(
    con: BaseBackend, spec: ChurnSpec, as_of: date, config: ChurnConfig | None = None
) -> ChurnResult:
    """Evaluate on the held-out period, then fit the production model one period later."""
    cfg = config or ChurnConfig()
    result = ChurnResult(spec)
    ev, prod = splits(as_of, spec.horizon, cfg)
    assert ev.test is not None
    frames = _collect(con, spec, {*ev.train, ev.valid, ev.test, *prod.train, prod.valid}, cfg)
    train, valid, test = _stack(frames, ev.train), frames[ev.valid], frames[ev.test]
    for frame, what in ((train, "training cutoffs"), (valid, "validation cutoff")):
        if note := _enough(frame, cfg, what):
            result.note = note
            return result
    model = ChurnModel(spec, cfg).fit(train, valid)
    base = LogisticBaseline(spec.baseline).fit(_columns(train, spec.baseline), train.label)
    metrics: dict[str, Any] = {
        "horizon_days": spec.horizon,
        "evaluation": {
            "train_cutoffs": [d.isoformat() for d in ev.train],
            "valid_cutoff": ev.valid.isoformat(),
            "test_cutoff": ev.test.isoformat(),
            "train_rows": len(train),
            "baseline_features": list(spec.baseline),
            "rounds": model.best_rounds_,
        },
    }
    if len(test) and test.label.nunique() == 2:
        metrics["evaluation"].update(evaluate(model, base, test))
    ptrain, pvalid = _stack(frames, prod.train), frames[prod.valid]
    if _enough(ptrain, cfg, "training") or _enough(pvalid, cfg, "validation"):
        # The latest period is too thin to train on; keep the evaluated model.
        production = model
        metrics["production"] = {"same_as_evaluation": True}
    else:
        production = ChurnModel(spec, cfg).fit(ptrain, pvalid)
        metrics["production"] = {
            "train_cutoffs": [d.isoformat() for d in prod.train],
            "valid_cutoff": prod.valid.isoformat(),
            "train_rows": len(ptrain),
            "rounds": production.best_rounds_,
        }
    metrics["production"]["calibration_method"] = production.calibrator_.to_dict()
    metrics["feature_importance"] = production.importance()
    result.status, result.model, result.metrics = "ok", production, metrics
    result.data_from = min(ev.train) - timedelta(days=365)
    return result


def deciles(probs: FloatArray, keys: NDArray[Any]) -> NDArray[np.int64]:
    """Risk decile 1 (highest tenth) to 10; ties by key so every engine agrees."""
    n = len(probs)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((keys.astype(str), -probs))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    return np.asarray(rank * 10 // n + 1, dtype=np.int64)


def score_churn(con: BaseBackend, result: ChurnResult, as_of: date) -> pd.DataFrame:
    """One row per customer: probability, decile, top 3 reason codes (and subscription)."""
    if result.model is None:
        return pd.DataFrame()
    spec, model = result.spec, result.model
    frame = spec.frame(con, as_of, None).to_pandas()
    if not len(frame):
        return pd.DataFrame()
    x = model.matrix(frame)
    out = pd.DataFrame(
        {"customer_id": frame.customer_id.to_numpy(), "churn_probability": model.predict_proba(x)}
    )
    out["row"] = np.arange(len(out))
    if spec.key == "subscription_id":
        # a customer's risk is that of their riskiest subscription
        out["subscription_id"] = frame.subscription_id.to_numpy()
        out = out.sort_values(
            ["customer_id", "churn_probability", "subscription_id"],
            ascending=[True, False, True],
            kind="stable",
        ).drop_duplicates("customer_id", keep="first")
    out = out.reset_index(drop=True)
    out["churn_decile"] = deciles(
        out.churn_probability.to_numpy(np.float64), out.customer_id.to_numpy()
    )
    explain = np.flatnonzero(out.churn_decile.to_numpy() <= model.config.reason_deciles)
    for i in range(3):
        out[f"reason_{i + 1}"] = pd.Series([None] * len(out), dtype=object)
    if len(explain):
        codes = model.reasons(x[out.row.to_numpy()[explain]], 3)
        for i in range(codes.shape[1]):
            out.loc[explain, f"reason_{i + 1}"] = codes[:, i]
    out["model"] = spec.name
    return out.drop(columns="row")

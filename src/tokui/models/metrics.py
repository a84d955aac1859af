"""Classifier metrics, calibration and the logistic baseline, on numpy and scipy.

Small enough to own: AUC by the rank-sum identity, precision in the top decile,
calibration bins, Platt scaling and isotonic calibration (scipy's PAVA), and a
two-feature logistic regression as the baseline a model must beat.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import isotonic_regression, minimize
from scipy.special import expit
from scipy.stats import rankdata

FloatArray = NDArray[np.float64]


def auc(labels: NDArray[np.bool_], scores: FloatArray) -> float:
    """Area under the ROC curve: P(score of a positive > score of a negative), ties 1/2."""
    y = np.asarray(labels, dtype=bool)
    pos, neg = int(y.sum()), int((~y).sum())
    if pos == 0 or neg == 0:
        return float("nan")
    ranks = rankdata(np.asarray(scores, dtype=np.float64))  # average ranks for ties
    return float((ranks[y].sum() - pos * (pos + 1) / 2) / (pos * neg))


def precision_at(labels: NDArray[np.bool_], scores: FloatArray, fraction: float = 0.1) -> float:
    """Share of positives among the top `fraction` by score (ties broken by position).

    A stable sort on the negated score keeps tied rows in input order, so a score with
    many ties (a yes/no rule) is judged by the order the rows came in, not by luck.
    """
    y = np.asarray(labels, dtype=bool)
    k = max(1, round(len(y) * fraction))
    top = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")[:k]
    return float(y[top].mean()) if len(y) else float("nan")


def calibration_bins(
    labels: NDArray[np.bool_], probs: FloatArray, bins: int = 10
) -> list[dict[str, float]]:
    """Mean predicted and observed rate per equal-count bin of the predictions."""
    y = np.asarray(labels, dtype=np.float64)
    p = np.asarray(probs, dtype=np.float64)
    order = np.argsort(p, kind="stable")
    out = []
    for part in np.array_split(order, min(bins, len(order))):
        if len(part):
            out.append(
                {
                    "predicted": float(p[part].mean()),
                    "observed": float(y[part].mean()),
                    "n": len(part),
                }
            )
    return out


def _logit(p: FloatArray) -> FloatArray:
    q = np.clip(p, 1e-9, 1 - 1e-9)
    return np.asarray(np.log(q / (1 - q)), dtype=np.float64)


@dataclass
class Calibrator:
    """Maps a model's probability to a calibrated one, fitted on a held-out slice.

    Isotonic when the slice is large enough to estimate a step function (at least 1,000
    rows and 50 of each class), otherwise Platt scaling (a logistic curve on the logit),
    whose two parameters a small slice can still pin down.
    """

    method: str = ""
    a: float = 1.0
    b: float = 0.0
    x_: FloatArray = field(default_factory=lambda: np.zeros(0))
    y_: FloatArray = field(default_factory=lambda: np.zeros(0))

    def fit(self, probs: FloatArray, labels: NDArray[np.bool_]) -> Calibrator:
        p = np.asarray(probs, dtype=np.float64)
        y = np.asarray(labels, dtype=np.float64)
        pos = int(y.sum())
        if len(y) >= 1000 and min(pos, len(y) - pos) >= 50:
            order = np.argsort(p, kind="stable")
            fitted = isotonic_regression(y[order], increasing=True).x
            self.method, self.x_, self.y_ = "isotonic", p[order], np.asarray(fitted)
        else:
            self.method = "platt"
            self.a, self.b = _fit_logistic(_logit(p)[:, None], y)
        return self

    def transform(self, probs: FloatArray) -> FloatArray:
        p = np.asarray(probs, dtype=np.float64)
        if self.method == "isotonic":
            return np.asarray(np.interp(p, self.x_, self.y_), dtype=np.float64)
        if self.method == "platt":
            return np.asarray(expit(self.a * _logit(p) + self.b), dtype=np.float64)
        raise RuntimeError("Calibrator: call fit() first")

    def to_dict(self) -> dict[str, object]:
        if self.method == "platt":
            return {"method": "platt", "a": self.a, "b": self.b}
        return {"method": self.method, "steps": len(np.unique(self.y_))}


def _fit_logistic(x: FloatArray, y: FloatArray) -> tuple[float, float]:
    """Maximum-likelihood slope and intercept of a one-feature logistic regression."""
    coef = _fit_logistic_many(x, y)
    return float(coef[0]), float(coef[1])


def _fit_logistic_many(x: FloatArray, y: FloatArray, ridge: float = 1e-6) -> FloatArray:
    # coefficients for each column of x, then the intercept; a tiny ridge keeps a
    # perfectly separating feature from running to infinity
    k = x.shape[1]

    def objective(w: FloatArray) -> tuple[float, FloatArray]:
        z = x @ w[:k] + w[k]
        # log(1 + e^z) - y z, written with logaddexp so large |z| does not overflow
        nll = float(np.sum(np.logaddexp(0, z) - y * z) + ridge * np.sum(w[:k] ** 2))
        r = expit(z) - y
        grad = np.concatenate([x.T @ r + 2 * ridge * w[:k], [r.sum()]])
        return nll, grad

    result = minimize(objective, np.zeros(k + 1), jac=True, method="L-BFGS-B")
    return np.asarray(result.x, dtype=np.float64)


@dataclass
class LogisticBaseline:
    """Logistic regression on a few named features (standardised; missing -> mean)."""

    features: tuple[str, ...]
    mean_: FloatArray = field(default_factory=lambda: np.zeros(0))
    scale_: FloatArray = field(default_factory=lambda: np.zeros(0))
    coef_: FloatArray = field(default_factory=lambda: np.zeros(0))

    def _x(self, columns: dict[str, FloatArray]) -> FloatArray:
        x = np.column_stack([np.asarray(columns[f], dtype=np.float64) for f in self.features])
        x = np.where(np.isnan(x), self.mean_, x)
        return np.asarray((x - self.mean_) / self.scale_, dtype=np.float64)

    def fit(self, columns: dict[str, FloatArray], labels: NDArray[np.bool_]) -> LogisticBaseline:
        raw = np.column_stack([np.asarray(columns[f], dtype=np.float64) for f in self.features])
        self.mean_ = np.nan_to_num(np.nanmean(raw, axis=0))
        std = np.nan_to_num(np.nanstd(raw, axis=0))
        self.scale_ = np.where(std > 0, std, 1.0)
        self.coef_ = _fit_logistic_many(self._x(columns), np.asarray(labels, dtype=np.float64))
        return self

    def predict(self, columns: dict[str, FloatArray]) -> FloatArray:
        k = len(self.features)
        return np.asarray(expit(self._x(columns) @ self.coef_[:k] + self.coef_[k]), np.float64)

"""Shifted-beta-geometric (sBG) retention model for contracts such as 定期便.

At the end of every period (here: after each scheduled delivery) a subscriber cancels
with her own probability theta ~ Beta(alpha, beta). Heterogeneity makes the cohort's
retention rate rise over time even though nobody's own hazard changes.

Sources: Fader & Hardie (2007), "How to Project Customer Retention", Journal of
Interactive Marketing 21(1): P(T = t) and S(t) eq. (1)-(5), the likelihood with
right-censoring (appendix B); Fader & Hardie (2010), "Customer-Base Valuation in a
Contractual Setting: The Perils of Ignoring Heterogeneity", Marketing Science 29(1):
discounted expected residual lifetime (DERL), eq. (6).

    P(T = t) = B(alpha + 1, beta + t - 1) / B(alpha, beta)      t = 1, 2, ...
    S(t)     = B(alpha, beta + t) / B(alpha, beta)
    DERL(d | n - 1 renewals) = (beta + n - 1) / (alpha + beta + n - 1)
                               * 2F1(1, beta + n; alpha + beta + n; 1 / (1 + d))
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import betaln, hyp2f1

from tokui.models.base import Fitter, FloatArray, as_float, maximise


class ShiftedBetaGeoFitter(Fitter):
    param_names = ("alpha", "beta")

    def fit(
        self, periods: ArrayLike, churned: ArrayLike, weights: ArrayLike | None = None
    ) -> ShiftedBetaGeoFitter:
        """Fit on one row per subject (or per distinct row, with weights).

        periods: for a churned subject the period in which it churned (1 = right after
        the first); for a censored one the number of renewal decisions it has survived.
        """
        t = as_float(periods, "periods")
        c = np.asarray(churned, dtype=bool).ravel()
        w = np.ones_like(t) if weights is None else as_float(weights, "weights")
        if not (len(t) == len(c) == len(w)):
            raise ValueError("periods, churned and weights must have the same length")
        if np.any(t != np.floor(t)) or np.any(t < 0) or np.any(c & (t < 1)):
            raise ValueError("periods: whole numbers, >= 1 for churned subjects and >= 0 else")
        if not c.any():
            raise ValueError("churned: nobody churned, so retention cannot be estimated")
        keys = np.stack([t, c.astype(np.float64)])
        (uniq, inverse) = np.unique(keys, axis=1, return_inverse=True)
        ut, uc = uniq[0], uniq[1].astype(bool)
        uw = np.bincount(inverse.ravel(), weights=w)

        def nll(log_params: FloatArray) -> float:
            # The line search may try steps where exp overflows; the non-finite value it
            # gets back sends it back, and maximise() rejects a non-finite optimum, so the
            # warning numpy would print for that step tells the user nothing.
            with np.errstate(over="ignore", invalid="ignore"):
                a, b = np.exp(log_params)
                base = betaln(a, b)
                ll = np.where(uc, betaln(a + 1, b + ut - 1), betaln(a, b + ut)) - base
                return -float(uw @ ll)

        def objective(log_params: FloatArray) -> tuple[float, FloatArray]:
            h = 1e-6
            grad = np.empty(2)
            for i in range(2):
                up, down = log_params.copy(), log_params.copy()
                up[i] += h
                down[i] -= h
                grad[i] = (nll(up) - nll(down)) / (2 * h)
            return nll(log_params), grad

        params, ll, se = maximise(objective, np.zeros(2), self.param_names, "sBG")
        self._set_fit(params, ll, se, round(float(w.sum())))
        return self

    def fit_survivors(self, survivors: Sequence[float]) -> ShiftedBetaGeoFitter:
        """Fit on a cohort's head counts at t = 0, 1, 2, ... (all still active at the end)."""
        alive = as_float(survivors, "survivors")
        if len(alive) < 2 or np.any(np.diff(alive) > 0) or alive[-1] < 0:
            raise ValueError("survivors: at least two non-increasing, non-negative counts")
        lost = -np.diff(alive)
        periods = np.concatenate([np.arange(1, len(alive)), [len(alive) - 1]])
        churned = np.concatenate([np.ones(len(lost), bool), [False]])
        return self.fit(periods, churned, np.concatenate([lost, alive[-1:]]))

    def survival_function(self, t: ArrayLike) -> FloatArray:
        """S(t): share of a starting cohort still subscribed after t periods."""
        a, b = self._require_fit()
        tt = np.asarray(t, dtype=np.float64)
        return np.asarray(np.exp(betaln(a, b + tt) - betaln(a, b)), dtype=np.float64)

    def churn_probability(self, t: ArrayLike) -> FloatArray:
        """P(T = t): share of the starting cohort that churns in period t."""
        a, b = self._require_fit()
        tt = np.asarray(t, dtype=np.float64)
        return np.asarray(np.exp(betaln(a + 1, b + tt - 1) - betaln(a, b)), dtype=np.float64)

    def retention_rate(self, t: ArrayLike) -> FloatArray:
        """r(t) = S(t) / S(t-1) = (beta + t - 1) / (alpha + beta + t - 1)."""
        a, b = self._require_fit()
        tt = np.asarray(t, dtype=np.float64)
        return np.asarray((b + tt - 1) / (a + b + tt - 1), dtype=np.float64)

    def expected_remaining_periods(self, renewals: ArrayLike, horizon: int) -> FloatArray:
        """Expected periods paid within the next `horizon`, after `renewals` renewals.

        A subscriber who has renewed n - 1 times is paid for the periods t >= n she
        reaches: sum over t = n .. n + horizon - 1 of S(t) / S(n - 1).
        """
        a, b = self._require_fit()
        n = np.asarray(renewals, dtype=np.float64)[..., None] + 1
        t = n + np.arange(horizon)
        ratio = np.exp(betaln(a, b + t) - betaln(a, b + n - 1))
        return np.asarray(ratio.sum(axis=-1), dtype=np.float64)

    def discounted_expected_residual_lifetime(
        self, renewals: ArrayLike, discount_rate: ArrayLike
    ) -> FloatArray:
        """DERL: expected discounted number of future periods (the first one undiscounted)."""
        a, b = self._require_fit()
        n = np.asarray(renewals, dtype=np.float64) + 1
        d = np.asarray(discount_rate, dtype=np.float64)
        if np.any(d <= 0):
            raise ValueError(
                "discount_rate: must be > 0 (without it DERL is infinite for alpha <= 1)"
            )
        return np.asarray(
            (b + n - 1) / (a + b + n - 1) * hyp2f1(1.0, b + n, a + b + n, 1.0 / (1.0 + d)),
            dtype=np.float64,
        )

"""BG/NBD (Fader, Hardie & Lee 2005) and its modified form MBG/NBD (Batislam et al. 2007).

A customer buys as a Poisson process with rate lambda ~ Gamma(r, alpha) and, after each
repeat purchase (BG/NBD) or after every purchase including the first (MBG/NBD), drops
out for good with probability p ~ Beta(a, b). Data per customer: x repeat purchases,
recency t_x (time of the last purchase since the first) and age T, in one time unit.

Sources, all formulas in log space:
- Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way", Marketing Science
  24(2), and the note "Computing P(alive) using the BG/NBD model" (brucehardie.com/notes/021):
  likelihood eq. (6), E[X(t)] eq. (7), E[Y(t) | x, t_x, T] eq. (10), P(alive).
- Batislam, Denizel & Filiztekin (2007), "Empirical validation and comparison of models
  for customer base analysis", IJRM 24(3): the MBG/NBD likelihood and expectations.
The Gaussian hypergeometric terms are rewritten with Euler's transformation
2F1(a, b; c; z) = (1 - z)^(c-a-b) 2F1(c-a, c-b; c; z), which folds the vanishing power
((alpha + T)/(alpha + T + t))^(r+x) into the function: at high frequency both factors
would otherwise overflow and underflow in opposite directions.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import digamma, expit, gammaln, hyp2f1

from tokui.models.base import Fitter, FloatArray, as_float, check_rfm, compress, maximise


class BetaGeoFitter(Fitter):
    """BG/NBD: dropout is only possible after a repeat purchase."""

    param_names = ("r", "alpha", "a", "b")
    # 0: BG/NBD (no dropout at the first purchase); 1: MBG/NBD (dropout after every one)
    _shift = 0

    def fit(
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        weights: ArrayLike | None = None,
    ) -> BetaGeoFitter:
        x = as_float(frequency, "frequency")
        tx = as_float(recency, "recency")
        t = as_float(T, "T")
        check_rfm(x, tx, t)
        if weights is None:
            (x, tx, t), w = compress(x, tx, t)
        else:
            w = as_float(weights, "weights")
        n = round(float(w.sum()))
        objective = _objective(x, tx, t, w, self._shift)
        start = np.log([1.0, max(float(np.average(t, weights=w)), 1e-3), 1.0, 1.0])
        params, ll, se = maximise(objective, start, self.param_names, type(self).__name__)
        self._set_fit(params, ll, se, n)
        return self

    # -- predictions ------------------------------------------------------------------

    def conditional_probability_alive(
        self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """P(still alive at T | x, t_x, T)."""
        r, alpha, a, b = self._require_fit()
        x, tx, t = _arrays(frequency, recency, T)
        k = self._shift
        with np.errstate(divide="ignore", invalid="ignore"):
            log_odds_dead = (
                np.log(a)
                - np.log(b + x - 1 + k)
                + (r + x) * (np.log(alpha + t) - np.log(alpha + tx))
            )
        if k == 0:
            log_odds_dead = np.where(x > 0, log_odds_dead, -np.inf)
        return np.asarray(expit(-log_odds_dead), dtype=np.float64)

    def conditional_expected_number_of_purchases_up_to_time(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """E[Y(t) | x, t_x, T]: expected purchases in the next t time units."""
        r, alpha, a, b = self._require_fit()
        a = _away_from_one(a)
        x, tx, tt = _arrays(frequency, recency, T)
        horizon = np.asarray(t, dtype=np.float64)
        k = self._shift
        z = horizon / (alpha + tt + horizon)
        # (1-z)^(r+x) 2F1(r+x, b+x+k; a+b+x-1+k; z) = (1-z)^(a-1) 2F1(a+b-1+k-r, a-1; ...)
        c = a + b + x - 1 + k
        tail = np.exp((a - 1) * np.log1p(-z)) * hyp2f1(a + b - 1 + k - r, a - 1, c, z)
        bracket = c / (a - 1) * (1 - tail)
        return np.asarray(bracket * self.conditional_probability_alive(x, tx, tt), dtype=np.float64)

    def expected_number_of_purchases_up_to_time(self, t: ArrayLike) -> FloatArray:
        """E[X(t)]: expected repeat purchases of a new customer within t."""
        r, alpha, a, b = self._require_fit()
        a = _away_from_one(a)
        horizon = np.asarray(t, dtype=np.float64)
        z = horizon / (alpha + horizon)
        k = self._shift
        c = a + b - 1 + k
        tail = np.exp((a - 1) * np.log1p(-z)) * hyp2f1(a + b - 1 + k - r, a - 1, c, z)
        lead = (a + b - 1) / (a - 1) if k == 0 else b / (a - 1)
        return np.asarray(lead * (1 - tail), dtype=np.float64)

    def predict(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        return self.conditional_expected_number_of_purchases_up_to_time(t, frequency, recency, T)

    def log_likelihood(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> FloatArray:
        """Each customer's log-likelihood at the fitted parameters."""
        params = np.log(np.array(self._require_fit()))
        x, tx, t = _arrays(frequency, recency, T)
        return _row_log_likelihood(np.exp(params), x, tx, t, self._shift)[0]


class ModifiedBetaGeoFitter(BetaGeoFitter):
    """MBG/NBD: a customer may also drop out right after the first purchase."""

    _shift = 1


def _arrays(frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> tuple[FloatArray, ...]:
    x, tx, t = np.broadcast_arrays(
        np.asarray(frequency, dtype=np.float64),
        np.asarray(recency, dtype=np.float64),
        np.asarray(T, dtype=np.float64),
    )
    return x, tx, t


def _away_from_one(a: float) -> float:
    # E[Y] has a removable 0/0 at a = 1; step beside it (the error is below 1e-7).
    return a if abs(a - 1.0) > 1e-8 else 1.0 + 1e-8


def _row_log_likelihood(
    params: FloatArray, x: FloatArray, tx: FloatArray, t: FloatArray, k: int
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Per-row log-likelihood and the two softmax weights of its mixture terms."""
    r, alpha, a, b = params
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x + k) - gammaln(b) - gammaln(a + b + x + k)
    a3 = -(r + x) * np.log(alpha + t)
    with np.errstate(divide="ignore", invalid="ignore"):
        a4 = np.log(a) - np.log(b + x - 1 + k) - (r + x) * np.log(alpha + tx)
    if k == 0:
        a4 = np.where(x > 0, a4, -np.inf)
    mix = np.logaddexp(a3, a4)
    return a1 + a2 + mix, np.exp(a3 - mix), np.exp(a4 - mix)


def _objective(x: FloatArray, tx: FloatArray, t: FloatArray, w: FloatArray, k: int):  # type: ignore[no-untyped-def]
    """Negative log-likelihood and its analytic gradient in log-parameters.

    Terms that depend only on x (the gamma functions) are evaluated once per distinct x
    with the summed weights of its rows; only the logs of alpha + T and alpha + t_x are
    per row.
    """
    xs, inverse = np.unique(x, return_inverse=True)
    wx = np.bincount(inverse, weights=w)
    n = w.sum()
    log_tx_guard = np.where(x > 0, tx, 0.0) if k == 0 else tx

    def objective(log_params: FloatArray) -> tuple[float, FloatArray]:
        r, alpha, a, b = np.exp(log_params)
        a1 = wx @ (gammaln(r + xs) - gammaln(r)) + n * r * np.log(alpha)
        a2 = wx @ (gammaln(a + b) + gammaln(b + xs + k) - gammaln(b) - gammaln(a + b + xs + k))
        la_t = np.log(alpha + t)
        la_tx = np.log(alpha + log_tx_guard)
        a3 = -(r + x) * la_t
        with np.errstate(divide="ignore", invalid="ignore"):
            inv_b = 1.0 / (b + x - 1 + k)
            a4 = np.log(a) + np.log(inv_b) - (r + x) * la_tx
        if k == 0:
            a4 = np.where(x > 0, a4, -np.inf)
            inv_b = np.where(x > 0, inv_b, 0.0)
        mix = np.logaddexp(a3, a4)
        w3 = np.exp(a3 - mix)
        w4 = 1.0 - w3
        ll = a1 + a2 + w @ mix
        ww3, ww4 = w * w3, w * w4
        d_r = wx @ (digamma(r + xs) - digamma(r)) + n * np.log(alpha) - ww3 @ la_t - ww4 @ la_tx
        d_alpha = (
            n * r / alpha - ww3 @ ((r + x) / (alpha + t)) - ww4 @ ((r + x) / (alpha + log_tx_guard))
        )
        d_a = wx @ (digamma(a + b) - digamma(a + b + xs + k)) + ww4.sum() / a
        d_b = (
            wx @ (digamma(a + b) + digamma(b + xs + k) - digamma(b) - digamma(a + b + xs + k))
            - ww4 @ inv_b
        )
        grad = np.array([d_r * r, d_alpha * alpha, d_a * a, d_b * b])
        return -float(ll), -grad

    return objective

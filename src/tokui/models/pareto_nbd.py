"""Pareto/NBD (Schmittlein, Morrison & Colombo 1987).

A customer buys as a Poisson process with rate lambda ~ Gamma(r, alpha) while alive, and
lives for an exponential time with rate mu ~ Gamma(s, beta).

Source: Fader & Hardie (2005), "A Note on Deriving the Pareto/NBD Model and Related
Expressions" (brucehardie.com/notes/009): likelihood eq. (22)-(23), P(alive) eq. (24),
E[X(t)] eq. (27), E[Y(t) | x, t_x, T] eq. (29).

Stable form. The likelihood is
    L = Gamma(r+x) alpha^r beta^s / Gamma(r)
        * [ (alpha+T)^-(r+x) (beta+T)^-s  +  s * I ],
    I = integral from t_x to T of (alpha+tau)^-(r+x) (beta+tau)^-(s+1) dtau
(death at tau after the last purchase). The note writes I with 2F1(r+s+x, s+1; r+s+x+1;
z), whose value explodes as z -> 1 at high frequency; Euler's transformation turns it into
2F1(1, r+x; r+s+x+1; z) (or 2F1(1, s+1; ...) when alpha < beta), a series with first
parameter 1 that converges for every data point, so
    I = [H(t_x) - H(T)] / (r+s+x),
    H(t) = (alpha+t)^-(r+x) (beta+t)^-s  2F1(1, r+x; r+s+x+1; (alpha-beta)/(alpha+t))
         = (beta+t)^-(s+1) (alpha+t)^-(r+x-1) 2F1(1, s+1; r+s+x+1; (beta-alpha)/(beta+t)),
everything in logs, the difference through log1mexp.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import gammaln, hyp2f1

from tokui.models.base import Fitter, FloatArray, as_float, check_rfm, compress, maximise


class ParetoNBDFitter(Fitter):
    param_names = ("r", "alpha", "s", "beta")

    def fit(
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        weights: ArrayLike | None = None,
    ) -> ParetoNBDFitter:
        x = as_float(frequency, "frequency")
        tx = as_float(recency, "recency")
        t = as_float(T, "T")
        check_rfm(x, tx, t)
        if weights is None:
            (x, tx, t), w = compress(x, tx, t)
        else:
            w = as_float(weights, "weights")

        def nll(log_params: FloatArray) -> float:
            ll, _ = _log_likelihood(np.exp(log_params), x, tx, t)
            return -float(w @ ll)

        def objective(log_params: FloatArray) -> tuple[float, FloatArray]:
            # central differences: the hypergeometric terms have no cheap derivative
            h = 1e-6
            grad = np.empty(4)
            for i in range(4):
                up, down = log_params.copy(), log_params.copy()
                up[i] += h
                down[i] -= h
                grad[i] = (nll(up) - nll(down)) / (2 * h)
            return nll(log_params), grad

        mean_t = max(float(np.average(t, weights=w)), 1e-3)
        start = np.log([1.0, mean_t, 1.0, mean_t])
        params, ll, se = maximise(objective, start, self.param_names, "ParetoNBDFitter")
        self._set_fit(params, ll, se, round(float(w.sum())))
        return self

    def conditional_probability_alive(
        self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        params = np.array(self._require_fit())
        x, tx, t = _arrays(frequency, recency, T)
        _, log_p_alive = _log_likelihood(params, x, tx, t)
        return np.asarray(np.exp(log_p_alive), dtype=np.float64)

    def conditional_expected_number_of_purchases_up_to_time(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        r, alpha, s, beta = self._require_fit()
        x, tx, tt = _arrays(frequency, recency, T)
        horizon = np.asarray(t, dtype=np.float64)
        log_ratio = np.log(beta + tt) - np.log(beta + tt + horizon)
        rate = (r + x) * (beta + tt) / (alpha + tt)
        alive = self.conditional_probability_alive(x, tx, tt)
        return np.asarray(alive * rate * _one_minus_pow_over(s - 1, log_ratio), dtype=np.float64)

    def expected_number_of_purchases_up_to_time(self, t: ArrayLike) -> FloatArray:
        r, alpha, s, beta = self._require_fit()
        horizon = np.asarray(t, dtype=np.float64)
        log_ratio = np.log(beta) - np.log(beta + horizon)
        return np.asarray(r * beta / alpha * _one_minus_pow_over(s - 1, log_ratio), np.float64)

    def predict(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        return self.conditional_expected_number_of_purchases_up_to_time(t, frequency, recency, T)

    def log_likelihood(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> FloatArray:
        params = np.array(self._require_fit())
        return _log_likelihood(params, *_arrays(frequency, recency, T))[0]


def _arrays(frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> tuple[FloatArray, ...]:
    x, tx, t = np.broadcast_arrays(
        np.asarray(frequency, dtype=np.float64),
        np.asarray(recency, dtype=np.float64),
        np.asarray(T, dtype=np.float64),
    )
    return x, tx, t


def _one_minus_pow_over(e: float, log_ratio: FloatArray) -> FloatArray:
    """(1 - exp(e * log_ratio)) / e, with its limit -log_ratio at e = 0."""
    if abs(e) < 1e-10:
        return np.asarray(-log_ratio, dtype=np.float64)
    return np.asarray(-np.expm1(e * log_ratio) / e, dtype=np.float64)


def _log_h(params: FloatArray, x: FloatArray, t: FloatArray) -> FloatArray:
    r, alpha, s, beta = params
    c = r + s + x + 1
    if alpha >= beta:
        z = (alpha - beta) / (alpha + t)
        return np.asarray(
            -(r + x) * np.log(alpha + t) - s * np.log(beta + t) + np.log(hyp2f1(1.0, r + x, c, z)),
            dtype=np.float64,
        )
    z = (beta - alpha) / (beta + t)
    return np.asarray(
        -(s + 1) * np.log(beta + t)
        - (r + x - 1) * np.log(alpha + t)
        + np.log(hyp2f1(1.0, s + 1, c, z)),
        dtype=np.float64,
    )


def _log_likelihood(
    params: FloatArray, x: FloatArray, tx: FloatArray, t: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Per-customer log-likelihood and log P(alive)."""
    r, alpha, s, beta = params
    log_t1 = -(r + x) * np.log(alpha + t) - s * np.log(beta + t)
    h_tx = _log_h(params, x, tx)
    h_t = _log_h(params, x, t)
    with np.errstate(divide="ignore"):
        # log(1 - exp(d)) for d <= 0; d = 0 (t_x = T) gives an empty integral, -inf
        diff = np.minimum(h_t - h_tx, 0.0)
        log_integral = h_tx + np.log(-np.expm1(diff)) - np.log(r + s + x)
    mix = np.logaddexp(log_t1, np.log(s) + log_integral)
    ll = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta) + mix
    return np.asarray(ll, dtype=np.float64), np.asarray(log_t1 - mix, dtype=np.float64)

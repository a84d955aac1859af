"""Gamma-Gamma model of spend per transaction, and customer lifetime value.

Each transaction of a customer is worth z ~ Gamma(p, nu); across customers
nu ~ Gamma(q, gamma). Only customers with repeat purchases are fitted, on x (repeat
purchases) and m (mean value of the repeat purchases).

Source: Fader & Hardie (2013), "The Gamma-Gamma Model of Monetary Value"
(brucehardie.com/notes/025): likelihood eq. (3), conditional expectation eq. (5);
Fader, Hardie & Lee (2005), "RFM and CLV: Using Iso-Value Curves for Customer Base
Analysis", JMR 42(4). The model assumes spend is independent of the purchase process;
check that the correlation of frequency and monetary value is small before trusting CLV.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import digamma, gammaln

from tokui.models.base import Fitter, FloatArray, as_float, maximise

# Time units per month, as lifetimes defines them, so CLV figures compare one to one.
UNITS_PER_MONTH = {"W": 4.345, "M": 1.0, "D": 30.0, "H": 30.0 * 24}


class TransactionModel(Protocol):
    def conditional_expected_number_of_purchases_up_to_time(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray: ...


class GammaGammaFitter(Fitter):
    param_names = ("p", "q", "v")

    def fit(
        self, frequency: ArrayLike, monetary_value: ArrayLike, weights: ArrayLike | None = None
    ) -> GammaGammaFitter:
        x = as_float(frequency, "frequency")
        m = as_float(monetary_value, "monetary_value")
        w = np.ones_like(x) if weights is None else as_float(weights, "weights")
        if len(x) != len(m) or len(w) != len(x):
            raise ValueError("frequency and monetary_value must have the same length")
        if np.any(x <= 0):
            raise ValueError("frequency: fit the Gamma-Gamma model on repeat buyers only (x > 0)")
        if np.any(m <= 0):
            raise ValueError("monetary_value: every repeat buyer needs a positive mean spend")
        objective = _objective(x, m, w)
        start = np.log([1.0, 1.0, float(np.average(m, weights=w))])
        params, ll, se = maximise(objective, start, self.param_names, "GammaGammaFitter")
        self._set_fit(params, ll, se, round(float(w.sum())))
        return self

    def conditional_expected_average_profit(
        self, frequency: ArrayLike | None = None, monetary_value: ArrayLike | None = None
    ) -> FloatArray:
        """E[M | x, m]: a weighted mean of the population mean and the customer's own mean.

        Without arguments: the population mean spend p v / (q - 1). Customers without
        repeat purchases (x = 0) get the population mean.
        """
        p, q, v = self._require_fit()
        if frequency is None or monetary_value is None:
            return np.asarray(p * v / (q - 1), dtype=np.float64)
        x = np.asarray(frequency, dtype=np.float64)
        m = np.asarray(monetary_value, dtype=np.float64)
        return np.asarray((p * v + p * x * m) / (p * x + q - 1), dtype=np.float64)

    def customer_lifetime_value(
        self,
        transaction_model: TransactionModel,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        monetary_value: ArrayLike,
        time: int = 12,
        discount_rate: float = 0.01,
        freq: str = "D",
    ) -> FloatArray:
        """Discounted expected spend over the next `time` months.

        Expected purchases in each month times the expected spend, discounted by
        `discount_rate` per month (lifetimes' definition; `freq` is the unit of T).
        """
        if freq not in UNITS_PER_MONTH:
            raise ValueError(f"freq: one of {sorted(UNITS_PER_MONTH)}")
        if discount_rate < 0 or time < 0:
            raise ValueError("discount_rate and time must be >= 0")
        factor = UNITS_PER_MONTH[freq]
        spend = self.conditional_expected_average_profit(frequency, monetary_value)
        predict = transaction_model.conditional_expected_number_of_purchases_up_to_time
        total = np.zeros(np.broadcast(np.asarray(frequency), np.asarray(T)).shape)
        previous = np.zeros_like(total)
        for month in range(1, time + 1):
            cumulative = predict(month * factor, frequency, recency, T)
            total = total + (cumulative - previous) / (1 + discount_rate) ** month
            previous = cumulative
        return np.asarray(total * spend, dtype=np.float64)


def _objective(x: FloatArray, m: FloatArray, w: FloatArray):  # type: ignore[no-untyped-def]
    # log L_i = lgamma(px+q) - lgamma(px) - lgamma(q) + q log v + (px-1) log m + px log x
    #           - (px+q) log(v + m x)
    # Terms in x alone run once per distinct x; the only per-row work is log(v + m x).
    xs, inverse = np.unique(x, return_inverse=True)
    wx = np.bincount(inverse, weights=w)
    n = w.sum()
    wxs = wx * xs
    sum_wx_logm = w @ (x * np.log(m))
    sum_w_logm = w @ np.log(m)
    sum_wx_logx = w @ (x * np.log(x))
    mx = m * x
    wx_row = w * x

    def objective(log_params: FloatArray) -> tuple[float, FloatArray]:
        p, q, v = np.exp(log_params)
        lv = np.log(v + mx)
        s_lv = w @ lv
        s_xlv = wx_row @ lv
        inv = 1.0 / (v + mx)
        ll = (
            wx @ (gammaln(p * xs + q) - gammaln(p * xs))
            - n * gammaln(q)
            + n * q * np.log(v)
            + p * sum_wx_logm
            - sum_w_logm
            + p * sum_wx_logx
            - p * s_xlv
            - q * s_lv
        )
        d_p = wxs @ (digamma(p * xs + q) - digamma(p * xs)) + sum_wx_logm + sum_wx_logx - s_xlv
        d_q = wx @ digamma(p * xs + q) - n * digamma(q) + n * np.log(v) - s_lv
        d_v = n * q / v - p * (wx_row @ inv) - q * (w @ inv)
        grad = np.array([d_p * p, d_q * q, d_v * v])
        return -float(ll), -grad

    return objective

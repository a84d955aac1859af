"""When will a customer buy next? Her own intervals, shrunk toward the shop's.

Log inter-purchase intervals (in days, between distinct purchase days) are modelled as
y_ij ~ Normal(mu_i, sigma^2) with customer means mu_i ~ Normal(mu_0, tau^2): a normal-normal
empirical Bayes model (Efron & Morris 1975; the same shrinkage as Buhlmann credibility).
The population values come from the data by the method of moments:

    sigma^2 = pooled within-customer variance (customers with two or more intervals)
    mu_0    = mean of the customers' mean log-intervals
    tau^2   = max(variance of those means - mean of sigma^2 / k_i, tau2_floor)

and each customer's posterior mean is mu_i = B_i mu_0 + (1 - B_i) ybar_i with
B_i = (sigma^2 / k_i) / (sigma^2 / k_i + tau^2): one interval moves a customer a little
away from the shop's rhythm, ten intervals make her own rhythm count. A customer with
a single purchase gets mu_0. The typical next interval is exp(mu_i) (the posterior
median), the date to watch for dormancy-prevention messages.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from tokui.models.base import Fitter, FloatArray, as_float

TAU2_FLOOR = 1e-6


class NextPurchaseModel(Fitter):
    param_names = ("mu0", "tau2", "sigma2")

    def fit(
        self, n_intervals: ArrayLike, sum_log: ArrayLike, sum_log_sq: ArrayLike
    ) -> NextPurchaseModel:
        """Fit on each customer's interval count, sum of log-intervals and of their squares."""
        k = as_float(n_intervals, "n_intervals")
        s1 = as_float(sum_log, "sum_log")
        s2 = as_float(sum_log_sq, "sum_log_sq")
        if not (len(k) == len(s1) == len(s2)):
            raise ValueError("n_intervals, sum_log and sum_log_sq must have the same length")
        if np.any(k < 0) or np.any(k != np.floor(k)):
            raise ValueError("n_intervals: whole numbers >= 0")
        has = k >= 1
        many = k >= 2
        if many.sum() == 0:
            raise ValueError("n_intervals: at least one customer needs two or more intervals")
        within = s2[many] - s1[many] ** 2 / k[many]
        sigma2 = float(np.clip(within, 0, None).sum() / (k[many] - 1).sum())
        means = s1[has] / k[has]
        mu0 = float(means.mean())
        tau2 = float(max(means.var() - np.mean(sigma2 / k[has]), TAU2_FLOOR))
        nan = np.full(3, np.nan)
        self._set_fit(np.array([mu0, tau2, sigma2]), float("nan"), nan, int(has.sum()))
        return self

    def posterior_log_interval(self, n_intervals: ArrayLike, sum_log: ArrayLike) -> FloatArray:
        """Posterior mean of each customer's mean log-interval."""
        mu0, tau2, sigma2 = self._require_fit()
        k = np.asarray(n_intervals, dtype=np.float64)
        s1 = np.asarray(sum_log, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            ybar = np.where(k > 0, s1 / k, 0.0)
            noise = np.where(k > 0, sigma2 / k, np.inf)
            shrink = np.where(k > 0, noise / (noise + tau2), 1.0)
        return np.asarray(shrink * mu0 + (1 - shrink) * ybar, dtype=np.float64)

    def typical_interval_days(self, n_intervals: ArrayLike, sum_log: ArrayLike) -> FloatArray:
        """exp(posterior mean): the median of the customer's next interval, in days."""
        return np.asarray(np.exp(self.posterior_log_interval(n_intervals, sum_log)), np.float64)

"""Empirical-Bayes next-purchase timing on a hand-made fixture (worked in comments)."""

from __future__ import annotations

import numpy as np
import pytest

from tokui.models.next_purchase import NextPurchaseModel

LN = np.log
# Customer A: intervals 10, 10, 40 days; B: 20, 20; C: 90; D: no interval (one purchase).
INTERVALS = {"A": [10, 10, 40], "B": [20, 20], "C": [90], "D": []}


def stats(values: list[int]) -> tuple[int, float, float]:
    logs = [LN(v) for v in values]
    return len(values), float(sum(logs)), float(sum(v * v for v in logs))


def test_hand_computed_shrinkage() -> None:
    k, s1, s2 = map(np.array, zip(*(stats(v) for v in INTERVALS.values()), strict=True))
    m = NextPurchaseModel().fit(k, s1, s2)
    # sigma^2: pooled within variance over A and B; B has none (equal intervals).
    # A: logs ln10, ln10, ln40; mean ln10 + ln4/3; squared deviations sum to
    # (ln4)^2 * (1/9 + 1/9 + 4/9) = (2/3)(ln4)^2, over k-1 = 2 + 1 degrees of freedom
    sigma2 = (2 / 3) * LN(4) ** 2 / 3
    assert m.params_["sigma2"] == pytest.approx(sigma2)
    means = np.array([LN(10) + LN(4) / 3, LN(20), LN(90)])
    mu0 = means.mean()
    assert m.params_["mu0"] == pytest.approx(mu0)
    tau2 = means.var() - np.mean(sigma2 / np.array([3, 2, 1]))
    assert m.params_["tau2"] == pytest.approx(tau2)
    post = m.posterior_log_interval(k, s1)
    b = (sigma2 / np.array([3, 2, 1])) / (sigma2 / np.array([3, 2, 1]) + tau2)
    assert post[:3] == pytest.approx(b * mu0 + (1 - b) * means)
    assert post[3] == pytest.approx(mu0)  # no interval: the shop's typical rhythm
    # more intervals, less shrinkage: A keeps more of its own mean than C
    assert b[0] < b[2]
    days = m.typical_interval_days(k, s1)
    assert days == pytest.approx(np.exp(post))


def test_needs_a_customer_with_two_intervals() -> None:
    with pytest.raises(ValueError, match="two or more"):
        NextPurchaseModel().fit([1, 0], [LN(5), 0.0], [LN(5) ** 2, 0.0])

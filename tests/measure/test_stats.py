"""Experiment statistics against hand computation with the textbook formulas.

Φ is computed here with math.erfc, independently of scipy used by the code.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from tokui.measure.stats import (
    chi_squared,
    compare_means,
    compare_proportions,
    incremental_revenue,
    probability_to_be_best,
    sample_size_per_arm,
)


def phi_sf(z: float) -> float:
    return 0.5 * math.erfc(z / math.sqrt(2))


def test_two_proportions_hand_computed() -> None:
    # treatment 120 of 1000, holdout 90 of 1000
    r = compare_proportions(120, 1000, 90, 1000)
    assert r.difference == pytest.approx(0.03)
    pooled = 210 / 2000
    se0 = math.sqrt(pooled * (1 - pooled) * (2 / 1000))
    assert r.z == pytest.approx(0.03 / se0)
    assert r.z == pytest.approx(2.188266, abs=1e-6)
    assert r.p_value == pytest.approx(2 * phi_sf(0.03 / se0))
    assert r.p_value == pytest.approx(0.028650, abs=1e-6)
    se = math.sqrt(0.12 * 0.88 / 1000 + 0.09 * 0.91 / 1000)
    assert r.difference_ci == pytest.approx((0.03 - 1.959964 * se, 0.03 + 1.959964 * se), abs=1e-6)
    assert r.relative_uplift == pytest.approx(1 / 3)
    se_log = math.sqrt(0.88 / 120 + 0.91 / 90)
    lo = math.exp(math.log(120 / 90) - 1.959964 * se_log) - 1
    assert r.relative_ci is not None and r.relative_ci[0] == pytest.approx(lo, abs=1e-6)


def test_pooled_statistic_for_the_test() -> None:
    # 45/500 vs 30/500: pooled rate 0.075, se sqrt(0.075 * 0.925 * 2/500) = 0.0166583
    r = compare_proportions(45, 500, 30, 500)
    assert r.z == pytest.approx(0.03 / math.sqrt(0.075 * 0.925 * 0.004))
    assert r.z == pytest.approx(1.800901, abs=1e-6)


def test_no_conversions_has_no_relative_uplift() -> None:
    r = compare_proportions(0, 100, 0, 100)
    assert r.relative_uplift is None and r.p_value == 1.0
    with pytest.raises(ValueError):
        compare_proportions(5, 0, 1, 10)
    with pytest.raises(ValueError):
        compare_proportions(11, 10, 1, 10)


def test_welch_means() -> None:
    a = [0, 0, 3000, 5000, 0, 2000]
    b = [0, 1000, 0, 0, 0]
    r = compare_means(a, b)
    ma, mb = 10000 / 6, 200.0
    va = sum((x - ma) ** 2 for x in a) / 5 / 6
    vb = sum((x - mb) ** 2 for x in b) / 4 / 5
    assert r.difference == pytest.approx(ma - mb)
    assert r.t == pytest.approx((ma - mb) / math.sqrt(va + vb))
    df = (va + vb) ** 2 / (va**2 / 5 + vb**2 / 4)
    # va = 21,333,333.3 / 5 / 6 = 711,111.1; vb = 800,000 / 4 / 5 = 40,000
    assert df == pytest.approx(5.5563, abs=1e-4)
    assert r.t == pytest.approx(1.69231, abs=1e-5)  # 1,466.67 / 866.67
    from scipy import stats

    assert r.p_value == pytest.approx(2 * stats.t.sf(r.t, df))


def test_chi_squared_three_arms() -> None:
    # expected counts: rate 60/600 = 0.1 → 20 per arm; observed 30, 20, 10
    r = chi_squared([30, 20, 10], [200, 200, 200])
    hand = (10**2 / 20 + 0 + 10**2 / 20) + (10**2 / 180 + 0 + 10**2 / 180)
    assert r.statistic == pytest.approx(hand)
    assert r.dof == 2
    assert r.p_value == pytest.approx(math.exp(-hand / 2))  # chi2 sf with 2 dof


def test_probability_to_be_best() -> None:
    p = probability_to_be_best([120, 90], [1000, 1000])
    assert sum(p) == pytest.approx(1.0)
    # posterior difference ≈ N(0.03, 0.0137²): P(A > B) ≈ Φ(0.03 / 0.01371) ≈ 0.9857
    assert p[0] == pytest.approx(1 - phi_sf(2.188), abs=0.004)
    assert probability_to_be_best([120, 90], [1000, 1000]) == p  # seeded


def test_sample_size() -> None:
    # baseline 10 %, detect +2 points, alpha 5 %, power 80 %: the textbook answer is 3,841
    assert sample_size_per_arm(0.10, 0.02) == 3841
    assert sample_size_per_arm(0.10, 0.02, power=0.9) > 3841
    with pytest.raises(ValueError):
        sample_size_per_arm(0.99, 0.02)


def test_incremental_revenue() -> None:
    assert incremental_revenue(520.0, 480.0, 9000) == 360_000.0
    assert np.isclose(incremental_revenue(0, 0, 10), 0)

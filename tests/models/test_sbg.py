"""sBG against Fader & Hardie (2007), "How to Project Customer Retention", and DERL."""

from __future__ import annotations

import numpy as np
import pytest

from tokui.models.sbg import ShiftedBetaGeoFitter

# Customers still active at the start of years 0..12, per 1,000 (the paper's Table 1).
REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241, 223, 207, 194, 183, 173]
HIGH_END = [1000, 869, 743, 653, 593, 551, 517, 491, 468, 445, 427, 409, 394]


def test_published_estimates_from_seven_years() -> None:
    # The paper fits years 1-7 and reports alpha=0.704, beta=1.182 (regular) and
    # alpha=0.668, beta=3.806 (high end).
    regular = ShiftedBetaGeoFitter().fit_survivors(REGULAR[:8])
    high = ShiftedBetaGeoFitter().fit_survivors(HIGH_END[:8])
    assert round(regular.params_["alpha"], 3) == 0.704
    assert round(regular.params_["beta"], 3) == 1.182
    assert round(high.params_["alpha"], 3) == 0.668
    assert round(high.params_["beta"], 3) == 3.806
    assert round(regular.log_likelihood_, 1) == -1680.3
    assert round(high.log_likelihood_, 1) == -1611.2


def test_projection_tracks_the_held_out_years() -> None:
    # Projected survival for years 8-12 from the 7-year fit stays within 2.5 points of
    # the actual share (the paper's Figure 4 shows the sBG tracking both segments).
    for data in (REGULAR, HIGH_END):
        m = ShiftedBetaGeoFitter().fit_survivors(data[:8])
        projected = 100 * m.survival_function(np.arange(8, 13))
        actual = np.array(data[8:]) / 10
        assert np.max(np.abs(projected - actual)) < 2.5


def test_survival_retention_and_churn_by_hand() -> None:
    m = ShiftedBetaGeoFitter()
    m._set_fit(np.array([1.0, 2.0]), 0.0, np.zeros(2), 1)
    # alpha=1, beta=2: S(t) = B(1, 2+t)/B(1, 2) = 2/(2+t); P(T=1) = 1/3
    assert m.survival_function([0, 1, 2, 3]) == pytest.approx([1, 2 / 3, 1 / 2, 2 / 5])
    assert m.churn_probability([1, 2]) == pytest.approx([1 / 3, 1 / 6])
    assert m.retention_rate(2) == pytest.approx(3 / 4)  # (beta+t-1)/(alpha+beta+t-1)
    # after 1 renewal (n = 2): next 2 periods paid with S(2)/S(1) + S(3)/S(1) = 3/4 + 3/5
    assert m.expected_remaining_periods(1, 2) == pytest.approx(0.75 + 0.6)


def test_derl_equals_the_discounted_sum() -> None:
    m = ShiftedBetaGeoFitter().fit_survivors(HIGH_END[:8])
    s = m.survival_function
    for renewals, d in ((0, 0.1), (4, 0.1), (10, 0.02)):
        n = renewals + 1
        brute = sum(s(t) / s(n - 1) / (1 + d) ** (t - n) for t in range(n, 5000))
        assert m.discounted_expected_residual_lifetime(renewals, d) == pytest.approx(brute)
    with pytest.raises(ValueError, match="discount_rate"):
        m.discounted_expected_residual_lifetime(1, 0.0)


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="survivors"):
        ShiftedBetaGeoFitter().fit_survivors([100, 120])
    with pytest.raises(ValueError, match="nobody churned"):
        ShiftedBetaGeoFitter().fit([3, 4], [False, False])
    with pytest.raises(ValueError, match="periods"):
        ShiftedBetaGeoFitter().fit([0], [True])

"""Holdout and global-control uplift on the hand-made shop (tests/measure/shop.py), checked
against the textbook formulas and scipy's own implementations."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from scipy import stats as sps

from tests.measure.conftest import Stores
from tests.measure.shop import ALL, AS_OF, CONTROL, ORDERS, T0
from tokui.features.hashing import ensure_customer_hashes
from tokui.measure.uplift import marketing_uplift, scenario_uplift
from tokui.scenarios.control import in_global_control
from tokui.state.db import session_scope

TREATED_REVENUE = [3000, 2000, 0, 0, 0, 2500, 0, 0, 0, 0]
HOLDOUT_REVENUE = [4000, 1000] + [0] * 8


def z_test(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float]:
    p1, p2 = k1 / n1, k2 / n2
    pooled = (k1 + k2) / (n1 + n2)
    z = (p1 - p2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return z, math.erfc(abs(z) / math.sqrt(2))


@pytest.mark.parametrize("where", ["warehouse", "local"])
def test_holdout_uplift_by_hand(stores: Stores, where: str) -> None:
    with session_scope(stores.sessions) as db:
        results = scenario_uplift(stores.con, db, "s1", AS_OF, force=where)
    holdout = next(r for r in results if r.kind == "holdout")
    assert (holdout.step_id, holdout.window_days) == ("hold", 7.0)
    t, c = holdout.treatment, holdout.control
    # t11 (treated at T0+8d) has no complete window at T0+10d and is left out.
    assert (t.n, t.conversions, t.orders, t.revenue) == (10, 3, 4, 7500.0)
    assert (c.n, c.conversions, c.orders, c.revenue) == (10, 2, 2, 5000.0)
    conv = holdout.conversion
    assert conv is not None
    assert conv.difference == pytest.approx(0.1)
    z, p = z_test(3, 10, 2, 10)
    assert conv.z == pytest.approx(z) and conv.p_value == pytest.approx(p)
    # z = 0.1 / sqrt(0.25 * 0.75 * 0.2) = 0.516398
    assert conv.z == pytest.approx(0.516398, abs=1e-6)
    se = math.sqrt(0.3 * 0.7 / 10 + 0.2 * 0.8 / 10)
    assert conv.difference_ci == pytest.approx((0.1 - 1.959964 * se, 0.1 + 1.959964 * se), abs=1e-6)
    assert conv.relative_uplift == pytest.approx(0.5)
    rev = holdout.revenue
    assert rev is not None
    welch = sps.ttest_ind(TREATED_REVENUE, HOLDOUT_REVENUE, equal_var=False)
    assert rev.difference == pytest.approx(250.0)
    assert rev.t == pytest.approx(welch.statistic) and rev.p_value == pytest.approx(welch.pvalue)
    ci = welch.confidence_interval(0.95)
    assert rev.difference_ci == pytest.approx((ci.low, ci.high))
    assert holdout.incremental_revenue == pytest.approx(2500.0)
    assert holdout.incremental_revenue_ci == pytest.approx((ci.low * 10, ci.high * 10))
    assert holdout.incremental_conversions == pytest.approx(1.0)


def test_window_and_period_are_parameters(stores: Stores) -> None:
    with session_scope(stores.sessions) as db:
        # A 2-day window: t01, t06 (T0+1d) convert; h01 at T0+2d exactly counts.
        short = scenario_uplift(stores.con, db, "s1", AS_OF, window=timedelta(days=2))
        # Anchors from T0+1d on: only t11, whose window is still open → no units.
        later = scenario_uplift(stores.con, db, "s1", AS_OF, start=T0 + timedelta(days=1))
    h = next(r for r in short if r.kind == "holdout")
    assert (h.treatment.conversions, h.control.conversions) == (2, 1)
    assert (h.treatment.revenue, h.control.revenue) == (4000.0, 4000.0)
    empty = next(r for r in later if r.kind == "holdout")
    assert (empty.treatment.n, empty.control.n, empty.conversion) == (0, 0, None)


def test_global_control_of_a_scenario(stores: Stores) -> None:
    with session_scope(stores.sessions) as db:
        results = scenario_uplift(stores.con, db, "s1", AS_OF)
    g = next(r for r in results if r.kind == "global_control")
    # Every other enrollment of s1 (treated and held out) against g01, g02.
    assert (g.treatment.n, g.treatment.conversions, g.treatment.revenue) == (20, 5, 12500.0)
    assert (g.control.n, g.control.conversions, g.control.revenue) == (2, 1, 1000.0)
    _, p = z_test(5, 20, 1, 2)
    assert g.conversion is not None and g.conversion.p_value == pytest.approx(p)


def test_marketing_uplift_matches_python_membership(stores: Stores) -> None:
    ensure_customer_hashes(stores.con)
    percent = 30.0
    start, end = T0, T0 + timedelta(days=7)
    result = marketing_uplift(stores.con, percent, start, end)
    # The same membership computed in Python, one customer at a time.
    revenue = dict.fromkeys(ALL, 0)
    for _, cid, at, status, total, _ in ORDERS:
        if status == "completed" and start <= at < end:
            revenue[cid] += total
    control = [c for c in ALL if in_global_control(c, percent)]
    treated = [c for c in ALL if not in_global_control(c, percent)]
    assert 0 < len(control) < len(ALL)
    assert result.control.n == len(control) and result.treatment.n == len(treated)
    assert result.control.revenue == sum(revenue[c] for c in control)
    assert result.treatment.conversions == sum(1 for c in treated if revenue[c] > 0)
    welch = sps.ttest_ind(
        [revenue[c] for c in treated], [revenue[c] for c in control], equal_var=False
    )
    assert result.revenue is not None and result.revenue.p_value == pytest.approx(welch.pvalue)
    with pytest.raises(ValueError, match="off"):
        marketing_uplift(stores.con, 0, start, end)
    assert CONTROL  # the scenario's own control enrollments are not this group

"""The overview of every scenario on the hand-made shop (tests/measure/shop.py): figures,
the primary comparison, the flags and the whitelisted sort."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.measure.conftest import Stores
from tests.measure.shop import AS_OF, T0
from tokui.measure.outcomes import GroupOutcome
from tokui.measure.overview import OverviewRow, overview, primary_uplift, sort_rows
from tokui.measure.uplift import compare
from tokui.state.db import session_scope

WEEK = timedelta(days=7)


def test_overview_rows(stores: Stores) -> None:
    with session_scope(stores.sessions) as db:
        view = overview(stores.con, db, T0 - WEEK, AS_OF, AS_OF, global_control_percent=0)
    rows = {r.key: r for r in view.rows}
    assert list(rows) == ["ab", "ab3", "s1", "s2"]
    s1 = rows["s1"]
    # 11 emails sent (t11's at T0+8d too), 10 delivered, 1 unsubscribed, 1 bounced.
    assert (s1.sent, s1.delivered, s1.conversions, s1.revenue) == (11, 10, 3, 6000.0)
    assert s1.unsubscribe_rate == pytest.approx(0.1)
    assert s1.bounce_rate == pytest.approx(1 / 11)
    # The holdout comes first (not the global control): ¥250 × 10 treated.
    assert s1.uplift is not None and (s1.uplift.kind, s1.uplift.step_id) == ("holdout", "hold")
    assert s1.incremental_revenue == pytest.approx(2500.0)
    assert (s1.earns, s1.annoys) == (False, True)
    assert (rows["s2"].conversions, rows["s2"].revenue) == (1, 1500.0)
    assert (rows["ab"].uplift, rows["ab"].earns, rows["ab"].annoys) == (None, None, False)
    assert (rows["ab3"].sent, rows["ab3"].unsubscribe_rate) == (0, None)
    assert (view.marketing, view.marketing_error) == (None, None)
    with session_scope(stores.sessions) as db:
        on = overview(stores.con, db, T0 - WEEK, AS_OF, AS_OF, global_control_percent=10)
    # The group is on but the warehouse has no customer hashes yet (no refresh ran).
    assert on.marketing is None and on.marketing_error is not None
    assert "tokui refresh" in on.marketing_error


def _row(key: str, name: str, sent: int, unsub: float | None, uplift: bool) -> OverviewRow:
    result = None
    if uplift:
        # Treated 10 of 100 each paying ¥1,000, control 1 of 100: interval above zero.
        t = GroupOutcome(100, 10, 10, 10_000.0, 10 * 1_000_000.0)
        c = GroupOutcome(100, 1, 1, 1_000.0, 1_000_000.0)
        result = compare(key, "holdout", "h", WEEK, t, c)
    return OverviewRow(key, name, name, "enabled", sent, sent, 0, 0.0, unsub, 0.0, result)


def test_flags_and_sorting() -> None:
    rows = [
        _row("b", "いろは", 5, 0.006, False),
        _row("a", "あいう", 5, 0.005, True),
        _row("c", "かきく", 9, None, False),
    ]
    a = rows[1]
    assert a.incremental_revenue == pytest.approx(9000.0)
    assert a.incremental_revenue_ci is not None and a.incremental_revenue_ci[0] > 0
    assert (a.earns, a.annoys) == (True, False)  # 0.5 % is not above 0.5 %
    assert (rows[0].earns, rows[0].annoys) == (None, True)
    assert [r.key for r in sort_rows(rows, "sent", "desc", "ja")] == ["c", "a", "b"]
    assert [r.key for r in sort_rows(rows, "sent", "asc", "ja")] == ["a", "b", "c"]
    # Rows without a value go last either way.
    assert [r.key for r in sort_rows(rows, "unsubscribe_rate", "asc", "ja")] == ["a", "b", "c"]
    assert [r.key for r in sort_rows(rows, "unsubscribe_rate", "desc", "ja")] == ["b", "a", "c"]
    assert [r.key for r in sort_rows(rows, "name", "asc", "ja")] == ["a", "b", "c"]
    with pytest.raises(ValueError, match="sort must be one of"):
        sort_rows(rows, "key; DROP TABLE scenarios", "asc", "ja")
    with pytest.raises(ValueError, match="dir must be one of"):
        sort_rows(rows, "sent", "sideways", "ja")
    assert primary_uplift([]) is None

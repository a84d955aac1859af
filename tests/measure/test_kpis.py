"""KPIs per scenario, channel, week and segment, and retention changes, on the hand-made
shop (tests/measure/shop.py)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from tests.measure.conftest import Stores
from tests.measure.shop import AS_OF, T0
from tokui.measure.kpis import kpis, retention_changes, segment_kpis, week_bounds
from tokui.state.db import session_scope

WEEK = (T0, T0 + timedelta(days=7))


def test_week_bounds_are_local_mondays() -> None:
    # 2026-01-07 10:00 UTC is a Wednesday in Tokyo; its week starts Monday 00:00 JST,
    # 2026-01-04 15:00 UTC. An end at the next Monday needs no further week; a minute
    # later does.
    week = [datetime(2026, 1, 4, 15), datetime(2026, 1, 11, 15)]
    assert week_bounds(datetime(2026, 1, 7, 10), datetime(2026, 1, 11, 15)) == week
    later = week_bounds(datetime(2026, 1, 7, 10), datetime(2026, 1, 11, 15, 1))
    assert later == [*week, datetime(2026, 1, 18, 15)]


def test_kpis_per_scenario(stores: Stores) -> None:
    with session_scope(stores.sessions) as db:
        report = kpis(stores.con, db, *WEEK, by=["scenario_key"])
    t = report.table.set_index("scenario_key")
    s1 = t.loc["s1"]
    # Ten emails (t11's is next week; t08's receipt is transactional): t09 bounced, so 9
    # delivered; t01, t02, t10 opened, t01 clicked, t10 unsubscribed.
    assert s1[["messages", "sent", "delivered", "opened", "clicked"]].tolist() == [10, 10, 9, 3, 1]
    assert s1[["unsubscribed", "bounced", "recipients", "conversions"]].tolist() == [1, 1, 10, 3]
    assert s1["revenue"] == 6000
    assert s1["open_rate"] == pytest.approx(3 / 9)
    assert s1["response_rate"] == pytest.approx(1 / 9)
    assert s1["cvr"] == pytest.approx(3 / 9)
    assert s1["revenue_per_recipient"] == pytest.approx(600)
    assert s1["unsubscribe_rate"] == pytest.approx(1 / 9)
    assert s1["bounce_rate"] == pytest.approx(1 / 10)
    assert t.loc["s2", ["messages", "opened", "conversions", "revenue"]].tolist() == [1, 1, 1, 1500]
    assert t.loc["ab", ["messages", "opened", "conversions", "revenue"]].tolist() == [
        40,
        15,
        10,
        10000,
    ]


def test_kpis_per_channel_and_week(stores: Stores) -> None:
    with session_scope(stores.sessions) as db:
        report = kpis(stores.con, db, T0, T0 + timedelta(days=14), by=["channel", "week"])
    rows = {
        (r.channel, r.week): (r.messages, r.conversions)
        for r in report.table.itertuples(index=False)
    }
    # t11's email (T0+8d) falls in the second week and converts nothing.
    assert rows == {
        ("email", date(2026, 1, 5)): (50, 13),
        ("email", date(2026, 1, 12)): (1, 0),
        ("line", date(2026, 1, 5)): (1, 1),
    }
    with session_scope(stores.sessions) as db, pytest.raises(ValueError, match="unknown"):
        kpis(stores.con, db, *WEEK, by=["segment; DROP TABLE orders"])


def test_kpis_per_segment(stores: Stores) -> None:
    with session_scope(stores.sessions) as db:
        report = kpis(stores.con, db, *WEEK, by=["scenario_key"])
        seg = segment_kpis(stores.con, db, *WEEK, report.attribution)
    [vip] = seg.to_dict("records")
    # Members t01, t02 got an email each (h01 is a member but got nothing).
    assert vip["segment_key"] == "vip"
    assert [vip[k] for k in ("recipients", "messages", "delivered", "opened", "clicked")] == [
        2,
        2,
        2,
        2,
        1,
    ]
    assert (vip["conversions"], vip["revenue"]) == (2, 5000)
    assert vip["cvr"] == pytest.approx(1.0)


def test_f2_and_continuation_against_the_holdout(stores: Stores) -> None:
    with session_scope(stores.sessions) as db:
        changes = retention_changes(stores.con, db, "s1", AS_OF)
    got = {
        (c.kind, c.metric): (c.n_treatment, c.rate_treatment, c.n_control, c.rate_control)
        for c in changes
    }
    # F2: t03 and t07 had one order before T0 and no second; h02 had one and bought again.
    assert got[("holdout", "f2")] == (2, 0.0, 1, 1.0)
    # Continuation: t08 still subscribed at T0+7d, t09 cancelled at T0+3d; h03 cancelled
    # only at T0+20d; h04 started after T0 and is not counted.
    assert got[("holdout", "continuation")] == (2, 0.5, 1, 1.0)
    # Against the global control (g01, g02: no history), F2 has no control units.
    assert got[("global_control", "f2")] == (3, pytest.approx(1 / 3), 0, 0.0)
    f2 = next(c for c in changes if (c.kind, c.metric) == ("holdout", "f2"))
    assert f2.comparison is not None and f2.comparison.difference == pytest.approx(-1.0)

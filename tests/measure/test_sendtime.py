"""Best hour and channel preference, by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from tests.measure.conftest import Stores
from tests.measure.shop import AS_OF
from tokui.measure.sendtime import (
    allowed_hours,
    channel_preference,
    choose_hours,
    hour_counts,
    next_at_hour,
    shop_curve,
)
from tokui.scenarios.policy import SendPolicy
from tokui.state.db import session_scope

TOKYO = ZoneInfo("Asia/Tokyo")


def test_choose_hours_by_hand() -> None:
    counts = pd.DataFrame(
        {
            "customer_id": ["A", "A", "B", "D", "E"],
            "hour": [20, 10, 10, 15, 23],
            "w": [2.0, 1.0, 1.0, 1.0, 4.0],
        }
    )
    prior = shop_curve(counts)
    # Shop: 10 h 2/9, 15 h 1/9, 20 h 2/9, 23 h 4/9.
    assert prior[[10, 15, 20, 23]] == pytest.approx([2 / 9, 1 / 9, 2 / 9, 4 / 9])
    allowed = allowed_hours(SendPolicy(), TOKYO, datetime(2026, 1, 5, 3, tzinfo=UTC))
    assert allowed == list(range(9, 21))  # quiet 21:00-09:00
    table, fallback = choose_hours(counts, prior, allowed)
    # 23 h is quiet; of the allowed hours 10 and 20 tie in the prior, argmax takes 10.
    assert fallback == 10
    got = dict(zip(table["customer_id"], table["best_hour"], strict=True))
    # A: 20 h 2 + 3·2/9 = 2.67 beats 10 h 1 + 0.67; B: 10 h; D: 15 h 1 + 3·1/9 = 1.33
    # beats the prior alone at 10 h (0.67); E only acted in quiet hours → fallback.
    assert got == {"A": 20, "B": 10, "D": 15}
    assert "E" not in got


def test_flat_prior_falls_back_to_noon() -> None:
    table, fallback = choose_hours(
        pd.DataFrame({"customer_id": [], "hour": [], "w": []}), np.full(24, 1 / 24), range(9, 21)
    )
    assert (len(table), fallback) == (0, 12)


def test_next_at_hour() -> None:
    start = datetime(2026, 1, 5, 4, 5, tzinfo=UTC)  # 13:05 JST
    assert next_at_hour(start, 13, TOKYO) == start
    assert next_at_hour(start, 19, TOKYO) == datetime(2026, 1, 5, 19, tzinfo=TOKYO)
    assert next_at_hour(start, 10, TOKYO) == datetime(2026, 1, 6, 10, tzinfo=TOKYO)


def test_hour_counts_and_channel_preference(stores: Stores) -> None:
    now = AS_OF.replace(tzinfo=UTC)
    with session_scope(stores.sessions) as db:
        counts = hour_counts(stores.con, db, now, TOKYO, ["t01", "t06"])
        pref = channel_preference(db, now)
    rows = {(r.customer_id, r.hour): r.w for r in counts.itertuples(index=False)}
    # t01: opened 13:00 JST (1), clicked 14:00 (2), ordered 12:00 (1);
    # t06: orders at 12:00 (twice), LINE opened 13:00.
    assert rows == {
        ("t01", 12): 1.0,
        ("t01", 13): 1.0,
        ("t01", 14): 2.0,
        ("t06", 12): 2.0,
        ("t06", 13): 1.0,
    }
    # E-mail: 52 sent (s1 10 + t11 + a receipt + 40 A/B), 18 opened or clicked;
    # LINE: t06's one message, opened. Shrunk with 5 pseudo-messages at the shop rate.
    email = 18 / 52
    p = pref.set_index(["customer_id", "channel"])
    assert p.loc[("t06", "email"), "rate"] == pytest.approx((0 + 5 * email) / 6)
    assert p.loc[("t06", "line"), "rate"] == pytest.approx(1.0)
    assert p.loc[("t06", "email"), "preferred"] == "line"
    assert p.loc[("t01", "email"), "rate"] == pytest.approx((1 + 5 * email) / 6)
    assert p.loc[("t01", "email"), "preferred"] == "email"

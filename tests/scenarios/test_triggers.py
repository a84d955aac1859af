"""Each trigger type against the hand-made shop (tests/scenarios/shop.py), with a few
extra rows added here; expected customers and occurrences worked out by hand.

Extra rows of the module's warehouse (window: shop-local day 2026-01-06):
- stock: tea ran out 2025-12-20 00:00 and came back 2026-01-05 06:00 (UTC); rice came
  back 2026-01-05 10:00 with no stock-out recorded.
- interest: c1 favourited tea 2025-12-01 (35 days before it came back); c2 viewed tea
  2025-12-28 and c3 viewed and carted it on 01-04/05 (while it was out); c3 favourited
  rice 2025-06-01 (218 days before its restock); c1 viewed rice before its restock (no
  stock-out recorded: not waiting) and favourited it after.
- c4 registered 2026-01-05 16:00 UTC (01:00 on the 6th in Tokyo) and changed their details
  at 18:00; c5 registered at 16:00 too, their record written again at 16:30 (the sign-up
  itself, not a change). Both registered after the day's date triggers fired (00:00 JST).
- rank changes: c1 up to silver and c2 down on 2026-01-06, c3 up to gold on 2026-01-05.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from ibis.backends import BaseBackend
from pydantic import TypeAdapter

from tests.conftest import fresh_pg_url
from tests.scenarios.shop import build
from tokui.features.customer_features import customer_features_expr
from tokui.features.rank_history import RANK_CHANGES, RANK_RULES, saved_rules
from tokui.features.ranks import load_rank_rules, rank_expr
from tokui.refresh.features import materialise_features
from tokui.scenarios.triggers import Fired, _for_rules, _WithEmpty, fire
from tokui.scenarios.triggers_def import Trigger
from tokui.segments.compile import Context
from tokui.segments.dsl import Compare, ViewedNotBought
from tokui.warehouse import bulk_load

# (2026-01-05 09:00 JST, 2026-01-06 09:00 JST]: shop-local day 2026-01-06
SINCE = datetime(2026, 1, 5, 0, tzinfo=UTC)
UNTIL = datetime(2026, 1, 6, 0, tzinfo=UTC)


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def con(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BaseBackend]:
    url = None
    if request.param == "postgres":
        url = fresh_pg_url(request.getfixturevalue("pg_database"))
    ws = build(tmp_path_factory.mktemp("triggers") / "ws", warehouse_url=url)
    c = ws.warehouse
    assert c.name == request.param
    bulk_load(
        c,
        "web_events",
        pd.DataFrame(
            {
                "event_id": ["w3", "w4", "w5", "w6", "w7", "w8", "w9"],
                "occurred_at": [
                    datetime(2026, 1, 5, 2),
                    datetime(2026, 1, 4, 23, 30),
                    datetime(2026, 1, 5, 0),
                    datetime(2025, 12, 1, 3),
                    datetime(2025, 12, 28, 3),
                    datetime(2026, 1, 5, 11),
                    datetime(2025, 6, 1, 3),
                ],
                "event_type": [
                    "product_view",
                    "product_view",
                    "cart_add",
                    "favorite",
                    "product_view",
                    "favorite",
                    "favorite",
                ],
                "customer_id": ["c1", "c3", "c3", "c1", "c2", "c1", "c3"],
                "product_id": ["rice", "tea", "tea", "tea", "tea", "rice", "rice"],
            }
        ),
    )
    bulk_load(
        c,
        "subscriptions",
        pd.DataFrame(
            {
                "subscription_id": ["s1"],
                "customer_id": ["c2"],
                "product_id": ["tea"],
                "quantity": [1],
                "unit_price": [1000],
                "cycle_unit": ["month"],
                "cycle_interval": [1],
                "status": ["active"],
                "started_at": [datetime(2025, 6, 1)],
            }
        ),
    )
    bulk_load(
        c,
        "subscription_events",
        pd.DataFrame(
            {
                "event_id": ["e1", "e2", "e3"],
                "subscription_id": ["s1", "s1", "s1"],
                "occurred_at": [
                    datetime(2026, 1, 5, 5),
                    datetime(2026, 1, 6, 5),
                    datetime(2026, 1, 5, 6),
                ],
                "event_type": ["skip", "skip", "cycle_change"],
            }
        ),
    )
    bulk_load(
        c,
        "point_transactions",
        pd.DataFrame(
            {
                "transaction_id": ["p1", "p2"],
                "customer_id": ["c3", "c1"],
                "occurred_at": [datetime(2025, 7, 20), datetime(2025, 7, 21)],
                "kind": ["earn", "earn"],
                "points": [500, 300],
                "expires_on": [date(2026, 1, 20), date(2026, 1, 21)],
            }
        ),
    )
    bulk_load(
        c,
        "products",
        pd.DataFrame(
            {
                "product_id": ["yuzu"],
                "name": ["柚子茶"],
                "category": ["茶"],
                "price": [1200],
                "is_subscription": [False],
                "is_gift": [False],
                "launched_on": [date(2026, 1, 6)],
                "stock_status": ["in_stock"],
            }
        ),
    )
    bulk_load(
        c,
        "coupons",
        pd.DataFrame(
            {
                "coupon_id": ["K"],
                "name": ["500円引き"],
                "discount_type": ["amount"],
                "discount_value": [500],
                "created_at": [datetime(2025, 12, 1)],
            }
        ),
    )
    bulk_load(
        c,
        "coupon_grants",
        pd.DataFrame(
            {
                "grant_id": ["g1", "g2"],
                "coupon_id": ["K", "K"],
                "customer_id": ["c1", "c2"],
                "code": ["A1", "A2"],
                "granted_at": [datetime(2025, 12, 1)] * 2,
                "expires_at": [datetime(2026, 1, 9, 3)] * 2,  # 12:00 JST on the 9th
                "used_at": [None, datetime(2026, 1, 2)],
            }
        ),
    )
    bulk_load(
        c,
        "stock_events",
        pd.DataFrame(
            {
                "event_id": ["s1", "s2", "s3"],
                "product_id": ["tea", "tea", "rice"],
                "occurred_at": [
                    datetime(2025, 12, 20),
                    datetime(2026, 1, 5, 6),
                    datetime(2026, 1, 5, 10),
                ],
                "event_type": ["out_of_stock", "restock", "restock"],
                "quantity": [0, 40, 100],
            }
        ),
    )
    bulk_load(
        c,
        "customers",
        pd.DataFrame(
            {
                "customer_id": ["c4", "c5"],
                "email": ["c4@example.jp", "c5@example.jp"],
                "name": ["高橋 四郎", "田中 五月"],
                "registered_at": [datetime(2026, 1, 5, 16)] * 2,
                "updated_at": [datetime(2026, 1, 5, 18), datetime(2026, 1, 5, 16, 30)],
                "email_opt_in": [True, True],
                "line_opt_in": [False, False],
                "dm_opt_in": [False, False],
                "push_opt_in": [False, False],
                "time_zone": ["Asia/Tokyo"] * 2,
            }
        ),
    )
    c.create_table(
        RANK_CHANGES,
        pd.DataFrame(
            {
                "customer_id": ["c1", "c2", "c3"],
                "as_of": [date(2026, 1, 6), date(2026, 1, 6), date(2026, 1, 5)],
                "old_rank": ["bronze", "silver", "silver"],
                "new_rank": ["silver", "bronze", "gold"],
                "direction": ["up", "down", "up"],
            }
        ),
        overwrite=True,
    )
    c.create_table(
        "customer_scores",
        pd.DataFrame(
            {
                "customer_id": ["c1", "c3", "c2", "c3"],
                "model": ["next_purchase", "next_purchase", "churn_subscription"] * 1
                + ["churn_subscription"],
                "as_of": [date(2026, 1, 6)] * 4,
                "next_purchase_date": [date(2026, 1, 4), date(2026, 1, 4), None, None],
                "churn_probability": [None, None, 0.8, 0.6],
            }
        ),
        overwrite=True,
    )
    c.create_table(
        "segment_events",
        pd.DataFrame(
            {
                "segment_key": ["vip", "vip", "vip"],
                "customer_id": ["c3", "c1", "c2"],
                "as_of": [date(2026, 1, 6), date(2026, 1, 5), date(2026, 1, 6)],
                "event": ["entered", "entered", "exited"],
            }
        ),
        overwrite=True,
    )
    yield c
    ws.close()


def run(
    con: BaseBackend, trigger: dict[str, object], since: datetime = SINCE, until: datetime = UNTIL
) -> list[tuple[str, str]]:
    t: Trigger = TypeAdapter(Trigger).validate_python(trigger)
    return [(f.customer_id, f.occurrence) for f in fire(con, t, since, until)]


CASES = [
    ({"type": "cart_abandoned", "hours": 1}, [("c2", "cart:2026-01-05T01:00:00")]),
    ({"type": "browse_abandoned", "hours": 2}, [("c1", "view:2026-01-05T02:00:00")]),
    ({"type": "ordered"}, [("c3", "order:o4")]),
    ({"type": "ordered", "nth": 3}, [("c3", "order:o4")]),
    ({"type": "ordered", "nth": 2}, []),
    ({"type": "ordered", "category": "茶"}, [("c3", "order:o4")]),
    ({"type": "ordered", "product_id": "tea", "nth": 3}, [("c3", "order:o4")]),
    ({"type": "ordered", "category": "米"}, []),
    # c3's orders of 2,000 yen each: 2,000 (June), 4,000 (July), 6,000 (o4, in the window)
    ({"type": "cumulative_spend", "amount": 6000}, [("c3", "spend:6000")]),
    ({"type": "cumulative_spend", "amount": 5000}, [("c3", "spend:5000")]),
    ({"type": "cumulative_spend", "amount": 4000}, []),  # reached in July
    ({"type": "cumulative_spend", "amount": 6001}, []),
    ({"type": "subscription_skipped"}, [("c2", "skip:e1")]),
    ({"type": "subscription_cycle_changed"}, [("c2", "cycle_change:e3")]),
    ({"type": "birthday"}, [("c1", "birthday:2026")]),
    ({"type": "birthday", "days_before": 1}, []),
    ({"type": "points_expiring", "days_before": 14}, [("c3", "points:2026-01-20")]),
    ({"type": "first_purchase_no_second", "days": 16}, [("c1", "first_no_second")]),
    ({"type": "dormant", "days": 16}, [("c1", "dormant:2025-12-21")]),
    ({"type": "next_purchase_overdue", "days_after": 2}, [("c1", "overdue:2026-01-04")]),
    ({"type": "segment_entered", "segment": "vip"}, [("c3", "entered:2026-01-06")]),
    ({"type": "segment_exited", "segment": "vip"}, [("c2", "exited:2026-01-06")]),
    ({"type": "churn_risk", "threshold": 0.7}, [("c2", "churn:2026-01-06")]),
    (
        {"type": "churn_risk", "threshold": 0.5},
        [("c2", "churn:2026-01-06"), ("c3", "churn:2026-01-06")],
    ),
    (
        {"type": "broadcast", "at": "2026-01-05T12:00:00+09:00"},
        [(c, "broadcast:2026-01-05T03:00:00+00:00") for c in ("c1", "c2", "c3")],
    ),
    ({"type": "broadcast", "at": "2026-01-06T12:00:00+09:00"}, []),
    ({"type": "registration_anniversary"}, []),
    ({"type": "new_product"}, [("c3", "new:yuzu")]),  # c3 buys tea most
    (
        {"type": "new_product", "scope": "any"},
        [(c, "new:2026-01-06") for c in ("c1", "c2", "c3")],
    ),
    (
        {"type": "restocked"},
        [(c, "restock:tea:2026-01-05T06:00:00") for c in ("c1", "c2", "c3")],
    ),
    (
        {"type": "restocked", "lookback_days": 365},
        [
            ("c1", "restock:tea:2026-01-05T06:00:00"),
            ("c2", "restock:tea:2026-01-05T06:00:00"),
            ("c3", "restock:rice:2026-01-05T10:00:00"),
            ("c3", "restock:tea:2026-01-05T06:00:00"),
        ],
    ),
    (
        {"type": "restocked", "lookback_days": 30},
        [(c, "restock:tea:2026-01-05T06:00:00") for c in ("c2", "c3")],
    ),
    ({"type": "rank_up"}, [("c1", "rank_up:silver:2026-01-06")]),
    ({"type": "rank_up", "to": ["silver", "gold"]}, [("c1", "rank_up:silver:2026-01-06")]),
    ({"type": "rank_up", "to": ["gold"]}, []),
    ({"type": "profile_updated"}, [("c4", "profile:2026-01-05T18:00:00")]),
    (
        {"type": "monthly", "day": 6},
        [(c, "monthly:2026-01-06") for c in ("c1", "c2", "c3")],
    ),
    ({"type": "monthly", "day": 5}, []),
    ({"type": "coupon_expiring", "days_before": 3}, [("c1", "coupon:g1")]),  # g2 was used
    ({"type": "coupon_expiring", "days_before": 2}, []),
    (
        {"type": "seasonal", "occasion": "custom", "month": 1, "day": 8, "days_before": 2},
        [(c, "season:01-08:2026") for c in ("c1", "c2", "c3")],
    ),
    ({"type": "seasonal", "occasion": "shogatsu"}, []),
    (
        {"type": "weekly", "weekday": 1},  # 2026-01-06 is a Tuesday
        [(c, "weekly:2026-01-06") for c in ("c1", "c2", "c3")],
    ),
    ({"type": "weekly", "weekday": 0}, []),
]


@pytest.mark.parametrize(("trigger", "expected"), CASES, ids=[str(c[0]) for c in CASES])
def test_trigger(
    con: BaseBackend, trigger: dict[str, object], expected: list[tuple[str, str]]
) -> None:
    assert run(con, trigger) == expected


def test_cart_abandonment_waits_its_hours(con: BaseBackend) -> None:
    early = datetime(2026, 1, 5, 1, 30, tzinfo=UTC)
    assert run(con, {"type": "cart_abandoned", "hours": 1}, SINCE, early) == []
    later = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)
    assert run(con, {"type": "cart_abandoned", "hours": 1}, early, later) == [
        ("c2", "cart:2026-01-05T01:00:00")
    ]


def test_registration_and_anniversary_windows(con: BaseBackend) -> None:
    reg = run(
        con,
        {"type": "registered"},
        datetime(2025, 12, 19, 12, tzinfo=UTC),
        datetime(2025, 12, 20, 12, tzinfo=UTC),
    )
    assert reg == [("c1", "registered")]
    # c2 registered 2024-01-05 10:00 JST: second anniversary on local day 2026-01-05
    day_before = (datetime(2026, 1, 4, 0, tzinfo=UTC), datetime(2026, 1, 5, 0, tzinfo=UTC))
    assert run(con, {"type": "registration_anniversary"}, *day_before) == [
        ("c2", "anniversary:2026")
    ]


def test_a_window_too_long_is_refused(con: BaseBackend) -> None:
    with pytest.raises(ValueError, match="longer than 400"):
        run(con, {"type": "birthday"}, datetime(2024, 1, 1, tzinfo=UTC), UNTIL)


def test_calendar_dates() -> None:
    from tokui.scenarios.calendar import occasion_date

    assert occasion_date("mothers_day", 2026) == date(2026, 5, 10)
    assert occasion_date("respect_for_aged_day", 2026) == date(2026, 9, 21)
    assert occasion_date("mothers_day", 2027) == date(2027, 5, 9)
    assert occasion_date("respect_for_aged_day", 2027) == date(2027, 9, 20)
    assert occasion_date("custom", 2026, 2, 29) == date(2026, 2, 28)


def test_new_year_seasonal_fires_in_the_previous_december(con: BaseBackend) -> None:
    since = datetime(2025, 12, 25, 0, tzinfo=UTC)  # local day 2025-12-26 only
    until = datetime(2025, 12, 26, 0, tzinfo=UTC)
    trigger = {"type": "seasonal", "occasion": "shogatsu", "days_before": 6}
    assert run(con, trigger, since, until) == [
        (c, "season:shogatsu:2026") for c in ("c1", "c2", "c3")
    ]


def timed(
    con: BaseBackend, trigger: dict[str, object], since: datetime = SINCE, until: datetime = UNTIL
) -> list[tuple[str, str, datetime | None]]:
    t: Trigger = TypeAdapter(Trigger).validate_python(trigger)
    return [(f.customer_id, f.occurrence, f.at) for f in fire(con, t, since, until)]


def test_each_entry_says_when_it_fired(con: BaseBackend) -> None:
    # the cart add at 01:00 UTC plus the trigger's hour
    assert timed(con, {"type": "cart_abandoned", "hours": 1}) == [
        ("c2", "cart:2026-01-05T01:00:00", datetime(2026, 1, 5, 2, tzinfo=UTC))
    ]
    # date triggers: the start of the shop-local day, 2026-01-06 00:00 JST
    midnight = datetime(2026, 1, 5, 15, tzinfo=UTC)
    assert timed(con, {"type": "birthday"}) == [("c1", "birthday:2026", midnight)]
    assert timed(con, {"type": "rank_up"}) == [("c1", "rank_up:silver:2026-01-06", midnight)]
    back = datetime(2026, 1, 5, 6, tzinfo=UTC)
    assert timed(con, {"type": "restocked", "lookback_days": 30}) == [
        (c, "restock:tea:2026-01-05T06:00:00", back) for c in ("c2", "c3")
    ]
    assert timed(con, {"type": "ordered"}) == [
        ("c3", "order:o4", datetime(2026, 1, 5, 1, tzinfo=UTC))
    ]
    # the identity of an entry is customer and occurrence, not the time
    assert Fired("c1", "x", midnight) == Fired("c1", "x")


WINDOW_CASES = [
    {"type": "cart_abandoned", "hours": 1},
    {"type": "browse_abandoned", "hours": 2},
    {"type": "ordered"},
    {"type": "birthday"},
    {"type": "points_expiring", "days_before": 14},
    {"type": "restocked", "lookback_days": 365},
    {"type": "profile_updated"},
    {"type": "cumulative_spend", "amount": 4000},
    {"type": "weekly", "weekday": 1},
]


@pytest.mark.parametrize("trigger", WINDOW_CASES, ids=[str(c["type"]) for c in WINDOW_CASES])
def test_one_long_window_gives_what_short_windows_give(
    con: BaseBackend, trigger: dict[str, object]
) -> None:
    """The dry run evaluates 90 days at once, the engine a minute at a time: the same
    entries, at the same moments (here: 2025-06-01 to 2026-01-07 whole, and cut at
    2025-12-31 and every 8 hours after it, around the events)."""
    since, until = datetime(2025, 6, 1, tzinfo=UTC), datetime(2026, 1, 7, tzinfo=UTC)
    whole = timed(con, trigger, since, until)
    assert whole  # the case is not empty
    pieces: list[tuple[str, str, datetime | None]] = []
    edges = [since, datetime(2025, 12, 31, tzinfo=UTC)]
    edges += [edges[-1] + timedelta(hours=h) for h in range(8, 7 * 24 + 1, 8)]
    for a, b in itertools.pairwise(edges):
        pieces += timed(con, trigger, a, b)
    assert sorted(pieces, key=lambda x: (x[0], x[1])) == whole


@pytest.fixture
def ranked(tmp_path: Path) -> Iterator[BaseBackend]:
    """The shop with its features refreshed three times (default rank rules):
    2025-12-20: c1 regular (no order yet), c3 silver (June and July orders), c2 regular;
    2026-01-05: c1 bronze (ordered 2025-12-21): up; c3 silver (three orders);
    2026-07-07: c3 bronze (only o4 in the last 365 days): down; c1 still bronze."""
    ws = build(tmp_path / "ws")
    con = ws.warehouse
    con.drop_table("customer_features")
    for day in (date(2025, 12, 20), date(2026, 1, 5), date(2026, 1, 5), date(2026, 7, 7)):
        materialise_features(con, day)
    yield con
    ws.close()


def test_refreshes_record_rank_changes(ranked: BaseBackend) -> None:
    rows = ranked.table(RANK_CHANGES).order_by(["as_of", "customer_id"]).to_pyarrow()
    assert [tuple(r.values()) for r in rows.to_pylist()] == [
        ("c1", date(2026, 1, 5), "regular", "bronze", "up"),
        ("c3", date(2026, 7, 7), "silver", "bronze", "down"),
    ]
    assert saved_rules(ranked) == load_rank_rules()
    assert RANK_RULES in ranked.list_tables()
    day = (datetime(2026, 1, 4, 3, tzinfo=UTC), datetime(2026, 1, 5, 3, tzinfo=UTC))
    assert run(ranked, {"type": "rank_up"}, *day) == [("c1", "rank_up:bronze:2026-01-05")]
    assert run(ranked, {"type": "rank_up", "to": ["silver"]}, *day) == []


def test_rank_at_risk_projects_the_rank_without_another_order(tmp_path: Path) -> None:
    """As of 2026-06-01 c3 is silver on o3 (2025-07-06) and o4; 40 days on, o3 has left
    the 365 days and c3 would be bronze. 30 days on o3 still counts. c1 stays bronze."""
    ws = build(tmp_path / "ws")
    con = ws.warehouse
    try:
        materialise_features(con, date(2026, 6, 1))
        first = (datetime(2026, 5, 31, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC))
        trigger = {"type": "rank_at_risk", "days_ahead": 40, "day_of_month": 1}
        assert run(con, trigger, *first) == [("c3", "rank_keep:silver:2026-06-01")]
        trigger = {"type": "rank_at_risk", "days_ahead": 30, "day_of_month": 1}
        assert run(con, trigger, *first) == []
        trigger = {"type": "rank_at_risk", "days_ahead": 40, "day_of_month": 2}
        assert run(con, trigger, *first) == []
    finally:
        ws.close()


def test_rank_at_risk_reads_only_what_the_rank_rules_use(tmp_path: Path) -> None:
    """Web events and point transactions are read as empty, and the main category and
    product left out, when no rule looks at what comes of them (the shipped rules), and
    the projected ranks are the same."""
    ws = build(tmp_path / "ws")
    con = ws.warehouse
    try:
        later = date(2026, 7, 11)
        shipped = load_rank_rules()
        slim, main = _for_rules(con, shipped, later)
        assert isinstance(slim, _WithEmpty)
        assert (slim._empty, main) == ({"web_events", "point_transactions"}, False)

        def ranks(source: Any, main: bool) -> list[tuple[str, str]]:
            f = customer_features_expr(source, later, main=main)
            r = f.select("customer_id", rank=rank_expr(Context(con, f, later), shipped))
            return [tuple(x.values()) for x in r.order_by("customer_id").to_pyarrow().to_pylist()]

        expected = [("c1", "bronze"), ("c2", "regular"), ("c3", "bronze")]
        assert ranks(slim, main) == ranks(con, True) == expected
        lean = customer_features_expr(con, later, main=False)
        assert lean.schema() == customer_features_expr(con, later).schema()
        full = customer_features_expr(con, later)

        def main_of(f: Any) -> tuple[Any, ...]:
            row = f.filter(f.customer_id == "c1").to_pyarrow().to_pylist()[0]
            return (row["main_category"], row["main_product"], row["persona"])

        assert main_of(lean) == (None, None, None)
        assert None not in main_of(full)
        web_rule = shipped.model_copy(deep=True)
        web_rule.ranks[0].condition = Compare(field="events_30d", op="ge", value=3)
        assert _for_rules(con, web_rule, later)[0]._empty == {"point_transactions"}
        persona_rule = shipped.model_copy(deep=True)
        persona_rule.ranks[0].condition = Compare(field="persona", op="eq", value="gift_giver")
        assert _for_rules(con, persona_rule, later)[1] is True
        viewed = shipped.model_copy(deep=True)
        viewed.ranks[0].condition = ViewedNotBought(category="米", days=30)
        assert _for_rules(con, viewed, later) == (con, True)
    finally:
        ws.close()

"""Each trigger type against the hand-made shop (tests/scenarios/shop.py), with a few
extra rows added here; expected customers and occurrences worked out by hand."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pandas as pd
import pytest
from ibis.backends import BaseBackend
from pydantic import TypeAdapter

from tests.conftest import fresh_pg_url
from tests.scenarios.shop import build
from tokui.scenarios.triggers import fire
from tokui.scenarios.triggers_def import Trigger
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
                "event_id": ["w3", "w4", "w5"],
                "occurred_at": [
                    datetime(2026, 1, 5, 2),
                    datetime(2026, 1, 4, 23, 30),
                    datetime(2026, 1, 5, 0),
                ],
                "event_type": ["product_view", "product_view", "cart_add"],
                "customer_id": ["c1", "c3", "c3"],
                "product_id": ["rice", "tea", "tea"],
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

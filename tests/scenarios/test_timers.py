"""Event timers: a cart add posted to the events API sets the abandonment timer (a
pending enrollment) without waiting for a tick; the tick confirms it when it comes due,
or deletes it when an order followed; the tick's own trigger never enrolls the same cart
a second time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.scenarios.test_engine import install, journal, outbox
from tokui.clock import FixedClock, utc_naive
from tokui.messaging.service import Messaging
from tokui.scenarios.engine import Engine
from tokui.scenarios.timers import SeenEvent, set_timers
from tokui.state.api_sources import SourceKind, create_source
from tokui.state.db import session_scope
from tokui.state.scenarios import Enrollment
from tokui.warehouse import bulk_load
from tokui.web.app import create_app
from tokui.workspace import Workspace

Rows = list[tuple[str, str, str, str | None, datetime]]


def rows(ws: Workspace) -> Rows:
    with session_scope(ws.sessions) as db:
        found = db.execute(
            select(
                Enrollment.customer_id,
                Enrollment.occurrence,
                Enrollment.status,
                Enrollment.step_id,
                Enrollment.due_at,
            ).order_by(Enrollment.id)
        ).all()
    return [(a, b, c, d, e) for a, b, c, d, e in found]


@pytest.fixture
def client(sws: Workspace, clock: FixedClock) -> Iterator[tuple[TestClient, str]]:
    with session_scope(sws.sessions) as db:
        _, key = create_source(db, "cart", SourceKind.secret, utc_naive(clock.now()))
    with TestClient(create_app(sws, clock), base_url="http://testserver") as c:
        yield c, key


def test_a_posted_cart_add_sets_the_timer_without_a_tick(
    sws: Workspace, clock: FixedClock, client: tuple[TestClient, str]
) -> None:
    c, key = client
    install(sws, clock)  # cart abandonment after 1 hour, enabled at 03:00 UTC
    event = {
        "event_id": "e-1",
        "occurred_at": "2026-01-05T12:10:00+09:00",  # 03:10 UTC
        "event_type": "cart_add",
        "customer_id": "c1",
        "product_id": "rice",
    }
    r = c.post(
        "/api/v1/events", json={"events": [event]}, headers={"authorization": f"Bearer {key}"}
    )
    assert r.status_code == 200, r.text
    # No tick has run: the hook wrote the pending enrollment, due one hour after the add.
    due = datetime(2026, 1, 5, 4, 10)
    timer = ("c1", "cart:2026-01-05T03:10:00", "pending", "mail", due)
    assert rows(sws) == [timer]
    # The same event again (a retried request) sets nothing new.
    again = c.post(
        "/api/v1/events", json={"events": [event]}, headers={"authorization": f"Bearer {key}"}
    )
    assert again.json()["duplicates"] == 1
    assert rows(sws) == [timer]
    engine = Engine(Messaging(sws, clock), clock)
    clock.set(datetime(2026, 1, 5, 4, 9, tzinfo=clock.now().tzinfo))
    assert engine.tick().advanced == 0  # not due yet
    clock.set(datetime(2026, 1, 5, 4, 11, tzinfo=clock.now().tzinfo))
    stats = engine.tick()
    # The tick's trigger fires for the same cart; the timer's row already holds it.
    assert (stats.enrolled, stats.queued, stats.dropped) == (1, 1, 0)
    assert [r[:3] for r in rows(sws)] == [("c1", "cart:2026-01-05T03:10:00", "completed")]
    assert outbox(sws) == [("sc:cart:v1:mail:cart:2026-01-05T03:10:00:c1", "email", "c1")]


def test_a_timer_whose_cart_was_ordered_is_deleted(sws: Workspace, clock: FixedClock) -> None:
    clock.set(clock.now().replace(hour=0, minute=30))
    install(sws, clock, trigger={"type": "cart_abandoned", "hours": 3})
    # c3's cart add at 00:00 (before the scenario was enabled, but its delay ends after)
    # was followed by an order at 01:00 (tests/scenarios/shop.py); c2's was not.
    with session_scope(sws.sessions) as db:
        made = set_timers(
            db,
            [
                SeenEvent("cart_add", "c3", datetime(2026, 1, 5, 0, 0)),
                SeenEvent("cart_add", "c2", datetime(2026, 1, 5, 1, 0)),
                SeenEvent("page_view", "c1", datetime(2026, 1, 5, 1, 0)),
            ],
            clock.now(),
        )
    assert made == 2
    assert [r[:3] for r in rows(sws)] == [
        ("c3", "cart:2026-01-05T00:00:00", "pending"),
        ("c2", "cart:2026-01-05T01:00:00", "pending"),
    ]
    engine = Engine(Messaging(sws, clock), clock)
    clock.set(clock.now().replace(hour=3, minute=30))
    stats = engine.tick()
    assert (stats.enrolled, stats.dropped) == (0, 1)
    assert [r[:3] for r in rows(sws)] == [("c2", "cart:2026-01-05T01:00:00", "pending")]
    clock.set(clock.now().replace(hour=4, minute=5))
    stats = engine.tick()
    assert (stats.enrolled, stats.dropped, stats.skipped) == (1, 0, 1)  # c2: no e-mail consent
    assert [r[:3] for r in rows(sws)] == [("c2", "cart:2026-01-05T01:00:00", "completed")]
    assert journal(sws, "c2") == [("mail", "skipped", "email: no consent to email")]


def test_a_timer_follows_the_entry_rules_when_it_comes_due(
    sws: Workspace, clock: FixedClock
) -> None:
    # Re-entry "never": c2 entered once (cart at 01:00); a second cart add the same day
    # sets a timer, which the rules turn away when it comes due.
    clock.set(clock.now().replace(hour=0, minute=30))
    install(sws, clock)
    engine = Engine(Messaging(sws, clock), clock)
    clock.set(clock.now().replace(hour=2, minute=5))
    assert engine.tick().enrolled == 1
    with session_scope(sws.sessions) as db:
        assert set_timers(db, [SeenEvent("cart_add", "c2", datetime(2026, 1, 5, 2))], clock.now())
    bulk_load(
        sws.warehouse,
        "web_events",
        pd.DataFrame(
            {
                "event_id": ["w3"],
                "occurred_at": [datetime(2026, 1, 5, 2)],
                "event_type": ["cart_add"],
                "customer_id": ["c2"],
                "product_id": ["tea"],
            }
        ),
    )
    clock.set(clock.now().replace(hour=3, minute=5))
    stats = engine.tick()
    assert (stats.enrolled, stats.dropped) == (0, 1)
    assert [r[:3] for r in rows(sws)] == [("c2", "cart:2026-01-05T01:00:00", "completed")]


def test_timers_are_not_set_for_delays_the_tick_has_passed(
    sws: Workspace, clock: FixedClock
) -> None:
    install(sws, clock)  # enabled (triggers checked) at 03:00 UTC, delay 1 hour
    old = timedelta(hours=2, minutes=1)
    with session_scope(sws.sessions) as db:
        made = set_timers(
            db,
            [
                SeenEvent("cart_add", "c1", utc_naive(clock.now() - old)),  # due 01:59
                SeenEvent("product_view", "c1", utc_naive(clock.now())),  # no browse scenario
            ],
            clock.now(),
        )
    assert made == 0
    assert rows(sws) == []

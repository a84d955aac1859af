"""What the engine records and respects for measurement, on the scenario tests' shop
(tests/scenarios/shop.py: c1 and c3 have e-mail consent, c2 has not): the treated side
of a holdout, the global control group, a promoted winner, best-hour sends."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.measure.shop import AS_OF, T0, load_state, load_warehouse
from tests.scenarios.shop import NOW, TOML, build, scenario
from tokui.clock import FixedClock, utc_naive
from tokui.messaging.service import Messaging
from tokui.scenarios import store
from tokui.scenarios.control import in_global_control
from tokui.scenarios.definition import parse_definition
from tokui.scenarios.engine import Engine, bucket
from tokui.state.db import make_engine, migrate, session_scope
from tokui.state.messages import MessageEventRecord, OutboxMessage
from tokui.state.scenarios import Enrollment, JourneyEntry, Scenario
from tokui.workspace import Workspace, init_workspace

BROADCAST = {"type": "broadcast", "at": "2026-01-05T13:00:00+09:00"}
SEND = {"id": "mail", "type": "send", "channel": "email", "template": "sc-mail"}


@pytest.fixture
def ws(state_url: str, tmp_path: Path) -> Iterator[Workspace]:
    url = None if state_url.startswith("sqlite") else state_url
    w = build(tmp_path / "ws", url)
    yield w
    w.close()


def install(ws: Workspace, clock: FixedClock, **overrides: Any) -> None:
    with session_scope(ws.sessions) as db:
        store.save(db, parse_definition(scenario(**overrides)), utc_naive(clock.now()))
        store.set_status(db, overrides["key"], "enabled", utc_naive(clock.now()))


def journal(ws: Workspace) -> dict[str, list[tuple[str, str, str]]]:
    with session_scope(ws.sessions) as db:
        rows = db.execute(
            select(
                Enrollment.customer_id,
                JourneyEntry.step_id,
                JourneyEntry.outcome,
                JourneyEntry.detail,
            )
            .join(Enrollment, Enrollment.id == JourneyEntry.enrollment_id)
            .order_by(JourneyEntry.id)
        ).all()
    out: dict[str, list[tuple[str, str, str]]] = {}
    for cid, step, outcome, detail in rows:
        out.setdefault(cid, []).append((step, outcome, detail))
    return out


def sent_to(ws: Workspace) -> list[str]:
    with session_scope(ws.sessions) as db:
        return sorted(str(c) for c in db.scalars(select(OutboxMessage.customer_id)))


def test_holdout_records_both_sides(ws: Workspace) -> None:
    clock = FixedClock(NOW)
    steps = [{"id": "hold", "type": "holdout", "percent": 30}, SEND]
    install(ws, clock, key="ab2", trigger=BROADCAST, steps=steps)
    clock.advance(timedelta(hours=1, minutes=5))
    Engine(Messaging(ws, clock), clock).tick()
    j = journal(ws)
    # Buckets over "holdout:hold:ab2:<id>" (as in the scenario tests): c1 0.237 < 0.30
    # is held out; c2 (0.803) and c3 (0.647) go on, stamped `treated` at the same moment.
    assert j["c1"] == [("hold", "holdout", "")]
    assert j["c2"][0] == ("hold", "treated", "")
    assert j["c3"][:2] == [("hold", "treated", ""), ("mail", "queued", "email")]
    assert sent_to(ws) == ["c3"]


def test_global_control_group_gets_no_scenario(ws: Workspace) -> None:
    # 30 %: c3 (control point 25.6) is in the group, c1 (55.7) and c2 (98.1) are not.
    assert [in_global_control(c, 30) for c in ("c1", "c2", "c3")] == [False, False, True]
    ws.settings.global_control_percent = 30
    clock = FixedClock(NOW)
    install(ws, clock, key="gc", trigger=BROADCAST, steps=[SEND])
    clock.advance(timedelta(hours=1, minutes=5))
    Engine(Messaging(ws, clock), clock).tick()
    assert sent_to(ws) == ["c1"]  # c2 has no e-mail consent
    assert journal(ws)["c3"] == [("mail", "global_control", "")]
    with session_scope(ws.sessions) as db:
        status = {
            c: (s, n)
            for c, s, n in db.execute(
                select(Enrollment.customer_id, Enrollment.status, Enrollment.note)
            )
        }
    assert status["c3"] == ("holdout", "global control group")
    assert status["c1"][0] == "completed"


def test_a_promoted_winner_takes_everyone(ws: Workspace) -> None:
    clock = FixedClock(NOW)
    steps = [
        {
            "id": "ab",
            "type": "split",
            "arms": [{"name": "a", "weight": 1, "next": "end"}, {"name": "b", "weight": 1}],
            "winner": "b",
        },
        {"id": "tag", "type": "tag", "add": "arm-b"},
        {"id": "end", "type": "end"},
    ]
    install(ws, clock, key="ab2", trigger=BROADCAST, steps=steps)
    clock.advance(timedelta(hours=1, minutes=5))
    Engine(Messaging(ws, clock), clock).tick()
    # Without the winner c2 (bucket 0.418) would be in arm a (see the scenario tests).
    with session_scope(ws.sessions) as db:
        arms = {c: a for c, a in db.execute(select(Enrollment.customer_id, Enrollment.arm))}
    assert arms == {"c1": "b", "c2": "b", "c3": "b"}
    with pytest.raises(ValueError, match="not one of the arms"):
        parse_definition(scenario(key="x", steps=[{**steps[0], "winner": "c"}, *steps[1:]]))


def test_send_waits_for_the_best_hour(ws: Workspace) -> None:
    # c1 opened three messages at 19:xx JST; c3's only signal is an order at 10:00 JST
    # (o4). Shop curve: 19 h 3/5, 10 h 2/5 (c1's order o1 at 10:00 JST; older orders are
    # beyond the 180 days). c1: 19 h scores 3 + 3·0.6 = 4.8 against 1 + 3·0.4 = 2.2 at
    # 10 h → 19:00. c3: 10 h scores 2.2 against the fallback's 1.8 → 10:00. c2 has no
    # history → the shop's best hour, 19:00.
    clock = FixedClock(NOW)
    with session_scope(ws.sessions) as db:
        for day in (1, 2, 3):
            db.add(
                MessageEventRecord(
                    customer_id="c1",
                    channel="email",
                    event="opened",
                    at=datetime(2025, 12, day, 10, 30),
                )
            )
    send = {**SEND, "at_best_hour": True}
    install(ws, clock, key="best", trigger=BROADCAST, steps=[send])
    engine = Engine(Messaging(ws, clock), clock)
    clock.advance(timedelta(hours=1, minutes=5))  # 13:05 JST
    engine.tick()
    assert sent_to(ws) == []
    j = journal(ws)
    assert j["c1"] == [("mail", "held_best_hour", "19:00")]
    assert j["c3"] == [("mail", "held_best_hour", "10:00")]
    with session_scope(ws.sessions) as db:
        due = {c: d for c, d in db.execute(select(Enrollment.customer_id, Enrollment.due_at))}
    assert due["c1"] == datetime(2026, 1, 5, 10) and due["c3"] == datetime(2026, 1, 6, 1)
    clock.set(datetime(2026, 1, 5, 9, 59, tzinfo=UTC))  # 18:59 JST
    engine.tick()
    assert sent_to(ws) == []
    clock.set(datetime(2026, 1, 5, 10, 0, tzinfo=UTC))  # 19:00 JST
    engine.tick()
    assert sent_to(ws) == ["c1"]
    assert journal(ws)["c2"][-1] == ("mail", "skipped", "email: no consent to email")
    clock.set(datetime(2026, 1, 6, 1, 20, tzinfo=UTC))  # 10:20 JST the next day
    engine.tick()
    assert sent_to(ws) == ["c1", "c3"]


def _history(ws: Workspace, customer: str, channel: str, events: list[str], times: int) -> None:
    """`times` past marketing messages to the customer on the channel, each with `events`
    after its send (outbox rows too: the event log refers to them)."""
    at = datetime(2025, 12, 1, 3)
    with session_scope(ws.sessions) as db:
        for i in range(times):
            o = OutboxMessage(
                idempotency_key=f"past:{customer}:{channel}:{i}",
                channel=channel,
                customer_id=customer,
                recipient=customer,
                is_marketing=True,
                payload="{}",
                status="sent",
                attempts=1,
                next_attempt_at=at,
                created_at=at,
                updated_at=at,
                sent_at=at,
            )
            db.add(o)
            db.flush()
            for event in ["sent", *events]:
                db.add(
                    MessageEventRecord(
                        outbox_id=o.id, customer_id=customer, channel=channel, event=event, at=at
                    )
                )


def test_send_uses_the_channel_the_customer_responds_to(ws: Workspace) -> None:
    # c1 never opened two emails and opened both LINE messages: shop rates email 0/2,
    # LINE 2/2, so c1's posterior rates are (0 + 5·0)/(2 + 5) = 0 and (2 + 5·1)/(2 + 5) = 1:
    # LINE first. c3 has no history: email first, as written. c2 has no email consent:
    # LINE as the fallback, without a preference entry.
    _history(ws, "c1", "email", [], 2)
    _history(ws, "c1", "line", ["opened"], 2)
    clock = FixedClock(NOW)
    send = {
        **SEND,
        "fallback_channel": "line",
        "fallback_template": "sc-line",
        "channel_preference": True,
    }
    install(ws, clock, key="pref", trigger=BROADCAST, steps=[send])
    clock.advance(timedelta(hours=1, minutes=5))
    Engine(Messaging(ws, clock), clock).tick()
    j = journal(ws)
    assert j["c1"] == [("mail", "preferred_channel", "line"), ("mail", "queued", "line")]
    assert j["c2"] == [("mail", "queued", "line")]
    assert j["c3"] == [("mail", "queued", "email")]
    with pytest.raises(ValueError, match="channel_preference needs fallback_channel"):
        parse_definition(scenario(key="x", steps=[{**SEND, "channel_preference": True}]))


def test_the_tick_promotes_a_significant_winner(state_url: str, tmp_path: Path) -> None:
    """The measurement shop (tests/measure/shop.py) in a workspace: split `ab` asks for
    promotion at 20 per arm and alpha 0.05; arm b converts 8 of 20 against 2 of 20
    (p = 0.028) once the windows (7 days from T0) are over."""
    home = tmp_path / "ws"
    w = init_workspace(home, "admin@example.com", "admin-password-123")
    with (home / "tokui.toml").open("a", encoding="utf-8") as fh:
        fh.write(TOML)
    w.close()
    w = Workspace.open(home)
    try:
        if not state_url.startswith("sqlite"):
            w.settings.state_url = state_url
            migrate(make_engine(state_url))
        load_warehouse(w.warehouse)
        load_state(w.sessions)
        # A customer enrolled on version 1 and still before the split, whom the weights
        # would send to arm a; the broadcast is over, so the tick enrolls nobody new.
        late = next(
            c for c in ("t01", "t02", "t03", "h01", "h02") if bucket("split:split", "ab", c) < 0.5
        )
        with session_scope(w.sessions) as db:
            for s in db.scalars(select(Scenario)):
                s.trigger_checked_at = T0 + timedelta(hours=1)
                s.status = "enabled" if s.key == "ab" else "paused"
            scenario = store.get(db, "ab")
            version = store.version_row(db, scenario)
            db.add(
                Enrollment(
                    scenario_id=scenario.id,
                    version_id=version.id,
                    customer_id=late,
                    occurrence="later",
                    status="active",
                    step_id="split",
                    due_at=AS_OF + timedelta(days=1),
                    entered_at=T0 + timedelta(days=1),
                    updated_at=T0 + timedelta(days=1),
                )
            )
        clock = FixedClock((T0 + timedelta(days=1)).replace(tzinfo=UTC))
        engine = Engine(Messaging(w, clock), clock)
        assert engine.tick().promoted == []  # no window has ended yet
        clock.set((AS_OF + timedelta(days=1)).replace(tzinfo=UTC))
        stats = engine.tick()
        assert stats.promoted == [("ab", "split", "b", 2)]
        with session_scope(w.sessions) as db:
            current = store.load_version(store.version_row(db, store.get(db, "ab")))
            arm = db.scalar(select(Enrollment.arm).where(Enrollment.occurrence == "later"))
        assert current.steps[0].winner == "b"  # type: ignore[union-attr]
        assert arm == "b"  # the older version's enrollment follows the promoted winner
        assert engine.tick().promoted == []  # promoted once
    finally:
        w.close()

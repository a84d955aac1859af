"""The engine over simulated hours and days on the hand-made shop (tests/scenarios/shop.py)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import select

from tests.scenarios.shop import add_orders, scenario
from tokui.clock import FixedClock, utc_naive
from tokui.messaging.consent import record_consent
from tokui.messaging.service import Messaging
from tokui.scenarios import store
from tokui.scenarios.definition import parse_definition
from tokui.scenarios.engine import Engine
from tokui.state.db import session_scope
from tokui.state.messages import OutboxMessage
from tokui.state.scenarios import Enrollment, Grant, JourneyEntry, Scenario
from tokui.warehouse import bulk_load
from tokui.workspace import Workspace


def install(ws: Workspace, clock: FixedClock, **overrides: Any) -> None:
    with session_scope(ws.sessions) as db:
        store.save(db, parse_definition(scenario(**overrides)), utc_naive(clock.now()))
        store.set_status(db, overrides.get("key", "cart"), "enabled", utc_naive(clock.now()))


def outbox(ws: Workspace) -> list[tuple[str, str, str]]:
    with session_scope(ws.sessions) as db:
        rows = db.execute(
            select(
                OutboxMessage.idempotency_key, OutboxMessage.channel, OutboxMessage.customer_id
            ).order_by(OutboxMessage.id)
        ).all()
    return [(k, ch, str(c)) for k, ch, c in rows]


def enrollments(ws: Workspace) -> list[tuple[str, str, str, str | None]]:
    with session_scope(ws.sessions) as db:
        rows = db.execute(
            select(
                Enrollment.customer_id, Enrollment.occurrence, Enrollment.status, Enrollment.step_id
            ).order_by(Enrollment.customer_id, Enrollment.id)
        ).all()
    return [(a, b, c, d) for a, b, c, d in rows]


def test_cart_abandonment_sends_once_and_replay_sends_nothing(
    sws: Workspace, clock: FixedClock
) -> None:
    # Enabled at 00:30 UTC: c2's cart (01:00) abandoned for 1 h fires at 02:00;
    # c3's cart (00:00) was followed by an order at 01:00 and is outside the window.
    clock.set(clock.now().replace(hour=0, minute=30))
    install(sws, clock)
    engine = Engine(Messaging(sws, clock), clock)
    clock.set(clock.now().replace(hour=3))  # 12:00 JST
    stats = engine.tick()
    assert stats.enrolled == 1
    # c2 has no e-mail consent: nothing to send, recorded as skipped.
    assert enrollments(sws) == [("c2", "cart:2026-01-05T01:00:00", "completed", None)]
    assert outbox(sws) == []
    assert stats.skipped == 1


def test_fallback_to_line_and_idempotent_replay(sws: Workspace, clock: FixedClock) -> None:
    clock.set(clock.now().replace(hour=0, minute=30))
    steps = [
        {
            "id": "mail",
            "type": "send",
            "channel": "email",
            "template": "sc-mail",
            "fallback_channel": "line",
            "fallback_template": "sc-line",
        }
    ]
    install(sws, clock, steps=steps)
    engine = Engine(Messaging(sws, clock), clock)
    clock.set(clock.now().replace(hour=3))
    engine.tick()
    key = "sc:cart:v1:mail:cart:2026-01-05T01:00:00:c2"
    assert outbox(sws) == [(key, "line", "c2")]
    # A replayed step (the enrollment put back as if the commit of the state was lost)
    # finds the key taken and queues nothing.
    with session_scope(sws.sessions) as db:
        e = db.scalars(select(Enrollment)).one()
        e.status, e.step_id, e.finished_at = "active", "mail", None
    engine.tick()
    assert outbox(sws) == [(key, "line", "c2")]


def test_quiet_hours_hold_then_send(sws: Workspace, clock: FixedClock) -> None:
    clock.set(clock.now().replace(hour=0, minute=30))
    install(sws, clock, trigger={"type": "registered"}, key="welcome")
    engine = Engine(Messaging(sws, clock), clock)
    # A registration at 13:00 UTC = 22:00 JST, inside 21:00-09:00.
    bulk_load(
        sws.warehouse,
        "customers",
        pd.DataFrame(
            {
                "customer_id": ["c4"],
                "email": ["c4@example.jp"],
                "name": ["新規"],
                "registered_at": [datetime(2026, 1, 5, 13)],
                "email_opt_in": [True],
                "line_opt_in": [False],
                "dm_opt_in": [False],
                "push_opt_in": [False],
                "time_zone": ["Asia/Tokyo"],
            }
        ),
    )
    clock.set(clock.now().replace(hour=13, minute=5))
    stats = engine.tick()
    assert (stats.enrolled, stats.held, outbox(sws)) == (1, 1, [])
    with session_scope(sws.sessions) as db:
        due = db.scalars(select(Enrollment.due_at)).one()
    assert due == utc_naive(clock.now().replace(day=6, hour=0, minute=0))  # 09:00 JST
    clock.advance(timedelta(hours=10))  # 08:05 JST: still held
    engine.tick()
    assert outbox(sws) == []
    clock.advance(timedelta(hours=1))
    engine.tick()
    assert outbox(sws) == [("sc:welcome:v1:mail:registered:c4", "email", "c4")]


def journal(ws: Workspace, customer: str) -> list[tuple[str, str, str]]:
    with session_scope(ws.sessions) as db:
        rows = db.execute(
            select(JourneyEntry.step_id, JourneyEntry.outcome, JourneyEntry.detail)
            .join(Enrollment, Enrollment.id == JourneyEntry.enrollment_id)
            .where(Enrollment.customer_id == customer)
            .order_by(JourneyEntry.id)
        ).all()
    return [(a, b, c) for a, b, c in rows]


BROADCAST = {"type": "broadcast", "at": "2026-01-05T13:00:00+09:00"}


def test_every_step_type_over_simulated_days(sws: Workspace, clock: FixedClock) -> None:
    steps = [
        {"id": "w1", "type": "wait", "days": 1, "at_time": "10:00"},
        {
            "id": "repeat",
            "type": "condition",
            "condition": {"type": "compare", "field": "frequency", "op": "ge", "value": 2},
            "if_true": "points",
            "if_false": "coupon",
        },
        {"id": "points", "type": "grant_points", "points": 100, "next": "tag"},
        {"id": "coupon", "type": "issue_coupon", "coupon_id": "WELCOME", "expires_days": 30},
        {"id": "tag", "type": "tag", "add": "checked"},
        {"id": "call", "type": "call_center", "template": "sc-call"},
        {"id": "hook", "type": "webhook", "template": "sc-hook"},
        {"id": "done", "type": "end"},
        {"id": "never", "type": "send", "channel": "email", "template": "sc-mail"},
    ]
    install(sws, clock, key="journey", trigger=BROADCAST, steps=steps)
    engine = Engine(Messaging(sws, clock), clock)
    clock.advance(timedelta(hours=1, minutes=5))  # 13:05 JST: everyone enters
    assert engine.tick().enrolled == 3
    assert {s for _, _, s, _ in enrollments(sws)} == {"active"}
    clock.set(clock.now().replace(day=7, hour=0, minute=55))  # 09:55 JST on the 7th
    assert engine.tick().advanced == 0
    clock.advance(timedelta(minutes=5))
    engine.tick()
    assert [x[2:] for x in enrollments(sws)] == [("completed", None)] * 3
    assert journal(sws, "c1") == [
        ("repeat", "false", ""),
        ("coupon", "coupon", "WELCOME"),
        ("tag", "tag_add", "checked"),
        ("call", "queued", "call_center"),
        ("hook", "queued", "webhook"),
    ]
    assert journal(sws, "c3")[:2] == [("repeat", "true", ""), ("points", "points", "100")]
    with session_scope(sws.sessions) as db:
        grants = db.execute(
            select(
                Grant.customer_id, Grant.kind, Grant.points, Grant.code, Grant.expires_at
            ).order_by(Grant.customer_id, Grant.id)
        ).all()
    coupons = [g for g in grants if g[1] == "coupon"]
    assert [(g[0], g[4]) for g in coupons] == [
        ("c1", datetime(2026, 2, 6, 1)),
        ("c2", datetime(2026, 2, 6, 1)),
    ]
    codes = [g[3] for g in coupons]
    assert len(set(codes)) == 2 and all(c is not None and len(c) == 20 for c in codes)
    assert ("c3", "points", 100) in [g[:3] for g in grants]
    assert [(c, k) for c, k, *_ in grants].count(("c3", "tag_add")) == 1
    keys = [k for k, _, _ in outbox(sws)]
    assert "sc:journey:v1:call:broadcast:2026-01-05T04:00:00+00:00:c1" in keys
    assert [ch for _, ch, _ in outbox(sws)].count("webhook") == 3


def test_goal_exits_before_the_message(sws: Workspace, clock: FixedClock) -> None:
    steps = [
        {"id": "w", "type": "wait", "days": 2},
        {"id": "mail", "type": "send", "channel": "email", "template": "sc-mail"},
    ]
    install(sws, clock, key="goal", trigger=BROADCAST, steps=steps, goal={"within_days": 7})
    engine = Engine(Messaging(sws, clock), clock)
    clock.advance(timedelta(hours=2))
    engine.tick()
    add_orders(sws, [("o9", "c1", "2026-01-06 02:00", "rice")])
    clock.advance(timedelta(days=2))
    engine.tick()
    status = {c: s for c, _, s, _ in enrollments(sws)}
    assert status == {"c1": "converted", "c2": "completed", "c3": "completed"}
    assert [c for _, _, c in outbox(sws)] == ["c3"]  # c2 has no e-mail consent


def test_goal_of_a_category_ignores_other_orders(sws: Workspace, clock: FixedClock) -> None:
    steps = [{"id": "w", "type": "wait", "days": 2}, {"id": "e", "type": "end"}]
    goal = {"within_days": 7, "category": "茶"}
    install(sws, clock, key="goal", trigger=BROADCAST, steps=steps, goal=goal)
    engine = Engine(Messaging(sws, clock), clock)
    clock.advance(timedelta(hours=2))
    engine.tick()
    add_orders(
        sws, [("o9", "c1", "2026-01-06 02:00", "rice"), ("o10", "c2", "2026-01-06 02:00", "tea")]
    )
    clock.advance(timedelta(days=2))
    engine.tick()
    status = {c: s for c, _, s, _ in enrollments(sws)}
    assert status == {"c1": "completed", "c2": "converted", "c3": "completed"}


def test_consent_withdrawn_mid_journey(sws: Workspace, clock: FixedClock) -> None:
    steps = [
        {"id": "w", "type": "wait", "days": 1},
        {"id": "mail", "type": "send", "channel": "email", "template": "sc-mail"},
    ]
    install(sws, clock, key="consent", trigger=BROADCAST, steps=steps)
    engine = Engine(Messaging(sws, clock), clock)
    clock.advance(timedelta(hours=2))
    engine.tick()
    with session_scope(sws.sessions) as db:
        record_consent(
            db,
            customer_id="c1",
            channel="email",
            granted=False,
            method="one_click",
            at=utc_naive(clock.now()),
        )
    clock.advance(timedelta(days=1))
    engine.tick()
    assert [c for _, _, c in outbox(sws)] == ["c3"]
    assert journal(sws, "c1") == [("mail", "skipped", "email: no consent to email")]


def test_frequency_caps_hold_the_second_message(sws: Workspace, clock: FixedClock) -> None:
    one = [{"id": "m", "type": "send", "channel": "email", "template": "sc-mail"}]
    two = [{"id": "m", "type": "send", "channel": "email", "template": "sc-mail2"}]
    install(sws, clock, key="first", trigger=BROADCAST, steps=one)
    install(sws, clock, key="second", trigger=BROADCAST, steps=two)
    engine = Engine(Messaging(sws, clock), clock)
    clock.advance(timedelta(hours=2))  # 05:00 UTC, 14:00 JST
    engine.tick()
    assert sorted(k.split(":")[1] for k, _, c in outbox(sws) if c == "c1") == ["first"]
    with session_scope(sws.sessions) as db:
        held = db.execute(
            select(Enrollment.customer_id, Enrollment.due_at)
            .where(Enrollment.status == "active")
            .order_by(Enrollment.customer_id)
        ).all()
    # 24 h after the first message (05:00 UTC next day = 14:00 JST, outside quiet hours)
    assert [tuple(h) for h in held] == [
        ("c1", datetime(2026, 1, 6, 5)),
        ("c3", datetime(2026, 1, 6, 5)),
    ]
    clock.advance(timedelta(hours=23, minutes=59))
    engine.tick()
    assert len(outbox(sws)) == 2
    clock.advance(timedelta(minutes=1))
    engine.tick()
    assert len(outbox(sws)) == 4


def test_weekly_cap_counts_every_channel(sws: Workspace, clock: FixedClock) -> None:
    from tokui.scenarios.policy import Cap, SendPolicy

    policy = SendPolicy(caps={"*": (Cap(2, timedelta(days=7)),)})
    for key in ("a", "b", "c"):
        install(sws, clock, key=key, trigger=BROADCAST)
    engine = Engine(Messaging(sws, clock), clock, policy=policy)
    clock.advance(timedelta(hours=2))
    engine.tick()
    per = [c for _, _, c in outbox(sws)]
    assert per.count("c1") == 2 and per.count("c3") == 2
    clock.advance(timedelta(days=6, hours=23))
    engine.tick()
    assert len(outbox(sws)) == 4
    clock.advance(timedelta(hours=1))
    engine.tick()
    assert len(outbox(sws)) == 6


def test_reentry_rules(sws: Workspace, clock: FixedClock) -> None:
    steps = [{"id": "e", "type": "end"}]
    install(sws, clock, key="never", trigger={"type": "ordered"}, steps=steps)
    install(
        sws,
        clock,
        key="after",
        trigger={"type": "ordered"},
        steps=steps,
        entry={"reentry": "after_days", "reentry_days": 3},
    )
    install(
        sws,
        clock,
        key="always",
        trigger={"type": "ordered"},
        steps=steps,
        entry={"reentry": "always", "max_entries": 3},
    )
    engine = Engine(Messaging(sws, clock), clock)
    for day in range(6, 11):  # an order by c1 on each of five days
        add_orders(sws, [(f"r{day}", "c1", f"2026-01-{day:02d} 02:00", "rice")])
        clock.set(clock.now().replace(day=day, hour=3))
        engine.tick()
    with session_scope(sws.sessions) as db:
        rows = db.execute(
            select(Scenario.key, Enrollment.occurrence)
            .join(Scenario, Scenario.id == Enrollment.scenario_id)
            .order_by(Scenario.key, Enrollment.id)
        ).all()
    got: dict[str, list[str]] = {}
    for key, occ in rows:
        got.setdefault(key, []).append(occ)
    assert got == {
        "never": ["order:r6"],
        "after": ["order:r6", "order:r9"],
        "always": ["order:r6", "order:r7", "order:r8"],
    }


def test_edit_makes_a_version_and_enrolled_customers_finish_on_theirs(
    sws: Workspace, clock: FixedClock
) -> None:
    v1 = [
        {"id": "w", "type": "wait", "days": 1},
        {"id": "m", "type": "send", "channel": "email", "template": "sc-mail"},
    ]
    install(sws, clock, key="ver", trigger={"type": "ordered"}, steps=v1)
    engine = Engine(Messaging(sws, clock), clock)
    add_orders(sws, [("v1", "c1", "2026-01-05 03:30", "rice")])
    clock.advance(timedelta(hours=1))
    engine.tick()
    v2 = [
        {"id": "w", "type": "wait", "days": 1},
        {"id": "m", "type": "send", "channel": "email", "template": "sc-mail2"},
    ]
    with session_scope(sws.sessions) as db:
        saved = store.save(
            db,
            parse_definition(scenario(key="ver", trigger={"type": "ordered"}, steps=v2)),
            utc_naive(clock.now()),
        )
        assert (saved.changed, saved.version.version) == (True, 2)
        again = store.save(
            db,
            parse_definition(scenario(key="ver", trigger={"type": "ordered"}, steps=v2)),
            utc_naive(clock.now()),
        )
        assert (again.changed, again.version.version) == (False, 2)
    add_orders(sws, [("v2", "c3", "2026-01-05 04:30", "rice")])
    clock.advance(timedelta(hours=1))
    engine.tick()
    clock.advance(timedelta(days=1))
    engine.tick()
    assert sorted(k for k, _, _ in outbox(sws)) == [
        "sc:ver:v1:m:order:v1:c1",
        "sc:ver:v2:m:order:v2:c3",
    ]


def test_pause_holds_and_resume_continues(sws: Workspace, clock: FixedClock) -> None:
    steps = [
        {"id": "w", "type": "wait", "days": 1},
        {"id": "m", "type": "send", "channel": "email", "template": "sc-mail"},
    ]
    install(sws, clock, key="p", trigger=BROADCAST, steps=steps)
    engine = Engine(Messaging(sws, clock), clock)
    clock.advance(timedelta(hours=2))
    engine.tick()
    with session_scope(sws.sessions) as db:
        store.set_status(db, "p", "paused", utc_naive(clock.now()))
    clock.advance(timedelta(days=2))
    assert engine.tick().advanced == 0
    assert outbox(sws) == []
    with session_scope(sws.sessions) as db:
        store.set_status(db, "p", "enabled", utc_naive(clock.now()))
    engine.tick()
    assert sorted(c for _, _, c in outbox(sws)) == ["c1", "c3"]


def test_wait_until_an_order_or_the_timeout(sws: Workspace, clock: FixedClock) -> None:
    steps = [
        {
            "id": "wait",
            "type": "wait_until",
            "event": "order",
            "timeout_days": 3,
            "on_event": "thanks",
            "on_timeout": "nudge",
        },
        {"id": "nudge", "type": "send", "channel": "email", "template": "sc-mail", "next": "end"},
        {"id": "thanks", "type": "send", "channel": "email", "template": "sc-mail2"},
        {"id": "end", "type": "end"},
    ]
    install(sws, clock, key="wu", trigger=BROADCAST, steps=steps)
    engine = Engine(Messaging(sws, clock), clock)
    clock.advance(timedelta(hours=2))
    engine.tick()
    add_orders(sws, [("o9", "c3", "2026-01-06 02:00", "tea")])
    clock.advance(timedelta(days=1))  # 2026-01-06 05:00 UTC: c3 ordered
    engine.tick()
    assert outbox(sws) == [
        ("sc:wu:v1:thanks:broadcast:2026-01-05T04:00:00+00:00:c3", "email", "c3")
    ]
    clock.advance(timedelta(days=2))  # past the 3-day timeout
    engine.tick()
    assert [(k.split(":")[3], c) for k, _, c in outbox(sws)] == [("thanks", "c3"), ("nudge", "c1")]
    assert journal(sws, "c2") == [
        ("wait", "timeout", ""),
        ("nudge", "skipped", "email: no consent to email"),
    ]


def test_split_and_holdout_record_their_buckets(sws: Workspace, clock: FixedClock) -> None:
    steps = [
        {"id": "hold", "type": "holdout", "percent": 30},
        {
            "id": "ab",
            "type": "split",
            "arms": [{"name": "a", "weight": 1, "next": "end"}, {"name": "b", "weight": 1}],
        },
        {"id": "tag", "type": "tag", "add": "arm-b"},
        {"id": "end", "type": "end"},
    ]
    install(sws, clock, key="ab2", trigger=BROADCAST, steps=steps)
    Engine(Messaging(sws, clock), clock).tick()
    clock.advance(timedelta(hours=2))
    Engine(Messaging(sws, clock), clock).tick()
    # Buckets (tokui.features.hashing over "holdout:hold:ab2:<id>" and "split:ab:ab2:<id>"):
    # c1 0.237 < 0.30 held out; c2 0.418 < 0.5 arm a; c3 0.907 arm b.
    expected = {"c1": ("holdout", None), "c2": ("completed", "a"), "c3": ("completed", "b")}
    with session_scope(sws.sessions) as db:
        got = {
            c: (s, arm)
            for c, s, arm in db.execute(
                select(Enrollment.customer_id, Enrollment.status, Enrollment.arm)
            )
        }
        tags = set(db.scalars(select(Grant.customer_id).where(Grant.tag == "arm-b")))
    assert got == expected
    assert tags == {"c3"}


def test_entry_segment_and_suppression(sws: Workspace, clock: FixedClock) -> None:
    from tokui.privacy.suppression import add_suppression
    from tokui.segments import store as segment_store
    from tokui.segments.dsl import SegmentDefinition

    with session_scope(sws.sessions) as db:
        segment_store.save(
            db,
            SegmentDefinition.model_validate(
                {
                    "key": "email-ok",
                    "name_ja": "メール可",
                    "name_en": "Email ok",
                    "condition": {
                        "type": "compare",
                        "field": "email_opt_in",
                        "op": "eq",
                        "value": True,
                    },
                }
            ),
            utc_naive(clock.now()),
        )
    install(sws, clock, key="seg", trigger=BROADCAST, entry={"segment": "email-ok"})
    with session_scope(sws.sessions) as db:
        add_suppression(
            db,
            sws.settings.secret_key,
            utc_naive(clock.now()),
            reason="erasure",
            created_by=None,
            email="c3@example.jp",
        )
    clock.advance(timedelta(hours=2))
    Engine(Messaging(sws, clock), clock).tick()
    assert [c for c, *_ in enrollments(sws)] == ["c1", "c3"]  # c2 is not in the segment
    assert [c for _, _, c in outbox(sws)] == ["c1"]
    assert journal(sws, "c3") == [("mail", "skipped", "email: suppressed")]


def test_wait_until_the_birthday(sws: Workspace, clock: FixedClock) -> None:
    steps = [
        {"id": "bd", "type": "wait", "until_field": "birth_date", "at_time": "10:00"},
        {"id": "m", "type": "send", "channel": "email", "template": "sc-mail"},
        {"id": "untag", "type": "tag", "remove": "no-birthday"},
    ]
    install(sws, clock, key="bd", trigger=BROADCAST, steps=steps)
    engine = Engine(Messaging(sws, clock), clock)
    clock.advance(timedelta(hours=2))
    engine.tick()
    # c3 has no birth date: the wait is skipped and the message goes at once.
    assert [c for _, _, c in outbox(sws)] == ["c3"]
    with session_scope(sws.sessions) as db:
        due = dict(
            db.execute(
                select(Enrollment.customer_id, Enrollment.due_at).where(
                    Enrollment.status == "active"
                )
            ).all()
        )
    assert due == {"c1": datetime(2026, 1, 6, 1), "c2": datetime(2026, 3, 1, 1)}
    clock.set(datetime(2026, 1, 6, 1, tzinfo=clock.now().tzinfo))
    engine.tick()
    assert [c for _, _, c in outbox(sws)] == ["c3", "c1"]
    clock.set(datetime(2026, 3, 1, 1, tzinfo=clock.now().tzinfo))
    engine.tick()
    assert journal(sws, "c2") == [
        ("m", "skipped", "email: no consent to email"),
        ("untag", "tag_remove", "no-birthday"),
    ]
    assert [x[2] for x in enrollments(sws)] == ["completed"] * 3


def test_wait_until_a_segment_entry(sws: Workspace, clock: FixedClock) -> None:
    steps = [
        {
            "id": "vip",
            "type": "wait_until",
            "event": "segment_entry",
            "segment": "vip",
            "timeout_days": 5,
            "on_timeout": "end",
        },
        {"id": "m", "type": "send", "channel": "email", "template": "sc-mail2"},
        {"id": "end", "type": "end"},
    ]
    install(sws, clock, key="seg-wait", trigger=BROADCAST, steps=steps)
    engine = Engine(Messaging(sws, clock), clock)
    clock.advance(timedelta(hours=2))
    engine.tick()
    sws.warehouse.create_table(
        "segment_events",
        pd.DataFrame(
            {
                "segment_key": ["vip", "vip", "other"],
                "customer_id": ["c1", "c3", "c3"],
                # c3 entered "vip" before the wait began (as of the 4th): does not count
                "as_of": [date(2026, 1, 6), date(2026, 1, 4), date(2026, 1, 6)],
                "event": ["entered", "entered", "entered"],
            }
        ),
        overwrite=True,
    )
    clock.advance(timedelta(days=1))
    engine.tick()
    assert [c for _, _, c in outbox(sws)] == ["c1"]
    clock.advance(timedelta(days=5))
    engine.tick()
    assert [c for _, _, c in outbox(sws)] == ["c1"]
    assert journal(sws, "c3") == [("vip", "timeout", "")]
    assert [x[2] for x in enrollments(sws)] == ["completed"] * 3


def test_entry_condition_lets_in_only_those_it_holds_for(sws: Workspace, clock: FixedClock) -> None:
    """A weekly trigger fires for everyone on Tuesday 2026-01-06; the entry condition
    (two orders or more, on the features of 2026-01-05) keeps c3 (three orders) and
    leaves out c1 (one) and c2 (none)."""
    condition = {"type": "compare", "field": "frequency", "op": "ge", "value": 2}
    install(
        sws,
        clock,
        trigger={"type": "weekly", "weekday": 1},
        entry={"reentry": "never", "condition": condition},
    )
    engine = Engine(Messaging(sws, clock), clock)
    clock.set(datetime(2026, 1, 6, 3, tzinfo=clock.now().tzinfo))  # 12:00 JST
    assert engine.tick().enrolled == 1
    assert [(c, o) for c, o, _, _ in enrollments(sws)] == [("c3", "weekly:2026-01-06")]


def test_a_scenario_is_enabled_only_when_its_templates_render(
    sws: Workspace, clock: FixedClock
) -> None:
    steps = [
        {"id": "a", "type": "send", "channel": "email", "template": "sc-mail",
         "fallback_channel": "line", "fallback_template": "sc-mail"},
        {"id": "b", "type": "send", "channel": "email", "template": "nowhere"},
        {"id": "c", "type": "webhook", "template": "sc-hook"},
    ]  # fmt: skip
    at = utc_naive(clock.now())
    with session_scope(sws.sessions) as db:
        store.save(db, parse_definition(scenario(key="odd", steps=steps)), at)
    with pytest.raises(store.ScenarioStoreError) as caught, session_scope(sws.sessions) as db:
        store.set_status(db, "odd", "enabled", at)
    assert str(caught.value) == (
        "odd: cannot enable: steps (a): template 'sc-mail' is for email; "
        "steps (b): no template 'nowhere'"
    )
    with session_scope(sws.sessions) as db:
        assert store.get(db, "odd").status == "draft"

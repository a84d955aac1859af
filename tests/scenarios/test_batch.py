"""The engine's set-based batch path on the hand-made shop (tests/scenarios/shop.py):
caps reached inside a batch and across batches, a step failing after earlier steps of
the same run, keys replayed in later batches, and consent withdrawn after queuing."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlalchemy import select

from tests.scenarios.test_engine import BROADCAST, enrollments, install, journal, outbox
from tokui.clock import FixedClock, utc_naive
from tokui.messaging.consent import record_consent
from tokui.messaging.service import Messaging
from tokui.messaging.store import TemplateDraft, create_template
from tokui.messaging.worker import CycleStats
from tokui.scenarios.engine import Engine
from tokui.scenarios.policy import SendPolicy
from tokui.state.db import session_scope
from tokui.state.messages import OutboxMessage
from tokui.state.scenarios import Enrollment, Grant, JourneyEntry
from tokui.workspace import Workspace

MAIL = [{"id": "m", "type": "send", "channel": "email", "template": "sc-mail"}]
MAIL2 = [{"id": "m", "type": "send", "channel": "email", "template": "sc-mail2"}]


def test_a_cap_reached_inside_a_batch_and_across_batches(sws: Workspace, clock: FixedClock) -> None:
    # Enrollment ids: first c1, c2, c3 (1-3), then second c1, c2, c3 (4-6). Batches of 4:
    # second:c1 (4) is capped by first:c1 queued earlier in the same batch, second:c3 (6)
    # in the next batch by first:c3 (3), read back from the outbox.
    install(sws, clock, key="first", trigger=BROADCAST, steps=MAIL)
    install(sws, clock, key="second", trigger=BROADCAST, steps=MAIL2)
    engine = Engine(Messaging(sws, clock), clock, batch_size=4)
    clock.advance(timedelta(hours=2))  # 05:00 UTC, 14:00 JST
    stats = engine.tick()
    assert (stats.enrolled, stats.advanced, stats.queued, stats.held, stats.skipped) == (
        6,
        6,
        2,
        2,
        2,
    )
    assert [(k.split(":")[1], c) for k, _, c in outbox(sws)] == [("first", "c1"), ("first", "c3")]
    with session_scope(sws.sessions) as db:
        held = db.execute(
            select(Enrollment.id, Enrollment.customer_id, Enrollment.due_at)
            .where(Enrollment.status == "active")
            .order_by(Enrollment.id)
        ).all()
    # 24 h after the first message: 05:00 UTC on the 6th.
    assert [tuple(h) for h in held] == [
        (4, "c1", datetime(2026, 1, 6, 5)),
        (6, "c3", datetime(2026, 1, 6, 5)),
    ]
    assert journal(sws, "c1") == [("m", "queued", "email"), ("m", "held_cap", "email")]


def _template(ws: Workspace, clock: FixedClock, key: str, channel: str, text: str) -> None:
    with session_scope(ws.sessions) as db:
        create_template(
            db,
            key=key,
            channel=channel,
            draft=TemplateDraft(name=key, text=text),
            is_marketing=False,
            at=utc_naive(clock.now()),
            user_id=None,
            check_context=Messaging(ws, clock).sample_context(),
        )


def test_a_failing_step_drops_what_its_run_did_and_only_that(
    sws: Workspace, clock: FixedClock
) -> None:
    # A postal DM is rendered in the tick (it is exported, not sent by the worker). Its
    # fields come out as a list for c1 only: c1's DM fails to render when the batch
    # writes its messages, after the coupon step of the same run was planned. c1 gets
    # no coupon and no journal line; c2 and c3 get both.
    _template(
        sws,
        clock,
        "sc-dm-odd",
        "postal_dm",
        '{% if customer.customer_id == "c1" %}["x"]{% else %}{"name": "{{ customer.name }}"}'
        "{% endif %}",
    )
    steps = [
        {"id": "coupon", "type": "issue_coupon", "coupon_id": "C", "expires_days": 7},
        {"id": "dm", "type": "send", "channel": "postal_dm", "template": "sc-dm-odd"},
    ]
    install(sws, clock, key="bad", trigger=BROADCAST, steps=steps)
    clock.advance(timedelta(hours=2))
    stats = Engine(Messaging(sws, clock), clock).tick()
    assert stats.finished == {"stopped": 1, "completed": 2}
    assert (stats.queued, stats.skipped) == (2, 0)
    with session_scope(sws.sessions) as db:
        grants = sorted(db.scalars(select(Grant.customer_id)).all())
        note = db.scalar(select(Enrollment.note).where(Enrollment.customer_id == "c1"))
        step = db.scalar(select(Enrollment.step_id).where(Enrollment.customer_id == "c1"))
        rows = db.execute(
            select(OutboxMessage.customer_id, OutboxMessage.status).order_by(OutboxMessage.id)
        ).all()
    assert grants == ["c2", "c3"]
    assert note == "error: template 'sc-dm-odd' v1, text: must be a JSON object"
    assert step == "coupon"  # as it was before the failed run
    assert journal(sws, "c1") == []
    assert journal(sws, "c2") == [("coupon", "coupon", "C"), ("dm", "queued", "postal_dm")]
    assert [tuple(r) for r in rows] == [("c2", "queued"), ("c3", "queued")]


def test_a_message_the_worker_cannot_render_fails_alone_and_is_journaled(
    sws: Workspace, clock: FixedClock
) -> None:
    # c1's LINE id is malformed, which LINE's renderer refuses. The tick queues the
    # messages with their context and goes on (c1's enrollment completes, its coupon
    # stays); the delivery worker renders them: c1's fails with the reason and a
    # render_failed journal line, c2's is sent. c3 has no LINE id: skipped as before.
    sws.warehouse.raw_sql(
        "UPDATE customers SET line_user_id = 'not-a-line-id' WHERE customer_id = 'c1'"
    )
    steps = [
        {"id": "coupon", "type": "issue_coupon", "coupon_id": "C", "expires_days": 7},
        {"id": "line", "type": "send", "channel": "line", "template": "sc-line"},
    ]
    install(sws, clock, key="bad", trigger=BROADCAST, steps=steps)
    clock.advance(timedelta(hours=2))
    messaging = Messaging(sws, clock)
    stats = Engine(messaging, clock).tick()
    assert stats.finished == {"completed": 3}
    assert (stats.queued, stats.skipped) == (2, 1)
    with session_scope(sws.sessions) as db:
        queued = db.execute(
            select(OutboxMessage.customer_id, OutboxMessage.status).order_by(OutboxMessage.id)
        ).all()
    assert [tuple(r) for r in queued] == [("c1", "to_render"), ("c2", "to_render")]

    async def deliver() -> CycleStats:
        worker = messaging.worker()
        try:
            return await worker.run_once()
        finally:
            await worker.aclose()

    cycle = asyncio.run(deliver())
    assert (cycle.rendered, cycle.failed, cycle.claimed, cycle.sent) == (1, 1, 1, 1)
    with session_scope(sws.sessions) as db:
        rows = db.execute(
            select(
                OutboxMessage.customer_id, OutboxMessage.status, OutboxMessage.last_error
            ).order_by(OutboxMessage.id)
        ).all()
        grants = sorted(db.scalars(select(Grant.customer_id)).all())
    assert [tuple(r) for r in rows] == [
        (
            "c1",
            "failed_perm",
            "cannot render: template 'sc-line' v1, recipient: 'not-a-line-id' is not a LINE "
            "user id (U + 32 hex digits)",
        ),
        ("c2", "sent", None),
    ]
    assert grants == ["c1", "c2", "c3"]
    assert journal(sws, "c1") == [
        ("coupon", "coupon", "C"),
        ("line", "queued", "line"),
        ("line", "render_failed", rows[0][2]),
    ]
    assert journal(sws, "c2") == [("coupon", "coupon", "C"), ("line", "queued", "line")]


def test_keys_replayed_in_later_batches_queue_and_grant_nothing_twice(
    sws: Workspace, clock: FixedClock
) -> None:
    steps = [
        {"id": "coupon", "type": "issue_coupon", "coupon_id": "C", "expires_days": 7},
        *MAIL,
    ]
    install(sws, clock, key="once", trigger=BROADCAST, steps=steps)
    no_caps = SendPolicy(caps={})
    clock.advance(timedelta(hours=2))
    Engine(Messaging(sws, clock), clock, policy=no_caps, batch_size=1).tick()
    first = outbox(sws)
    assert [c for _, _, c in first] == ["c1", "c3"]
    # Every enrollment put back to its first step, as if its state had been lost; the
    # replay runs in batches of two, so each batch mixes customers of other batches.
    with session_scope(sws.sessions) as db:
        for e in db.scalars(select(Enrollment)):
            e.status, e.step_id, e.finished_at = "active", "coupon", None
    stats = Engine(Messaging(sws, clock), clock, policy=no_caps, batch_size=2).tick()
    assert outbox(sws) == first
    assert (stats.advanced, stats.queued) == (3, 0)
    with session_scope(sws.sessions) as db:
        assert len(db.scalars(select(Grant.id)).all()) == 3
        outcomes = db.execute(
            select(Enrollment.customer_id, JourneyEntry.outcome)
            .join(Enrollment, Enrollment.id == JourneyEntry.enrollment_id)
            .order_by(JourneyEntry.id)
        ).all()
    assert [tuple(o) for o in outcomes] == [
        ("c1", "coupon"),
        ("c1", "queued"),
        ("c2", "coupon"),
        ("c2", "skipped"),
        ("c3", "coupon"),
        ("c3", "queued"),
        ("c1", "already_queued"),
        ("c2", "skipped"),
        ("c3", "already_queued"),
    ]
    assert [x[2] for x in enrollments(sws)] == ["completed"] * 3


def test_consent_withdrawn_after_queuing_is_checked_again_at_delivery(
    sws: Workspace, clock: FixedClock
) -> None:
    install(sws, clock, key="news", trigger=BROADCAST, steps=MAIL)
    clock.advance(timedelta(hours=2))
    messaging = Messaging(sws, clock)
    Engine(messaging, clock).tick()
    assert [c for _, _, c in outbox(sws)] == ["c1", "c3"]
    with session_scope(sws.sessions) as db:
        record_consent(
            db,
            customer_id="c3",
            channel="email",
            granted=False,
            method="unsubscribe_page",
            at=utc_naive(clock.now()),
        )

    async def deliver() -> None:
        worker = messaging.worker()
        try:
            await worker.run_once()
        finally:
            await worker.aclose()

    asyncio.run(deliver())
    with session_scope(sws.sessions) as db:
        rows = db.execute(
            select(
                OutboxMessage.customer_id, OutboxMessage.status, OutboxMessage.last_error
            ).order_by(OutboxMessage.id)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("c1", "sent", None),
        ("c3", "suppressed", "consent to email withdrawn"),
    ]

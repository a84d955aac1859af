"""Delivery through a real SMTP server on 127.0.0.1, on SQLite and PostgreSQL state DBs:
retries, bounces, suppression, consent, a server that is down for a while, and a worker
that dies mid-send."""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.messaging.conftest import NOW, SMTPSink, real_settings
from tokui.clock import FixedClock, utc_naive
from tokui.messaging.channel import Channel
from tokui.messaging.channels.email import EmailChannel
from tokui.messaging.channels.sandbox import SandboxChannel
from tokui.messaging.consent import record_consent
from tokui.messaging.outbox import claim, enqueue
from tokui.messaging.settings import MessagingSettings
from tokui.messaging.worker import DeliveryWorker
from tokui.privacy.suppression import add_suppression
from tokui.state.db import make_engine, migrate, session_factory, session_scope
from tokui.state.messages import (
    ContactSuppression,
    MessageEventRecord,
    OutboxMessage,
    SandboxInboxMessage,
)

SECRET = "test-secret-key"


@pytest.fixture
def sessions(state_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(state_url)
    migrate(engine)
    yield session_factory(engine)
    engine.dispose()


def _queue(
    sessions: sessionmaker[Session],
    clock: FixedClock,
    channel: Channel,
    addresses: list[str],
    prefix: str = "m",
    marketing: bool = True,
) -> list[int]:
    ids = []
    with session_scope(sessions) as db:
        for i, address in enumerate(addresses):
            key = f"{prefix}:{i}"

            def render(outbox_id: int, key: str = key) -> tuple[dict[str, str], str | None]:
                payload = {
                    "subject": "冬のご案内",
                    "html": "<p>こんにちは</p>",
                    "text": "こんにちは\n",
                }
                return payload, channel.provider_message_id(outbox_id, key)

            row = enqueue(
                db,
                idempotency_key=key,
                channel="email",
                recipient=address,
                customer_id=f"c{i}",
                now=utc_naive(clock.now()),
                is_marketing=marketing,
                render=render,
            )
            assert row is not None
            ids.append(row.id)
    return ids


def _statuses(sessions: sessionmaker[Session]) -> dict[int, tuple[str, int]]:
    with session_scope(sessions) as db:
        rows = db.execute(select(OutboxMessage.id, OutboxMessage.status, OutboxMessage.attempts))
        return {r.id: (r.status, r.attempts) for r in rows}


def _message_ids(sink: SMTPSink) -> list[str]:
    out = []
    for _, _, content in sink.handler.messages:
        msg = email.message_from_bytes(content, policy=email.policy.default)
        out.append(str(msg["Message-ID"]))
    return out


def _worker(
    sessions: sessionmaker[Session], settings: MessagingSettings, clock: FixedClock
) -> DeliveryWorker:
    import random

    channel = EmailChannel(settings, clock)
    return DeliveryWorker(sessions, {"email": channel}, clock, SECRET, settings, random.Random(7))


def test_each_message_delivered_once(sessions: sessionmaker[Session], smtp_sink: SMTPSink) -> None:
    clock = FixedClock(NOW)
    settings = real_settings(smtp_sink)
    worker = _worker(sessions, settings, clock)
    ids = _queue(sessions, clock, worker.channels["email"], [f"u{i}@example.jp" for i in range(5)])
    # Queuing the same keys again changes nothing.
    with session_scope(sessions) as db:
        assert enqueue(db, idempotency_key="m:0", channel="email", recipient="x@example.jp",
                       customer_id=None, now=utc_naive(NOW)) is None  # fmt: skip

    async def run() -> tuple[int, int]:
        first = await worker.run_once()
        second = await worker.run_once()
        await worker.aclose()
        return first.sent, second.claimed

    sent, claimed_again = asyncio.run(run())
    assert (sent, claimed_again) == (5, 0)
    assert _statuses(sessions) == {i: ("sent", 1) for i in ids}
    assert sorted(rcpt[0] for _, rcpt, _ in smtp_sink.handler.messages) == [
        f"u{i}@example.jp" for i in range(5)
    ]
    with session_scope(sessions) as db:
        expected = {r.provider_message_id for r in db.scalars(select(OutboxMessage))}
        events = db.execute(
            select(MessageEventRecord.event, func.count()).group_by(MessageEventRecord.event)
        ).all()
    assert set(_message_ids(smtp_sink)) == expected and len(expected) == 5
    assert dict(events) == {"queued": 5, "sent": 5}


def test_temporary_failures_are_retried_with_backoff(
    sessions: sessionmaker[Session], smtp_sink: SMTPSink
) -> None:
    clock = FixedClock(NOW)
    worker = _worker(sessions, real_settings(smtp_sink), clock)
    refusals = iter(["451 4.3.0 try again later", "421 4.7.0 too busy"])
    smtp_sink.handler.rules["slow@example.jp"] = lambda: next(refusals, None)
    [mid] = _queue(sessions, clock, worker.channels["email"], ["slow@example.jp"])

    async def run() -> list[tuple[str, int, str | None, object]]:
        seen = []
        for step in (0, 30, 31, 60, 60):
            clock.advance(timedelta(seconds=step))
            await worker.run_once()
            with session_scope(sessions) as db:
                row = db.get(OutboxMessage, mid)
                assert row is not None
                seen.append((row.status, row.attempts, row.last_error, row.next_attempt_at))
        await worker.aclose()
        return seen

    seen = asyncio.run(run())
    start = utc_naive(NOW)
    # Attempt 1 fails at t=0: retry after 30..60 s (base 60, equal jitter).
    assert seen[0][:3] == ("failed_temp", 1, "451 4.3.0 try again later (RCPT TO)")
    first_retry = seen[0][3]
    assert isinstance(first_retry, type(start))
    assert timedelta(seconds=30) <= first_retry - start <= timedelta(seconds=60)
    # t=30: not due yet unless the jitter drew exactly 30 s; with this seed it did not.
    assert seen[1][:2] == ("failed_temp", 1)
    # t=61: attempt 2 fails; the next wait doubles to 60..120 s.
    assert seen[2][:3] == ("failed_temp", 2, "421 4.7.0 too busy (RCPT TO)")
    second_retry = seen[2][3]
    assert isinstance(second_retry, type(start))
    at2 = start + timedelta(seconds=61)
    assert timedelta(seconds=60) <= second_retry - at2 <= timedelta(seconds=120)
    # By t=181 attempt 3 has gone through.
    assert seen[4][:2] == ("sent", 3)
    assert len(smtp_sink.handler.messages) == 1


def test_hard_bounce_fails_and_suppresses(
    sessions: sessionmaker[Session], smtp_sink: SMTPSink
) -> None:
    clock = FixedClock(NOW)
    worker = _worker(sessions, real_settings(smtp_sink), clock)
    calls: list[str] = []

    def unknown() -> str:
        calls.append("rcpt")
        return "550 5.1.1 user unknown"

    smtp_sink.handler.rules["gone@example.jp"] = unknown
    [first] = _queue(sessions, clock, worker.channels["email"], ["Gone@Example.jp"], prefix="a")

    async def run() -> None:
        await worker.run_once()
        # A later message to the same address is stopped before it reaches the server,
        # even as transactional mail.
        _queue(sessions, clock, worker.channels["email"], ["gone@example.jp"], "b", False)
        await worker.run_once()
        await worker.aclose()

    asyncio.run(run())
    statuses = _statuses(sessions)
    assert statuses[first] == ("failed_perm", 1)
    assert statuses[first + 1] == ("suppressed", 1)
    assert calls == ["rcpt"]
    with session_scope(sessions) as db:
        row = db.get(OutboxMessage, first)
        assert row is not None and row.last_error == "550 5.1.1 user unknown (RCPT TO)"
        entry = db.scalar(select(ContactSuppression))
        assert entry is not None
        assert (entry.channel, entry.address, entry.reason, entry.outbox_id) == (
            "email",
            "gone@example.jp",
            "bounce",
            first,
        )
        second = db.get(OutboxMessage, first + 1)
        assert second is not None
        assert second.last_error == "on the suppression list (email, bounce)"
        events = [
            e
            for (e,) in db.execute(select(MessageEventRecord.event).order_by(MessageEventRecord.id))
        ]
    assert events == ["queued", "bounced", "queued", "suppressed"]


def test_server_down_then_everything_delivered_exactly_once(
    sessions: sessionmaker[Session], smtp_sink: SMTPSink
) -> None:
    clock = FixedClock(NOW)
    worker = _worker(sessions, real_settings(smtp_sink), clock)
    addresses = [f"u{i}@example.jp" for i in range(12)]
    ids = _queue(sessions, clock, worker.channels["email"], addresses)
    smtp_sink.stop()

    async def run() -> list[int]:
        sent = []
        for _ in range(2):  # two cycles while the server is down
            stats = await worker.run_once()
            sent.append(stats.sent)
            clock.advance(timedelta(minutes=5))
        smtp_sink.start()
        for _ in range(3):
            stats = await worker.run_once()
            sent.append(stats.sent)
            clock.advance(timedelta(minutes=5))
        await worker.aclose()
        return sent

    sent = asyncio.run(run())
    assert sent == [0, 0, 12, 0, 0]
    assert _statuses(sessions) == {i: ("sent", 3) for i in ids}
    rcpts = sorted(r[0] for _, r, _ in smtp_sink.handler.messages)
    assert rcpts == sorted(addresses)
    assert len(set(_message_ids(smtp_sink))) == 12


def test_erased_people_and_withdrawn_consent_are_not_messaged(
    sessions: sessionmaker[Session], smtp_sink: SMTPSink
) -> None:
    clock = FixedClock(NOW)
    worker = _worker(sessions, real_settings(smtp_sink), clock)
    with session_scope(sessions) as db:
        add_suppression(
            db, SECRET, utc_naive(NOW), reason="erasure request", created_by=None,
            email="ERASED@example.jp",
        )  # fmt: skip
        record_consent(db, customer_id="c1", channel="email", granted=True,
                       method="signup_form", at=utc_naive(NOW - timedelta(days=9)))  # fmt: skip
        record_consent(db, customer_id="c1", channel="email", granted=False,
                       method="admin", at=utc_naive(NOW - timedelta(days=1)))  # fmt: skip
    ch = worker.channels["email"]
    market = _queue(sessions, clock, ch, ["erased@example.jp", "c1@example.jp", "ok@example.jp"])
    notice = _queue(sessions, clock, ch, ["erased@example.jp", "c1@example.jp"], "t", False)

    async def run() -> None:
        await worker.run_once()
        await worker.aclose()

    asyncio.run(run())
    statuses = _statuses(sessions)
    assert [statuses[i][0] for i in market] == ["suppressed", "suppressed", "sent"]
    # Transactional mail ignores marketing consent, never the erasure list.
    assert [statuses[i][0] for i in notice] == ["suppressed", "sent"]
    with session_scope(sessions) as db:
        reasons = [db.get(OutboxMessage, i).last_error for i in market[:2]]  # type: ignore[union-attr]
    assert reasons == ["deleted on request (erasure list)", "consent to email withdrawn"]
    assert sorted(r[0] for _, r, _ in smtp_sink.handler.messages) == [
        "c1@example.jp",
        "ok@example.jp",
    ]


def test_worker_death_mid_send_holds_smtp_and_resends_sandbox(
    sessions: sessionmaker[Session], smtp_sink: SMTPSink
) -> None:
    clock = FixedClock(NOW)
    settings = real_settings(smtp_sink)
    email_channel = EmailChannel(settings, clock)
    [smtp_id] = _queue(sessions, clock, email_channel, ["a@example.jp"], "smtp")
    # A worker claims it and dies before marking anything.
    with session_scope(sessions) as db:
        claimed = claim(db, utc_naive(NOW), limit=10, lease=timedelta(minutes=5))
    assert [c.id for c in claimed] == [smtp_id]
    clock.advance(timedelta(minutes=6))
    worker = _worker(sessions, settings, clock)

    async def run() -> tuple[int, int]:
        stats = await worker.run_once()
        await worker.aclose()
        return stats.held, stats.sent

    assert asyncio.run(run()) == (1, 0)
    with session_scope(sessions) as db:
        row = db.get(OutboxMessage, smtp_id)
        assert row is not None and row.status == "failed_perm"
        assert row.last_error is not None
        assert row.last_error.startswith("outcome unknown: the worker stopped while sending")
        assert str(row.provider_message_id) in row.last_error
    assert smtp_sink.handler.messages == []

    # The sandbox is idempotent: the same situation ends in exactly one capture.
    sandbox = SandboxChannel(email_channel, sessions, clock)
    [box_id] = _queue(sessions, clock, sandbox, ["b@example.jp"], "box")
    with session_scope(sessions) as db:
        [c] = claim(db, utc_naive(clock.now()), limit=10, lease=timedelta(minutes=5))

    async def capture_then_die() -> None:
        from tokui.messaging.channel import OutgoingMessage

        await sandbox.send(
            OutgoingMessage(c.id, c.idempotency_key, "email", c.recipient, None, c.payload,
                            c.provider_message_id)
        )  # fmt: skip

    asyncio.run(capture_then_die())
    clock.advance(timedelta(minutes=6))
    import random

    box_worker = DeliveryWorker(
        sessions, {"email": sandbox}, clock, SECRET, settings, random.Random(1)
    )

    async def recover() -> tuple[int, int, int]:
        first = await box_worker.run_once()
        second = await box_worker.run_once()
        return first.recovered, first.sent, second.claimed

    # Recovered and sent again in the same cycle; the capture already exists, so the
    # second send finds it instead of capturing twice.
    assert asyncio.run(recover()) == (1, 1, 0)
    assert _statuses(sessions)[box_id] == ("sent", 2)
    with session_scope(sessions) as db:
        assert db.scalar(select(func.count()).select_from(SandboxInboxMessage)) == 1


@pytest.mark.parametrize("state_url", ["postgres"], indirect=True)
def test_postgres_workers_claim_disjoint_batches(sessions: sessionmaker[Session]) -> None:
    clock = FixedClock(NOW)
    settings = MessagingSettings()
    ids = _queue(
        sessions, clock, EmailChannel(settings, clock), [f"p{i}@example.jp" for i in range(6)]
    )
    now = utc_naive(NOW)
    first = sessions()
    second = sessions()
    try:
        a = claim(first, now, limit=4, lease=timedelta(minutes=5))
        # `first` has not committed: its rows are locked, and SKIP LOCKED passes over them.
        b = claim(second, now, limit=4, lease=timedelta(minutes=5))
        first.commit()
        second.commit()
    finally:
        first.close()
        second.close()
    assert [c.id for c in a] == ids[:4]
    assert [c.id for c in b] == ids[4:]

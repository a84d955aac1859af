"""The delivery worker: claim a batch, check who may still be messaged, send, mark.

One cycle (`run_once`):
1. recover rows whose lease ran out (a worker died mid-send), and render the messages
   queued with their context (`to_render`, tokui.messaging.deferred);
2. claim up to `batch_size` due messages of the configured channels;
3. at send time, not only at enrollment: drop messages to suppressed or erased people
   and marketing to customers whose newest consent record is a withdrawal;
4. send the rest concurrently, each channel behind its token bucket;
5. mark every result in one transaction, fenced by the claim token; a bounce goes
   through the bounce policy (tokui.messaging.bounces) in the same transaction: a hard
   one puts the address on the suppression list, soft ones count towards it.

A crash between 4 and 5 leaves the rows `sending`; step 1 of a later cycle deals with
them once their lease has run out.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from tokui.clock import Clock, utc_naive
from tokui.messaging.bounces import BouncePolicy, apply_bounce, bounce_detail
from tokui.messaging.channel import (
    BatchChannel,
    Channel,
    DeliveryError,
    OutgoingMessage,
    SendResult,
)
from tokui.messaging.consent import current_consent
from tokui.messaging.deferred import Renderer
from tokui.messaging.dsn import bounce_kind
from tokui.messaging.outbox import (
    Claimed,
    RetryPolicy,
    claim,
    mark_failed,
    mark_sent_many,
    mark_suppressed,
    recover_expired,
)
from tokui.messaging.ratelimit import TokenBucket
from tokui.messaging.settings import MessagingSettings
from tokui.messaging.suppression import load_gate, suppress
from tokui.messaging.switches import disabled_channels
from tokui.state.db import session_scope


@dataclass
class CycleStats:
    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    suppressed: int = 0
    recovered: int = 0
    held: int = 0
    rendered: int = 0
    errors: list[str] = field(default_factory=list)
    # (channel, result) -> messages, result one of sent, retrying, failed, suppressed:
    # what the metrics count (tokui.ops.metrics).
    by_channel: dict[tuple[str, str], int] = field(default_factory=dict)

    def add(self, other: CycleStats) -> None:
        names = ("claimed", "sent", "retrying", "failed", "suppressed", "recovered", "held")
        for name in (*names, "rendered"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors.extend(other.errors[:20])
        for key, n in other.by_channel.items():
            self.by_channel[key] = self.by_channel.get(key, 0) + n

    def count(self, channel: str, result: str) -> None:
        self.by_channel[channel, result] = self.by_channel.get((channel, result), 0) + 1


def _outgoing(msg: Claimed) -> OutgoingMessage:
    return OutgoingMessage(
        outbox_id=msg.id,
        idempotency_key=msg.idempotency_key,
        channel=msg.channel,
        recipient=msg.recipient,
        customer_id=msg.customer_id,
        payload=msg.payload,
        provider_message_id=msg.provider_message_id,
    )


class DeliveryWorker:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        channels: Mapping[str, Channel],
        clock: Clock,
        secret: str,
        settings: MessagingSettings,
        rng: random.Random | None = None,
        renderer: Renderer | None = None,
    ) -> None:
        self.sessions = sessions
        # Renders `to_render` messages before each claim (tokui.messaging.deferred).
        self.renderer = renderer
        self.channels = {
            name: ch for name, ch in channels.items() if ch.capabilities.delivered_by_worker
        }
        self.clock = clock
        self.secret = secret
        self.settings = settings
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not security
        self.policy = RetryPolicy(
            max_attempts=settings.max_attempts,
            base=timedelta(seconds=settings.backoff_base_seconds),
            cap=timedelta(seconds=settings.backoff_cap_seconds),
        )
        self.lease = timedelta(seconds=settings.lease_seconds)
        self.bounce_policy = BouncePolicy(settings.bounces.soft_limit, settings.bounces.soft_days)
        self.buckets = {
            name: TokenBucket(
                settings.rate_per_second.get(name, ch.capabilities.default_rate_per_second)
            )
            for name, ch in self.channels.items()
        }
        self._concurrency = asyncio.Semaphore(settings.concurrency)
        # isinstance against a runtime Protocol inspects the class on every call.
        self._batch = {name: isinstance(ch, BatchChannel) for name, ch in self.channels.items()}

    def _now(self) -> datetime:
        return utc_naive(self.clock.now())

    async def run_once(self, ids: Sequence[int] | None = None) -> CycleStats:
        stats = CycleStats()
        with session_scope(self.sessions) as db:
            stats.recovered, stats.held = recover_expired(
                db, self._now(), lambda ch: self._channel_resend_safe(ch)
            )
        if self.renderer is not None:
            self._render(stats, ids)
        with session_scope(self.sessions) as db:
            off = disabled_channels(db)
            batch = claim(
                db,
                self._now(),
                limit=self.settings.batch_size,
                lease=self.lease,
                channels=[name for name in self.channels if name not in off],
                ids=ids,
            )
        stats.claimed = len(batch)
        if not batch:
            return stats
        blocked = self._blocked(batch)
        to_send = [m for m in batch if m.id not in blocked]
        results = await self._send_all(to_send)
        now = self._now()
        with session_scope(self.sessions) as db:
            for msg in batch:
                if msg.id in blocked and mark_suppressed(db, msg, now, blocked[msg.id]):
                    stats.suppressed += 1
                    stats.count(msg.channel, "suppressed")
            sent = [
                (msg, result.provider_message_id)
                for msg, result in zip(to_send, results, strict=True)
                if isinstance(result, SendResult)
            ]
            marked = mark_sent_many(db, sent, now)
            stats.sent += len(marked)
            for msg, _ in sent:
                if msg.id in marked:
                    stats.count(msg.channel, "sent")
            for msg, result in zip(to_send, results, strict=True):
                if isinstance(result, DeliveryError):
                    self._record_failure(db, msg, result, now, stats)
        return stats

    def _render(self, stats: CycleStats, ids: Sequence[int] | None) -> None:
        """Render a batch of `to_render` messages, each batch in its own transaction; a
        batch that all failed is followed by the next, so the claim finds something to
        send while any are left."""
        assert self.renderer is not None
        while True:
            with session_scope(self.sessions) as db:
                done = self.renderer(db, self._now(), self.settings.batch_size, ids)
            stats.rendered += done.rendered
            for row_id, channel, error in done.failed:
                stats.failed += 1
                stats.count(channel, "failed")
                stats.errors.append(f"{row_id}: {error}")
            if done.rendered or done.picked < self.settings.batch_size:
                return

    def _channel_resend_safe(self, channel: str) -> bool:
        ch = self.channels.get(channel)
        return ch is not None and ch.capabilities.idempotent_send

    def _blocked(self, batch: list[Claimed]) -> dict[int, str]:
        """Messages that must not go, with why: suppression, erasure, withdrawn consent."""
        blocked: dict[int, str] = {}
        with session_scope(self.sessions) as db:
            gate = load_gate(
                db,
                self.secret,
                [
                    (m.channel, self.channels[m.channel].capabilities.address_kind, m.recipient)
                    for m in batch
                ],
            )
            consent: dict[str, dict[str, bool]] = {}
            for channel in {m.channel for m in batch if m.is_marketing}:
                ids = [m.customer_id for m in batch if m.channel == channel and m.customer_id]
                consent[channel] = current_consent(db, ids, channel)
        for m in batch:
            kind = self.channels[m.channel].capabilities.address_kind
            why = gate.reason(m.channel, kind, m.recipient, m.customer_id, m.is_marketing)
            withdrawn = consent.get(m.channel, {}).get(m.customer_id or "") is False
            if why is None and m.is_marketing and withdrawn:
                why = f"consent to {m.channel} withdrawn"
            if why is not None:
                blocked[m.id] = why
        return blocked

    async def _send_all(self, to_send: list[Claimed]) -> list[SendResult | DeliveryError]:
        """One result per message, in order; batch channels get their rows together."""
        results: dict[int, SendResult | DeliveryError] = {}
        single: list[Claimed] = []
        batches: dict[str, list[Claimed]] = {}
        for msg in to_send:
            if self._batch[msg.channel]:
                batches.setdefault(msg.channel, []).append(msg)
            else:
                single.append(msg)

        async def one(msg: Claimed) -> None:
            results[msg.id] = await self._send(msg)

        async def many(name: str, msgs: list[Claimed]) -> None:
            channel = self.channels[name]
            assert isinstance(channel, BatchChannel)
            try:
                out = await channel.send_batch(
                    [_outgoing(m) for m in msgs], self.buckets[name].take
                )
            except Exception as exc:  # every failure is recorded on the row, none is lost
                error = self.channels[name].classify(exc)
                out = [error] * len(msgs)
            results.update({m.id: r for m, r in zip(msgs, out, strict=True)})

        await asyncio.gather(*(one(m) for m in single), *(many(n, ms) for n, ms in batches.items()))
        return [results[m.id] for m in to_send]

    async def _send(self, msg: Claimed) -> SendResult | DeliveryError:
        channel = self.channels[msg.channel]
        async with self._concurrency:
            await self.buckets[msg.channel].take()
            try:
                return await channel.send(_outgoing(msg))
            except Exception as exc:  # every failure is recorded on the row, none is lost
                return channel.classify(exc)

    def _record_failure(
        self,
        db: Session,
        msg: Claimed,
        result: DeliveryError,
        at: datetime,
        stats: CycleStats,
    ) -> None:
        stats.errors.append(f"{msg.id}: {result}")
        bounced = result.suppress == "bounce" and not result.temporary
        status_code = result.status or "5.0.0"
        kind = bounce_kind(status_code)
        status = mark_failed(
            db,
            msg,
            at,
            str(result),
            temporary=result.temporary,
            policy=self.policy,
            # Rows of one provider request retry together (the same delay from the same
            # seed), so the request repeats with the same members and retry key.
            rng=random.Random(result.group) if result.group else self.rng,  # noqa: S311
            bounced=bounced,
            detail=bounce_detail(kind, status_code, str(result)) if bounced else None,
        )
        if status == "failed_temp":
            stats.retrying += 1
            stats.count(msg.channel, "retrying")
            return
        stats.failed += 1
        stats.count(msg.channel, "failed")
        if bounced:
            apply_bounce(
                db,
                recipient=msg.recipient,
                customer_id=msg.customer_id,
                outbox_id=msg.id,
                kind=kind,
                detail=bounce_detail(kind, status_code, str(result)),
                at=at,
                policy=self.bounce_policy,
            )
        elif result.suppress:
            suppress(
                db,
                channel=msg.channel,
                address_kind=self.channels[msg.channel].capabilities.address_kind,
                address=msg.recipient,
                reason=result.suppress,
                at=at,
                detail=str(result),
                customer_id=msg.customer_id,
                outbox_id=msg.id,
            )

    async def run(self, stop: asyncio.Event, idle_seconds: float = 1.0) -> CycleStats:
        """Cycle until `stop` is set; sleeps when there was nothing to do."""
        total = CycleStats()
        while not stop.is_set():
            stats = await self.run_once()
            total.add(stats)
            if stats.claimed == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=idle_seconds)
        return total

    async def aclose(self) -> None:
        for channel in self.channels.values():
            await channel.aclose()

"""Prometheus metrics: what a worker process counts, and what the state DB says.

Two kinds, because several processes do the work:
- Counters and histograms live in the process that does the work (a `tokui worker`, or
  `tokui serve` with its embedded delivery worker): messages by channel and result,
  delivery cycle and scenario tick durations, loop errors. Prometheus scrapes each
  process and sums them; `rate()` over the counters gives send rates.
- Gauges read from the state DB at scrape time are the same whichever process answers:
  the outbox depth by channel and status (only the unfinished states, which the
  (status, next_attempt_at) index covers, so a scrape stays cheap however many messages
  were ever sent), the age of the oldest due message, and due scenario enrollments.

Everything is registered on REGISTRY (not prometheus_client's global one), so tests and
embedding applications get exactly these series.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tokui import __version__
from tokui.clock import Clock, utc_naive
from tokui.messaging.outbox import CLAIMABLE, Status
from tokui.messaging.worker import CycleStats
from tokui.state.messages import OutboxMessage
from tokui.state.scenarios import Enrollment

log = logging.getLogger("tokui.ops")

REGISTRY = CollectorRegistry(auto_describe=True)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
UNFINISHED = (*CLAIMABLE, Status.sending.value)

BUILD = Gauge("tokui_build_info", "Tokui version", ["version"], registry=REGISTRY)
BUILD.labels(__version__).set(1)
MESSAGES = Counter(
    "tokui_delivery_messages",
    "Messages handled by this process's delivery worker, by channel and result "
    "(sent, retrying, failed, suppressed)",
    ["channel", "result"],
    registry=REGISTRY,
)
RECOVERED = Counter(
    "tokui_delivery_recovered",
    "Messages found in `sending` past their lease: requeued (idempotent channels) or "
    "held for review",
    ["outcome"],
    registry=REGISTRY,
)
CYCLE_SECONDS = Histogram(
    "tokui_delivery_cycle_seconds",
    "One delivery cycle that claimed work: claim, checks, send, mark",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
    registry=REGISTRY,
)
TICK_SECONDS = Histogram(
    "tokui_scenario_tick_seconds",
    "One scenario tick: promote, enroll, advance",
    buckets=(0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 600, 1800),
    registry=REGISTRY,
)
TICK_WORK = Counter(
    "tokui_scenario_tick_items",
    "What this process's scenario ticks did (enrolled, advanced, queued, held, skipped)",
    ["what"],
    registry=REGISTRY,
)
LOOP_ERRORS = Counter(
    "tokui_worker_errors",
    "Delivery cycles or scenario ticks that raised (the loop logs it and goes on)",
    ["loop"],
    registry=REGISTRY,
)


def record_cycle(stats: CycleStats, seconds: float) -> None:
    for (channel, result), n in stats.by_channel.items():
        MESSAGES.labels(channel, result).inc(n)
    if stats.recovered:
        RECOVERED.labels("requeued").inc(stats.recovered)
    if stats.held:
        RECOVERED.labels("held").inc(stats.held)
    if stats.claimed:
        CYCLE_SECONDS.observe(seconds)


class StateCollector(Collector):
    """Gauges read from the state DB on each scrape; `tokui_state_db_up` is 0 (and the
    other gauges absent) when the database does not answer."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock) -> None:
        self.sessions = sessions
        self.clock = clock

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("tokui_state_db_up", "Whether the state DB answered this scrape")
        try:
            depth, oldest, due = self._read()
        except Exception:
            log.exception("metrics: the state DB did not answer")
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        queue = GaugeMetricFamily(
            "tokui_outbox_messages",
            "Unfinished outbox messages by channel and status (queued, sending, failed_temp)",
            labels=["channel", "status"],
        )
        for (channel, status), n in sorted(depth.items()):
            queue.add_metric([channel, status], n)
        yield queue
        age = GaugeMetricFamily(
            "tokui_outbox_oldest_due_seconds",
            "How long the oldest message that is due has waited (0 when none is due)",
        )
        age.add_metric([], oldest)
        yield age
        enrollments = GaugeMetricFamily(
            "tokui_scenario_enrollments_due",
            "Scenario enrollments (pending timers, active) whose next step is due",
            labels=["status"],
        )
        for status in ("pending", "active"):
            enrollments.add_metric([status], due.get(status, 0))
        yield enrollments

    def _read(self) -> tuple[dict[tuple[str, str], int], float, dict[str, int]]:
        now = utc_naive(self.clock.now())
        with self.sessions() as db:
            depth = {
                (str(channel), str(status)): int(n)
                for channel, status, n in db.execute(
                    select(OutboxMessage.channel, OutboxMessage.status, func.count())
                    .where(OutboxMessage.status.in_(UNFINISHED))
                    .group_by(OutboxMessage.channel, OutboxMessage.status)
                )
            }
            first_due = db.scalar(
                select(func.min(OutboxMessage.next_attempt_at)).where(
                    OutboxMessage.status.in_(CLAIMABLE), OutboxMessage.next_attempt_at <= now
                )
            )
            due = {
                str(status): int(n)
                for status, n in db.execute(
                    select(Enrollment.status, func.count())
                    .where(Enrollment.status.in_(("pending", "active")), Enrollment.due_at <= now)
                    .group_by(Enrollment.status)
                )
            }
        oldest = max(0.0, (now - first_due).total_seconds()) if first_due else 0.0
        return depth, oldest, due


def render(state: StateCollector | None = None) -> bytes:
    """The exposition text of this process's metrics, plus the state DB's when given."""
    if state is None:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(state)
    return generate_latest(REGISTRY) + generate_latest(registry)

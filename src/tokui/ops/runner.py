"""`tokui worker`: a process that delivers the outbox and runs scenario ticks.

Any number of them may run against one PostgreSQL state DB: delivery claims outbox rows
and ticks claim due enrollments with `FOR UPDATE SKIP LOCKED` (tokui.messaging.outbox,
tokui.scenarios.engine), so workers never wait on each other and never take the same
row; the idempotency keys make a replayed tick queue nothing twice. On SQLite run one.

The two loops share the process but not their connections: delivery is asyncio over
the state DB and the channels; a tick is synchronous warehouse and state work and runs
in a thread, so a long tick does not stop delivery. Each tick opens its own workspace
and closes it afterwards, so an embedded DuckDB warehouse file is held only while a
tick runs. A loop that raises (a database restarting) logs the error, counts it in
`tokui_worker_errors_total` and tries again after a pause; it never ends the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from tokui.clock import Clock, SystemClock
from tokui.config import Settings
from tokui.messaging.service import Messaging
from tokui.messaging.worker import CycleStats
from tokui.ops import metrics
from tokui.workspace import Workspace

log = logging.getLogger("tokui.worker")
ERROR_PAUSE_SECONDS = 10.0


@dataclass(frozen=True)
class WorkerOptions:
    delivery: bool = True
    scenarios: bool = True
    tick_seconds: float = 60.0
    idle_seconds: float = 1.0
    # One tick, then deliver until nothing is due, then return (see run_worker).
    until_idle: bool = False


@dataclass
class WorkerTotals:
    delivery: CycleStats = field(default_factory=CycleStats)
    ticks: int = 0
    tick_errors: int = 0


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


async def delivery_loop(
    ws: Workspace,
    clock: Clock,
    stop: asyncio.Event,
    idle_seconds: float = 1.0,
    until_idle: bool = False,
    totals: CycleStats | None = None,
) -> CycleStats:
    """Deliver until `stop` is set (or, with until_idle, until a cycle finds nothing)."""
    totals = totals if totals is not None else CycleStats()
    while not stop.is_set():
        try:
            worker = Messaging(ws, clock).worker()
        except Exception:
            if until_idle:
                raise
            metrics.LOOP_ERRORS.labels("delivery").inc()
            log.exception("delivery worker cannot start; retrying in %.0f s", ERROR_PAUSE_SECONDS)
            await _pause(stop, ERROR_PAUSE_SECONDS)
            continue
        try:
            while not stop.is_set():
                started = time.perf_counter()
                stats = await worker.run_once()
                seconds = time.perf_counter() - started
                metrics.record_cycle(stats, seconds)
                totals.add(stats)
                if stats.claimed:
                    log.info(
                        "delivery cycle",
                        extra={
                            "claimed": stats.claimed,
                            "sent": stats.sent,
                            "retrying": stats.retrying,
                            "failed": stats.failed,
                            "suppressed": stats.suppressed,
                            "seconds": round(seconds, 3),
                        },
                    )
                elif until_idle:
                    return totals
                else:
                    await _pause(stop, idle_seconds)
        except Exception:
            # A broken configuration or an unreachable database must not end the process;
            # rows claimed by the failed cycle come back when their lease runs out. A
            # drain (until_idle) is a one-off: it fails instead.
            if until_idle:
                raise
            metrics.LOOP_ERRORS.labels("delivery").inc()
            log.exception("delivery cycle failed; retrying in %.0f s", ERROR_PAUSE_SECONDS)
            await _pause(stop, ERROR_PAUSE_SECONDS)
        finally:
            await worker.aclose()
    return totals


def run_tick(settings: Settings, clock: Clock) -> None:
    """One scenario tick in a workspace of its own (see the module docstring)."""
    from tokui.scenarios.engine import Engine

    ws = Workspace(settings)
    try:
        started = time.perf_counter()
        stats = Engine(Messaging(ws, clock), clock).tick()
        seconds = time.perf_counter() - started
    finally:
        ws.close()
    metrics.TICK_SECONDS.observe(seconds)
    for what in ("enrolled", "advanced", "queued", "held", "skipped"):
        metrics.TICK_WORK.labels(what).inc(getattr(stats, what))
    log.info(
        "scenario tick",
        extra={
            "enrolled": stats.enrolled,
            "advanced": stats.advanced,
            "queued": stats.queued,
            "held": stats.held,
            "seconds": round(seconds, 3),
        },
    )


async def tick_loop(
    settings: Settings, clock: Clock, stop: asyncio.Event, every: float, totals: WorkerTotals
) -> None:
    """A tick every `every` seconds, counted from the start of the previous one."""
    while not stop.is_set():
        started = time.monotonic()
        try:
            await asyncio.to_thread(run_tick, settings, clock)
            totals.ticks += 1
        except Exception:
            totals.tick_errors += 1
            metrics.LOOP_ERRORS.labels("scenarios").inc()
            log.exception("scenario tick failed; the next one runs as scheduled")
        await _pause(stop, max(0.0, every - (time.monotonic() - started)))


async def run_worker(
    settings: Settings,
    options: WorkerOptions,
    stop: asyncio.Event,
    clock: Clock | None = None,
) -> WorkerTotals:
    """Run until `stop` is set; with `until_idle`, one tick and then delivery until nothing
    is due (a drain, for tests and one-off runs)."""
    if not (options.delivery or options.scenarios):
        raise ValueError("a worker with neither delivery nor scenarios has nothing to do")
    clock = clock or SystemClock()
    totals = WorkerTotals()
    ws = Workspace(settings)
    try:
        if options.until_idle:
            if options.scenarios:
                await asyncio.to_thread(run_tick, settings, clock)
                totals.ticks += 1
            if options.delivery:
                await delivery_loop(ws, clock, stop, until_idle=True, totals=totals.delivery)
            return totals
        loops: list[Coroutine[Any, Any, Any]] = []
        if options.delivery:
            loops.append(
                delivery_loop(ws, clock, stop, options.idle_seconds, False, totals.delivery)
            )
        if options.scenarios:
            loops.append(tick_loop(settings, clock, stop, options.tick_seconds, totals))
        await asyncio.gather(*loops)
    finally:
        ws.close()
    return totals

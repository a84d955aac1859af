"""Step registry and runner of the refresh pipeline."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ibis.backends import BaseBackend
from sqlalchemy.orm import Session, sessionmaker

from tokui.clock import Clock, utc_naive
from tokui.state.db import session_scope
from tokui.state.models import RefreshRun
from tokui.workspace import Workspace


@dataclass(frozen=True)
class RefreshContext:
    """What a step may use: the warehouse, the state DB and the clock."""

    warehouse: BaseBackend
    sessions: sessionmaker[Session]
    clock: Clock
    home: Path


StepFn = Callable[[RefreshContext], int]
"""A step reads and writes the stores and returns the number of rows it produced."""


@dataclass(frozen=True)
class Step:
    name: str
    fn: StepFn
    description: str


@dataclass
class StepResult:
    name: str
    rows: int
    seconds: float


@dataclass
class RefreshResult:
    run_id: int
    steps: list[StepResult] = field(default_factory=list)


_STEPS: list[Step] = []


def refresh_step(name: str, description: str) -> Callable[[StepFn], StepFn]:
    def register(fn: StepFn) -> StepFn:
        if any(s.name == name for s in _STEPS):
            raise ValueError(f"refresh step {name!r} registered twice")
        _STEPS.append(Step(name, fn, description))
        return fn

    return register


def steps() -> list[Step]:
    _load_builtin_steps()
    return list(_STEPS)


def _load_builtin_steps() -> None:
    # Importing the modules registers their steps, in this order: stitching first, so
    # that features see the web events it attributes.
    import tokui.ingest.stitch
    import tokui.messaging.events
    import tokui.refresh.features
    import tokui.refresh.models
    import tokui.refresh.sales
    import tokui.refresh.segments  # noqa: F401


def run_refresh(
    ws: Workspace, clock: Clock, on_step: Callable[[Step], None] | None = None
) -> RefreshResult:
    with session_scope(ws.sessions) as session:
        run = RefreshRun(started_at=utc_naive(clock.now()), status="running")
        session.add(run)
        session.flush()
        run_id = run.id
    result = RefreshResult(run_id)
    ctx = RefreshContext(ws.warehouse, ws.sessions, clock, ws.home)
    try:
        for step in steps():
            if on_step:
                on_step(step)
            t0 = time.perf_counter()
            rows = step.fn(ctx)
            result.steps.append(StepResult(step.name, rows, time.perf_counter() - t0))
    except Exception as exc:
        _finish(ws, run_id, clock, "failed", {"step": step.name, "error": str(exc)})
        raise
    _finish(ws, run_id, clock, "ok", {s.name: s.rows for s in result.steps})
    return result


def _finish(ws: Workspace, run_id: int, clock: Clock, status: str, detail: object) -> None:
    with session_scope(ws.sessions) as session:
        run = session.get(RefreshRun, run_id)
        assert run is not None
        run.status = status
        run.finished_at = utc_naive(clock.now())
        run.detail = json.dumps(detail, ensure_ascii=False)

"""The delivery worker inside `tokui serve`: the embedded mode's single process owns the
workspace, so it also delivers the outbox (DESIGN: web app, scheduler and delivery worker
in one process). With PostgreSQL, separate `tokui worker` processes can share the work
instead (`tokui serve --no-delivery`); all of them claim with row locks.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import FastAPI

from tokui.clock import Clock, SystemClock
from tokui.workspace import Workspace


def run_worker_in_app(app: FastAPI, ws: Workspace, clock: Clock | None = None) -> None:
    """Wrap the app's lifespan so a delivery worker runs while the app serves."""
    inner: Callable[[Any], contextlib.AbstractAsyncContextManager[Any]] = (
        app.router.lifespan_context
    )

    @contextlib.asynccontextmanager
    async def lifespan(application: Any) -> AsyncIterator[Any]:
        async with inner(application) as state:
            stop = asyncio.Event()
            task = asyncio.create_task(_deliver(ws, clock or SystemClock(), stop))
            try:
                yield state
            finally:
                stop.set()
                await task

    app.router.lifespan_context = lifespan


async def _deliver(ws: Workspace, clock: Clock, stop: asyncio.Event) -> None:
    # The same loop as `tokui worker`'s (tokui.ops.runner): it logs and outlives errors,
    # so a broken configuration or an unreachable database never takes the web app down,
    # and it feeds the /metrics counters.
    from tokui.ops.runner import delivery_loop

    await delivery_loop(ws, clock, stop)

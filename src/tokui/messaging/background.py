"""The delivery worker inside `tokui serve`: the embedded mode's single process owns the
workspace, so it also delivers the outbox (DESIGN: web app, scheduler and delivery worker
in one process). With PostgreSQL, separate `tokui outbox run` processes can share the
work instead; both claim with row locks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import FastAPI

from tokui.clock import Clock, SystemClock
from tokui.messaging.service import Messaging
from tokui.workspace import Workspace

log = logging.getLogger("tokui.messaging")


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
    while not stop.is_set():
        try:
            worker = Messaging(ws, clock).worker()
            try:
                await worker.run(stop)
            finally:
                await worker.aclose()
        except Exception:
            # A broken configuration or an unreachable database must not take the web app
            # down; the error is logged and the worker tries again in a minute.
            log.exception("delivery worker stopped; restarting in 60 s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=60)

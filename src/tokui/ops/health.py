"""Liveness and readiness.

Liveness (`/healthz`) says only that the process answers HTTP: a supervisor restarts a
process that stops answering, and a database outage must not make every web process
restart at once. Readiness (`/readyz`) says whether this process can serve: the state DB
and the warehouse both answer a trivial query. A load balancer stops sending requests to
a process that is not ready.

The answers name which store failed and nothing else: error text (host names, user
names) goes to the log, not to an unauthenticated endpoint.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import ibis
from sqlalchemy import text

from tokui.workspace import Workspace

log = logging.getLogger("tokui.ops")
LOCK_WAIT_SECONDS = 2.0


@dataclass(frozen=True)
class Readiness:
    state: str  # ok | fail
    warehouse: str  # ok | busy | fail

    @property
    def ready(self) -> bool:
        return self.state == "ok" and self.warehouse in ("ok", "busy")

    def as_dict(self) -> dict[str, str]:
        return {"status": "ready" if self.ready else "not ready", **self.__dict__}


def check_state(ws: Workspace) -> str:
    try:
        with ws.engine.connect() as con:
            con.execute(text("SELECT 1"))
    except Exception:
        log.exception("readiness: the state DB did not answer")
        return "fail"
    return "ok"


def check_warehouse(ws: Workspace, lock: threading.Lock) -> str:
    """One trivial query on the warehouse connection. In the web process that connection
    is shared under `lock`; a long analysis holding it shows the warehouse works, so
    "busy" counts as ready rather than making the probe wait for it."""
    if not lock.acquire(timeout=LOCK_WAIT_SECONDS):
        return "busy"
    try:
        ws.warehouse.execute(ibis.literal(1))
    except Exception:
        log.exception("readiness: the warehouse did not answer")
        # A connection to a server that restarted stays broken; the next probe (and the
        # next page) connects anew instead.
        ws.drop_warehouse()
        return "fail"
    finally:
        lock.release()
    return "ok"


def readiness(ws: Workspace, lock: threading.Lock) -> Readiness:
    return Readiness(state=check_state(ws), warehouse=check_warehouse(ws, lock))

"""What every request handler needs from the application, kept on app.state."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from starlette.requests import Request

from tokui.clock import Clock
from tokui.web.auth import LoginThrottle, RevokedSessions
from tokui.workspace import Workspace


@dataclass
class WebContext:
    ws: Workspace
    clock: Clock
    throttle: LoginThrottle
    revoked: RevokedSessions
    # One DuckDB connection serves the whole process and is not safe for concurrent use
    # from the request thread pool.
    warehouse_lock: threading.Lock = field(default_factory=threading.Lock)


def web_context(request: Request) -> WebContext:
    ctx: WebContext = request.app.state.tokui
    return ctx

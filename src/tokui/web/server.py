"""The web app as `tokui serve` runs it: in this process, or in several processes that
uvicorn starts (`tokui serve --workers N`), each building its app with `factory`.

Several processes need stores that several processes may open: PostgreSQL for the state
(the login throttle, logouts and the outbox are shared there) and a server warehouse.
"""

from __future__ import annotations

import os

from fastapi import FastAPI

from tokui.config import Settings, load_settings
from tokui.messaging.background import run_worker_in_app
from tokui.ops.logs import configure
from tokui.web.app import create_app
from tokui.workspace import Workspace

DELIVERY_ENV = "TOKUI_SERVE_DELIVERY"


def build(settings: Settings, delivery: bool) -> tuple[FastAPI, Workspace]:
    ws = Workspace(settings)
    app = create_app(ws)
    if delivery:
        run_worker_in_app(app, ws)  # delivers the outbox while serving
    return app, ws


def multi_process_problem(settings: Settings) -> str | None:
    """Why this workspace cannot be served by several processes, or None."""
    if settings.is_embedded_warehouse:
        return "the warehouse is an embedded DuckDB file, which one process may hold"
    if not settings.state_url.startswith(("postgresql", "postgres")):
        return "the state DB is not PostgreSQL"
    return None


def factory() -> FastAPI:
    """One process's app under `uvicorn --workers`; the workspace comes from TOKUI_HOME."""
    settings = load_settings()
    configure(settings.log_format, settings.log_level)
    app, _ = build(settings, os.environ.get(DELIVERY_ENV, "1") == "1")
    return app

"""An app with two API sources (a secret one, a public one) on a fresh workspace.

`api` runs on each warehouse backend (DuckDB, PostgreSQL); `duck_api` only on DuckDB,
for checks that never reach the warehouse's write path.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tokui.clock import FixedClock
from tokui.state.api_sources import SourceKind, create_source
from tokui.state.db import session_scope
from tokui.web.app import create_app
from tokui.web.context import WebContext
from tokui.workspace import Workspace, init_workspace

NOW = datetime(2025, 6, 1, 3, 0, tzinfo=UTC)
SHOP_ORIGIN = "https://shop.example"
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "admin-password-123"


@dataclass
class Api:
    ws: Workspace
    app: FastAPI
    client: TestClient
    clock: FixedClock
    secret: str
    public: str

    @property
    def auth(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.secret}"}

    @property
    def ctx(self) -> WebContext:
        ctx: WebContext = self.app.state.tokui
        return ctx

    def rows(self, table: str, order_by: str | list[str]) -> list[dict[str, Any]]:
        with self.ctx.warehouse_lock:
            t = self.ws.warehouse.table(table)
            rows: list[dict[str, Any]] = t.order_by(order_by).to_pyarrow().to_pylist()
            return rows

    def count(self, table: str) -> int:
        with self.ctx.warehouse_lock:
            return int(self.ws.warehouse.table(table).count().execute())

    def post_events(self, events: list[dict[str, Any]], **kw: Any) -> Any:
        headers = kw.pop("headers", self.auth)
        return self.client.post("/api/v1/events", json={"events": events}, headers=headers, **kw)


def _make(home: Path, monkeypatch: pytest.MonkeyPatch, warehouse_url: str | None) -> Iterator[Api]:
    if warehouse_url is not None:
        monkeypatch.setenv("TOKUI_WAREHOUSE_URL", warehouse_url)
    ws = init_workspace(home, ADMIN_EMAIL, ADMIN_PASSWORD)
    created = NOW.replace(tzinfo=None)
    with session_scope(ws.sessions) as s:
        _, secret = create_source(s, "cart", SourceKind.secret, created)
        _, public = create_source(s, "shop-web", SourceKind.public, created, [SHOP_ORIGIN])
    clock = FixedClock(NOW)
    app = create_app(ws, clock)
    with TestClient(app, base_url="http://testserver") as client:
        yield Api(ws, app, client, clock, secret, public)
    ws.close()


@pytest.fixture
def api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, warehouse_url: str) -> Iterator[Api]:
    yield from _make(tmp_path / "ws", monkeypatch, warehouse_url)


@pytest.fixture
def duck_api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    monkeypatch.delenv("TOKUI_WAREHOUSE_URL", raising=False)
    yield from _make(tmp_path / "ws", monkeypatch, None)


def event(event_id: str, event_type: str = "page_view", **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "event_id": event_id,
        "occurred_at": "2025-05-31T10:00:00+09:00",
        "event_type": event_type,
        "anonymous_id": "anon-1",
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}

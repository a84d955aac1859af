"""`tokui serve` runs the delivery worker beside the web app (embedded mode)."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient
from sqlalchemy import select

from tokui.clock import FixedClock
from tokui.messaging.background import run_worker_in_app
from tokui.messaging.service import Messaging, Recipient
from tokui.messaging.store import get_template, get_version
from tokui.state.db import session_scope
from tokui.state.messages import OutboxMessage, SandboxInboxMessage
from tokui.web.app import create_app


def test_worker_delivers_while_the_app_serves(messaging: Messaging, clock: FixedClock) -> None:
    ws = messaging.ws
    data = messaging.customers(["c1"])["c1"]
    app = create_app(ws, clock)
    run_worker_in_app(app, ws, clock)
    with TestClient(app) as client:
        with session_scope(ws.sessions) as db:
            template = get_template(db, "welcome")
            assert template is not None
            [row] = messaging.queue(
                db, template, get_version(db, template),
                [Recipient("c1", "taro@example.jp", data)], "serve",
            )  # fmt: skip
        deadline = time.monotonic() + 15
        status = "queued"
        while status != "sent" and time.monotonic() < deadline:
            time.sleep(0.1)
            with session_scope(ws.sessions) as db:
                found = db.get(OutboxMessage, row.id)
                assert found is not None
                status = found.status
        assert client.get("/healthz").status_code == 200
    assert status == "sent"
    with session_scope(ws.sessions) as db:
        captured = db.scalars(select(SandboxInboxMessage.recipient)).all()
    assert captured == ["taro@example.jp"]

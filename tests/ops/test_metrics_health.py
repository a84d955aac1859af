"""/metrics (token-protected Prometheus text), /readyz, and the JSON log format."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from tokui.clock import FixedClock, utc_naive
from tokui.config import load_settings
from tokui.messaging.outbox import enqueue
from tokui.messaging.worker import CycleStats
from tokui.ops import metrics
from tokui.ops.logs import JSONFormatter, redact
from tokui.state.db import session_scope
from tokui.state.messages import OutboxMessage
from tokui.web.app import create_app
from tokui.workspace import Workspace, init_workspace

NOW = datetime(2025, 12, 31, 3, tzinfo=UTC)
TOKEN = "metrics-token-0123456789"


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    monkeypatch.setenv("TOKUI_METRICS_TOKEN", TOKEN)
    init_workspace(tmp_path / "ws", "admin@example.com", "admin-password-123").close()
    workspace = Workspace.open(tmp_path / "ws")
    yield workspace
    workspace.close()


@pytest.fixture
def client(ws: Workspace) -> Iterator[TestClient]:
    with TestClient(create_app(ws, FixedClock(NOW))) as c:
        yield c


def _queue(ws: Workspace) -> None:
    """Two e-mails queued 10 minutes ago, one LINE message waiting for its retry."""
    queued_at = utc_naive(NOW - timedelta(minutes=10))
    with session_scope(ws.sessions) as db:
        for i, channel in enumerate(["email", "email", "line"]):
            enqueue(db, idempotency_key=f"k{i}", channel=channel, recipient=f"u{i}@example.jp",
                    customer_id=f"c{i}", now=queued_at)  # fmt: skip
        db.execute(
            update(OutboxMessage)
            .where(OutboxMessage.channel == "line")
            .values(status="failed_temp", next_attempt_at=utc_naive(NOW + timedelta(hours=1)))
        )


def _samples(text: str) -> dict[str, float]:
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


def test_metrics_need_the_token(client: TestClient, ws: Workspace) -> None:
    _queue(ws)
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert wrong.headers["www-authenticate"] == 'Bearer realm="tokui-metrics"'
    r = client.get("/metrics", headers={"authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    samples = _samples(r.text)
    assert {k: v for k, v in samples.items() if k.startswith("tokui_outbox")} == {
        'tokui_outbox_messages{channel="email",status="queued"}': 2.0,
        'tokui_outbox_messages{channel="line",status="failed_temp"}': 1.0,
        "tokui_outbox_oldest_due_seconds": 600.0,
    }
    assert samples["tokui_state_db_up"] == 1.0
    assert samples['tokui_scenario_enrollments_due{status="active"}'] == 0.0
    assert samples['tokui_build_info{version="0.1.0"}'] == 1.0


def test_metrics_are_off_without_a_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOKUI_METRICS_TOKEN", raising=False)
    init_workspace(tmp_path / "ws").close()
    ws = Workspace.open(tmp_path / "ws")
    with TestClient(create_app(ws, FixedClock(NOW))) as client:
        r = client.get("/metrics", headers={"authorization": "Bearer "})
    ws.close()
    assert r.status_code == 404


def test_cycle_counters_by_channel_and_result() -> None:
    def value(channel: str, result: str) -> float:
        labels = {"channel": channel, "result": result}
        return metrics.REGISTRY.get_sample_value("tokui_delivery_messages_total", labels) or 0.0

    before = (value("email", "sent"), value("email", "failed"), value("line", "suppressed"))
    cycles = metrics.REGISTRY.get_sample_value("tokui_delivery_cycle_seconds_count") or 0.0
    stats = CycleStats(claimed=6)
    for channel, result in [("email", "sent")] * 4 + [("email", "failed"), ("line", "suppressed")]:
        stats.count(channel, result)
    metrics.record_cycle(stats, 0.5)
    after = (value("email", "sent"), value("email", "failed"), value("line", "suppressed"))
    assert [a - b for a, b in zip(after, before, strict=True)] == [4.0, 1.0, 1.0]
    assert metrics.REGISTRY.get_sample_value("tokui_delivery_cycle_seconds_count") == cycles + 1


def test_ready_when_both_stores_answer(client: TestClient) -> None:
    r = client.get("/readyz")
    assert (r.status_code, r.json()) == (
        200,
        {"status": "ready", "state": "ok", "warehouse": "ok"},
    )
    assert client.get("/healthz").json() == {"status": "ok"}


def test_not_ready_names_the_store_but_not_the_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    init_workspace(tmp_path / "ws").close()
    # Port 1 on the loopback: refused at once.
    settings = load_settings(
        tmp_path / "ws",
        state_url="postgresql+psycopg://tokui@127.0.0.1:1/state",
        warehouse_url="postgres://tokui@127.0.0.1:1/warehouse",
    )
    ws = Workspace(settings)
    with TestClient(create_app(ws, FixedClock(NOW))) as client:
        r = client.get("/readyz")
        assert client.get("/healthz").status_code == 200
        metrics_r = client.get("/metrics", headers={"authorization": "Bearer x"})
    ws.close()
    assert (r.status_code, r.json()) == (
        503,
        {"status": "not ready", "state": "fail", "warehouse": "fail"},
    )
    assert "127.0.0.1" not in r.text
    assert "readiness: the state DB did not answer" in caplog.text
    assert metrics_r.status_code == 404  # no token configured


def test_metrics_say_when_the_state_db_is_down(tmp_path: Path) -> None:
    ws = Workspace(
        load_settings(tmp_path, state_url="postgresql+psycopg://tokui@127.0.0.1:1/state")
    )
    text = metrics.render(metrics.StateCollector(ws.sessions, FixedClock(NOW))).decode()
    ws.close()
    assert _samples(text)["tokui_state_db_up"] == 0.0
    assert "tokui_outbox_messages{" not in text


def test_json_log_lines() -> None:
    formatter = JSONFormatter()
    record = logging.LogRecord("tokui.worker", logging.INFO, __file__, 1, "delivery cycle",
                               None, None)  # fmt: skip
    record.created = datetime(2026, 1, 5, 3, 0, 0, 123000, tzinfo=UTC).timestamp()
    record.sent = 1000
    record.seconds = 0.84
    line = json.loads(formatter.format(record))
    assert line == {
        "ts": "2026-01-05T03:00:00.123Z",
        "level": "INFO",
        "logger": "tokui.worker",
        "message": "delivery cycle",
        "pid": record.process,
        "sent": 1000,
        "seconds": 0.84,
    }
    access = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("10.0.0.9:5000", "POST", "/api/v1/events?key=pk_live_abc&x=1", "1.1", 202), None,
    )  # fmt: skip
    fields = json.loads(formatter.format(access))
    assert {k: fields[k] for k in ("message", "client", "method", "path", "status")} == {
        "message": "request",
        "client": "10.0.0.9:5000",
        "method": "POST",
        "path": "/api/v1/events?key=***&x=1",
        "status": 202,
    }


def test_error_lines_carry_the_traceback() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        record = logging.LogRecord("tokui", logging.ERROR, __file__, 1, "failed", None,
                                   __import__("sys").exc_info())  # fmt: skip
    line = json.loads(JSONFormatter().format(record))
    assert line["level"] == "ERROR"
    assert line["exc"].startswith("Traceback") and line["exc"].endswith("RuntimeError: boom")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/t/c/abc?token=s3cr3t", "/t/c/abc?token=***"),
        ("/x?a=1&KEY=k&b=2", "/x?a=1&KEY=***&b=2"),
        ("/x?monkey=1", "/x?monkey=1"),
    ],
)
def test_redaction(path: str, expected: str) -> None:
    assert redact(path) == expected


def test_a_broken_warehouse_connection_is_replaced(ws: Workspace) -> None:
    """A connection to a warehouse server that restarted stays broken; readiness drops
    it, so the next probe (and the next page) connects anew."""
    import threading

    from tokui.ops.health import readiness

    class Broken:
        def execute(self, expr: object) -> None:
            raise ConnectionError("server closed the connection unexpectedly")

        def disconnect(self) -> None:
            raise ConnectionError("already closed")

    ws._warehouse = Broken()  # type: ignore[assignment]
    lock = threading.Lock()
    assert readiness(ws, lock).warehouse == "fail"
    assert readiness(ws, lock).warehouse == "ok"

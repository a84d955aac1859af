"""`tokui worker`'s loops, its refusals, and `tokui db upgrade` / `tokui db current`."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tests.scenarios.shop import NOW, build
from tests.scenarios.test_engine import install
from tokui.cli import app
from tokui.clock import FixedClock
from tokui.ops import metrics
from tokui.ops.runner import WorkerOptions, run_worker
from tokui.state.db import session_scope
from tokui.state.messages import OutboxMessage, SandboxInboxMessage

runner = CliRunner()


def test_one_tick_then_delivery_until_idle(tmp_path: Path) -> None:
    ws = build(tmp_path / "ws")
    clock = FixedClock(NOW.replace(hour=0, minute=30))
    steps = [
        {
            "id": "mail",
            "type": "send",
            "channel": "email",
            "template": "sc-mail",
            "fallback_channel": "line",
            "fallback_template": "sc-line",
        }
    ]
    install(ws, clock, steps=steps)
    clock.set(NOW.replace(hour=3))
    sent_before = metrics.REGISTRY.get_sample_value(
        "tokui_delivery_messages_total", {"channel": "line", "result": "sent"}
    )
    ticks_before = metrics.REGISTRY.get_sample_value("tokui_scenario_tick_seconds_count")

    totals = asyncio.run(
        run_worker(ws.settings, WorkerOptions(until_idle=True), asyncio.Event(), clock)
    )

    # c2's abandoned cart (01:00) enters; without e-mail consent the LINE fallback goes,
    # and the same process delivers it (sandbox: captured, not sent).
    assert (totals.ticks, totals.tick_errors, totals.delivery.sent) == (1, 0, 1)
    with session_scope(ws.sessions) as db:
        rows = db.execute(select(OutboxMessage.idempotency_key, OutboxMessage.status)).all()
        captured = db.scalars(select(SandboxInboxMessage.channel)).all()
    assert [tuple(r) for r in rows] == [("sc:cart:v1:mail:cart:2026-01-05T01:00:00:c2", "sent")]
    assert captured == ["line"]
    after = metrics.REGISTRY.get_sample_value(
        "tokui_delivery_messages_total", {"channel": "line", "result": "sent"}
    )
    assert (after or 0) - (sent_before or 0) == 1
    assert metrics.REGISTRY.get_sample_value("tokui_scenario_tick_seconds_count") == (
        (ticks_before or 0) + 1
    )
    ws.close()


def test_worker_with_nothing_to_do_is_refused(tmp_path: Path) -> None:
    r = runner.invoke(
        app, ["worker", "--home", str(tmp_path), "--no-delivery", "--no-scenarios", "--once"]
    )
    assert r.exit_code == 1
    assert "--no-delivery and --no-scenarios together leave nothing to do" in r.output


@contextmanager
def served(home: Path) -> Iterator[None]:
    """The workspace lock held by another process, as `tokui serve` holds it."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(home / "server.lock")],
        stdout=subprocess.PIPE,
        stdin=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        yield
    finally:
        holder.kill()
        holder.wait()


HOLD_LOCK = """
import sys
from pathlib import Path
from tokui.workspace import ServerLock
lock = ServerLock(Path(sys.argv[1]))
lock.acquire()
print("held", flush=True)
sys.stdin.read()
"""


def test_ticks_beside_a_server_holding_duckdb_are_refused(tmp_path: Path) -> None:
    home = tmp_path / "ws"
    build(home).close()
    with served(home):
        r = runner.invoke(app, ["worker", "--home", str(home), "--once"])
        assert r.exit_code == 1
        assert "run this worker with --no-scenarios" in " ".join(r.output.split())
        # Delivery alone touches only the state DB and may run beside the server.
        r = runner.invoke(app, ["worker", "--home", str(home), "--once", "--no-scenarios"])
        assert r.exit_code == 0, r.output


def test_a_configuration_no_cycle_can_use_is_refused(tmp_path: Path) -> None:
    home = tmp_path / "ws"
    home.mkdir()
    (home / "tokui.toml").write_text('[email]\npassword = "x"\n', encoding="utf-8")
    r = runner.invoke(app, ["worker", "--home", str(home), "--once", "--no-scenarios"])
    assert r.exit_code == 1
    assert "keep the SMTP password out of the file" in " ".join(r.output.split())


def test_db_upgrade_and_current(tmp_path: Path) -> None:
    from tokui.state.db import head_revision, make_engine

    home = tmp_path / "ws"
    home.mkdir()
    engine = make_engine(f"sqlite:///{home / 'state.db'}")
    head = head_revision(engine)
    engine.dispose()
    r = runner.invoke(app, ["db", "current", "--home", str(home)])
    assert (r.exit_code, r.output) == (1, f"empty\thead {head}\n")
    r = runner.invoke(app, ["db", "upgrade", "--home", str(home), "--revision", "0013"])
    assert r.exit_code == 0, r.output
    assert r.output.strip() == f"state DB upgraded from empty to 0013 (head {head})"
    r = runner.invoke(app, ["db", "upgrade", "--home", str(home)])
    assert r.output.strip() == f"state DB upgraded from 0013 to {head} (head {head})"
    r = runner.invoke(app, ["db", "upgrade", "--home", str(home)])
    assert r.output.strip() == f"state DB already at {head} (head {head})"
    r = runner.invoke(app, ["db", "current", "--home", str(home)])
    assert (r.exit_code, r.output) == (0, f"{head}\thead {head}\n")


def test_db_upgrade_refuses_sqlite_while_served(tmp_path: Path) -> None:
    home = tmp_path / "ws"
    home.mkdir()
    with served(home):
        r = runner.invoke(app, ["db", "upgrade", "--home", str(home)])
    assert r.exit_code == 1
    assert "is served by pid" in r.output
    assert not (home / "state.db").exists()


@pytest.mark.parametrize(
    ("warehouse", "state", "problem"),
    [
        ("", "", "the warehouse is an embedded DuckDB file"),
        ("postgres://tokui@127.0.0.1:5432/w", "", "the state DB is not PostgreSQL"),
    ],
)
def test_several_web_processes_need_server_stores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, warehouse: str, state: str, problem: str
) -> None:
    monkeypatch.setenv("TOKUI_SECRET_KEY", "k" * 32)
    if warehouse:
        monkeypatch.setenv("TOKUI_WAREHOUSE_URL", warehouse)
    r = runner.invoke(app, ["serve", "--home", str(tmp_path), "--workers", "2"])
    assert r.exit_code == 1
    assert f"--workers 2: {problem}" in " ".join(r.output.split())


def test_a_metrics_port_in_use_is_named(tmp_path: Path) -> None:
    import socket

    (tmp_path / "tokui.toml").write_text('secret_key = "a-secret-for-this-test"\n')
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = runner.invoke(
            app,
            ["worker", "--home", str(tmp_path), "--once", "--no-scenarios",
             "--metrics-port", str(port)],
        )  # fmt: skip
    assert r.exit_code == 1
    assert f"--metrics-port {port} on 127.0.0.1: Address already in use" in r.output

"""Several web processes on one PostgreSQL state DB behave as one: a logout in one ends
the session in all of them, and failed logins count across them.

Two apps, each with its own Workspace (own engine and connection pool), stand in for two
processes: they share nothing but the database, as processes do. A last test starts
`tokui serve --workers 2` for real and asks it whether it is ready.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import csrf_from, login
from tokui.clock import FixedClock
from tokui.config import load_settings
from tokui.web.app import create_app
from tokui.web.auth import SESSION_COOKIE
from tokui.workspace import Workspace, init_workspace

pytestmark = pytest.mark.postgres

NOW = datetime(2025, 12, 31, 3, tzinfo=UTC)
ADMIN = ("admin@example.com", "admin-password-123")


def _home(tmp_path: Path, state: str, warehouse: str | None = None) -> Path:
    home = tmp_path / "ws"
    home.mkdir()
    lines = [f'state_url = "{state}"', 'secret_key = "shared-secret-of-all-processes"']
    if warehouse:
        lines.append(f'warehouse_url = "{warehouse}"')
    (home / "tokui.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    init_workspace(home, *ADMIN).close()
    return home


@pytest.fixture
def two_processes(pg_clean: str, tmp_path: Path) -> Iterator[tuple[TestClient, TestClient]]:
    home = _home(tmp_path, pg_clean.replace("postgresql://", "postgresql+psycopg://"))
    spaces = [Workspace(load_settings(home)) for _ in range(2)]
    clock = FixedClock(NOW)
    with (
        TestClient(create_app(spaces[0], clock)) as a,
        TestClient(create_app(spaces[1], clock)) as b,
    ):
        yield a, b
    for ws in spaces:
        ws.close()


def _signed_in(client: TestClient) -> bool:
    return client.get("/settings/users", follow_redirects=False).status_code == 200


def test_logout_in_one_process_ends_the_session_in_the_other(
    two_processes: tuple[TestClient, TestClient],
) -> None:
    a, b = two_processes
    assert login(a, *ADMIN).status_code == 303
    cookie = a.cookies.get(SESSION_COOKIE)
    assert cookie
    b.cookies.set(SESSION_COOKIE, cookie)
    assert (_signed_in(a), _signed_in(b)) == (True, True)
    token = csrf_from(a.get("/settings/users").text)
    assert a.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    b.cookies.set(SESSION_COOKIE, cookie)  # the copy taken before logout
    assert _signed_in(b) is False


def test_failed_logins_count_across_processes(
    two_processes: tuple[TestClient, TestClient],
) -> None:
    a, b = two_processes
    codes = [login(client, ADMIN[0], "wrong-password-xx").status_code for client in (a, b) * 2]
    codes.append(login(a, ADMIN[0], "wrong-password-xx").status_code)
    assert codes == [400] * 5
    # The sixth try, in the other process, meets the lock even with the right password.
    locked = login(b, *ADMIN)
    assert locked.status_code == 429


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_serve_with_two_processes(pg_database: str, tmp_path: Path) -> None:
    """Both stores on PostgreSQL (a schema each is enough for this check)."""
    import psycopg

    with psycopg.connect(pg_database, autocommit=True) as con:
        con.execute("DROP SCHEMA public CASCADE")
        con.execute("CREATE SCHEMA public")
    state = pg_database.replace("postgresql://", "postgresql+psycopg://")
    home = _home(tmp_path, state, pg_database.replace("postgresql://", "postgres://"))
    port = _free_port()
    env = {**os.environ, "TOKUI_LOG_FORMAT": "json"}
    server = subprocess.Popen(
        [sys.executable, "-c", "from tokui.cli import app; app()", "serve", "--home", str(home),
         "--port", str(port), "--workers", "2", "--no-delivery"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        ready = None
        while time.monotonic() < deadline and ready is None:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
            except httpx.TransportError:
                time.sleep(0.5)
        assert ready is not None, "the server did not answer within 120 s"
        assert (ready.status_code, ready.json()) == (
            200,
            {"status": "ready", "state": "ok", "warehouse": "ok"},
        )
    finally:
        server.send_signal(signal.SIGTERM)
        _, log = server.communicate(timeout=60)
    starts = [line for line in log.splitlines() if '"Started server process' in line]
    assert len(starts) == 2, log  # two web processes, each logging as JSON

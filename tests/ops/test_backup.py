"""`tokui backup` and `tokui restore`: back up, change things, restore, compare.

On the embedded stores (SQLite + DuckDB) and on PostgreSQL for both (pg_dump and
pg_restore, a database each).
"""

from __future__ import annotations

import json
import stat
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import inspect, text
from typer.testing import CliRunner

from tests.messaging.shop import load_messaging_shop
from tokui.cli import app
from tokui.state.db import head_revision, session_scope
from tokui.state.models import Role
from tokui.state.users import create_user
from tokui.workspace import Workspace, init_workspace

runner = CliRunner()


def _state_rows(ws: Workspace) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    with ws.engine.connect() as con:
        for table in sorted(inspect(con).get_table_names()):
            rows = con.execute(text(f'SELECT * FROM "{table}"')).all()
            out[table] = sorted(tuple(map(str, r)) for r in rows)
    return out


def _warehouse_rows(ws: Workspace) -> dict[str, list[tuple[Any, ...]]]:
    con = ws.warehouse
    out = {}
    for table in sorted(con.list_tables()):
        df = con.table(table).to_pandas()
        out[table] = sorted(tuple(map(str, r)) for r in df.itertuples(index=False))
    return out


def snapshot(home: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    ws = Workspace.open(home)
    try:
        return _state_rows(ws), _warehouse_rows(ws)
    finally:
        ws.close()


def build(home: Path, config: str = "") -> None:
    home.mkdir()
    (home / "tokui.toml").write_text('secret_key = "backup-test-secret"\n' + config, "utf-8")
    ws = init_workspace(home, "admin@example.com", "admin-password-123")
    load_messaging_shop(ws.warehouse)
    ws.close()


def mutate(home: Path) -> None:
    ws = Workspace.open(home)
    with session_scope(ws.sessions) as db:
        create_user(db, "late@example.com", "late-user-password", Role.viewer)
    ws.warehouse.raw_sql("DELETE FROM customers WHERE customer_id = 'c1'")
    ws.warehouse.create_table("made_after_the_backup", schema={"x": "int64"})
    ws.close()


@pytest.fixture
def pg_warehouse(pg_database: str) -> Iterator[str]:
    """A second database, for a PostgreSQL warehouse beside the PostgreSQL state DB."""
    name = f"tokui_wh_{uuid.uuid4().hex[:10]}"
    admin = pg_database.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as con:
        con.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield pg_database.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(admin, autocommit=True) as con:
        con.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(params=["embedded", "postgres"])
def config(request: pytest.FixtureRequest) -> str:
    if request.param == "embedded":
        return ""
    state: str = request.getfixturevalue("pg_clean")
    warehouse: str = request.getfixturevalue("pg_warehouse")
    return (
        f'state_url = "{state.replace("postgresql://", "postgresql+psycopg://")}"\n'
        f'warehouse_url = "{warehouse.replace("postgresql://", "postgres://")}"\n'
    )


def test_backup_mutate_restore_compare(tmp_path: Path, config: str) -> None:
    home = tmp_path / "ws"
    build(home, config)
    before = snapshot(home)
    assert before[1]["customers"] and "users" in before[0]

    r = runner.invoke(app, ["backup", str(tmp_path / "backups"), "--home", str(home)])
    assert r.exit_code == 0, r.output
    folder = Path(r.output.strip())
    assert folder.parent == tmp_path / "backups"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    manifest = json.loads((folder / "manifest.json").read_text())
    kinds = {name: entry["kind"] for name, entry in manifest["stores"].items()}
    expected_kinds = (
        {"state": "sqlite", "warehouse": "duckdb"}
        if not config
        else {"state": "postgresql", "warehouse": "postgresql"}
    )
    assert kinds == expected_kinds
    ws = Workspace.open(home)
    assert manifest["stores"]["state"]["revision"] == head_revision(ws.engine)
    ws.close()
    files = sorted(p.name for p in folder.iterdir())
    assert files == sorted(
        ["manifest.json", "tokui.toml"] + [e["file"] for e in manifest["stores"].values()]
    )
    assert {stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()} == {0o600}

    mutate(home)
    changed = snapshot(home)
    assert changed != before
    assert len(changed[0]["users"]) == len(before[0]["users"]) + 1
    assert "made_after_the_backup" in changed[1]

    r = runner.invoke(app, ["restore", str(folder), "--home", str(home), "--yes"])
    assert r.exit_code == 0, r.output
    assert r.output.splitlines()[0] == f"restored state, warehouse from {folder}"
    assert snapshot(home) == before


def test_a_damaged_backup_changes_nothing(tmp_path: Path) -> None:
    home = tmp_path / "ws"
    build(home)
    r = runner.invoke(app, ["backup", str(tmp_path / "b"), "--home", str(home)])
    folder = Path(r.output.strip())
    mutate(home)
    changed = snapshot(home)
    damaged = folder / "warehouse.duckdb"
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    r = runner.invoke(app, ["restore", str(folder), "--home", str(home), "--yes"])
    assert r.exit_code == 1
    assert f"{damaged}: checksum does not match the manifest; it is damaged" in " ".join(
        r.output.split()
    )
    assert snapshot(home) == changed


def test_only_the_state_db_while_another_process_holds_the_warehouse(tmp_path: Path) -> None:
    home = tmp_path / "ws"
    build(home)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_DUCKDB, str(home / "warehouse.duckdb")],
        stdout=subprocess.PIPE, stdin=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "open\n"
        r = runner.invoke(app, ["backup", str(tmp_path / "b"), "--home", str(home)])
        assert r.exit_code == 1
        assert "is open for writing by another process" in " ".join(r.output.split())
        assert list((tmp_path / "b").iterdir()) == []  # no half backup left behind
        r = runner.invoke(
            app, ["backup", str(tmp_path / "b"), "--home", str(home), "--only", "state"]
        )
        assert r.exit_code == 0, r.output
    finally:
        holder.kill()
        holder.wait()
    folder = Path(r.output.strip())
    manifest = json.loads((folder / "manifest.json").read_text())
    assert sorted(manifest["stores"]) == ["state"]
    assert sorted(p.name for p in folder.iterdir()) == ["manifest.json", "state.db", "tokui.toml"]


HOLD_DUCKDB = """
import sys
import duckdb
con = duckdb.connect(sys.argv[1])
print("open", flush=True)
sys.stdin.read()
"""


def test_restore_refuses_a_backup_of_another_kind(tmp_path: Path) -> None:
    home = tmp_path / "ws"
    build(home)
    folder = tmp_path / "fake"
    folder.mkdir()
    (folder / "state.pgdump").write_bytes(b"PGDMP")
    import hashlib

    manifest = {
        "format": 1,
        "created_at": "2026-01-05T03:00:00+00:00",
        "stores": {
            "state": {
                "kind": "postgresql",
                "file": "state.pgdump",
                "sha256": hashlib.sha256(b"PGDMP").hexdigest(),
            }
        },
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    before = snapshot(home)
    r = runner.invoke(app, ["restore", str(folder), "--home", str(home), "--yes"])
    assert r.exit_code == 1
    assert "the backup's state is postgresql, the workspace's is sqlite" in " ".join(
        r.output.split()
    )
    assert snapshot(home) == before

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tokui.cli import app
from tokui.workspace import ServerLock

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "ws"
    result = runner.invoke(
        app,
        ["init", "--home", str(home), "--admin-email", "a@example.com"],
        env={"TOKUI_ADMIN_PASSWORD": "long-enough-pw"},
    )
    assert result.exit_code == 0, result.output
    return home


def test_init_creates_workspace(home: Path) -> None:
    assert (home / "tokui.toml").is_file()
    assert (home / "warehouse.duckdb").is_file()
    assert (home / "state.db").is_file()
    assert 'secret_key = "' in (home / "tokui.toml").read_text(encoding="utf-8")


def test_users_list_text_and_json(home: Path) -> None:
    env = {"TOKUI_NEW_USER_PASSWORD": "another-long-pw"}
    r = runner.invoke(
        app,
        ["users", "create", "m@example.com", "--role", "marketer", "--home", str(home)],
        env=env,
    )
    assert r.exit_code == 0, r.output
    text = runner.invoke(app, ["users", "list", "--home", str(home)])
    assert text.stdout.splitlines() == [
        "1\ta@example.com\tadmin\tTrue",
        "2\tm@example.com\tmarketer\tTrue",
    ]
    js = runner.invoke(app, ["users", "list", "--home", str(home), "--format", "json"])
    assert json.loads(js.stdout) == [
        {"id": 1, "email": "a@example.com", "role": "admin", "active": True},
        {"id": 2, "email": "m@example.com", "role": "marketer", "active": True},
    ]


def test_users_create_rejects_unknown_role_and_short_password(home: Path) -> None:
    env = {"TOKUI_NEW_USER_PASSWORD": "another-long-pw"}
    r = runner.invoke(
        app, ["users", "create", "x@example.com", "--role", "boss", "--home", str(home)], env=env
    )
    assert r.exit_code == 1
    assert "unknown role 'boss'" in r.output
    r = runner.invoke(
        app,
        ["users", "create", "x@example.com", "--home", str(home)],
        env={"TOKUI_NEW_USER_PASSWORD": "short"},
    )
    assert r.exit_code == 1
    assert "at least 10 characters" in r.output


def test_doctor_reports_every_check(home: Path) -> None:
    r = runner.invoke(app, ["doctor", "--home", str(home), "--format", "json"])
    assert r.exit_code == 0, r.output
    checks = {c["check"]: c for c in json.loads(r.stdout)}
    assert set(checks) == {"versions", "workspace", "lock", "warehouse", "state"}
    assert checks["warehouse"]["status"] == "ok"
    assert checks["state"]["status"] == "ok"
    assert "ibis 12." in checks["versions"]["detail"]


def test_doctor_fails_on_missing_workspace(tmp_path: Path) -> None:
    r = runner.invoke(app, ["doctor", "--home", str(tmp_path / "nowhere"), "--format", "json"])
    assert r.exit_code == 1
    checks = {c["check"]: c["status"] for c in json.loads(r.stdout)}
    assert checks["workspace"] == "fail"


def test_writers_refuse_while_server_owns_workspace(home: Path) -> None:
    import subprocess
    import sys

    # flock belongs to an open file: another process holds it, as `tokui serve` would.
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, pathlib; from tokui.workspace import ServerLock; "
            "l = ServerLock(pathlib.Path(sys.argv[1])); l.acquire(); print('held', flush=True); "
            "sys.stdin.read()",
            str(home / "server.lock"),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        r = runner.invoke(app, ["refresh", "--home", str(home)])
        assert r.exit_code == 1
        assert f"served by pid {holder.pid}" in r.output
        doc = runner.invoke(app, ["doctor", "--home", str(home), "--format", "json"])
        lock = {c["check"]: c for c in json.loads(doc.stdout)}["lock"]
        assert lock["status"] == "warn"
    finally:
        holder.communicate("")
    assert ServerLock(home / "server.lock").holder() is None


def test_refresh_builds_daily_sales(home: Path) -> None:
    r = runner.invoke(app, ["refresh", "--home", str(home)])
    assert r.exit_code == 0, r.output
    assert "daily_sales" in r.output


def test_analyze_list_and_run(home: Path) -> None:
    r = runner.invoke(app, ["analyze", "list", "--format", "json"])
    ids = [t["id"] for t in json.loads(r.stdout)]
    assert {"rfm", "cpm", "decile"} <= set(ids)
    r = runner.invoke(app, ["analyze", "run", "cpm", "--home", str(home), "--format", "csv"])
    assert r.exit_code == 0, r.output
    lines = r.stdout.lstrip("\ufeff").splitlines()
    assert lines[0] == "group_order,cpm_group,cpm_status,cpm_label,customers,revenue"
    assert len(lines) == 11  # the ten groups, empty on a new workspace
    r = runner.invoke(app, ["analyze", "run", "rfm", "--home", str(home), "-p", "method=best"])
    assert r.exit_code == 1
    assert "method: 'best' is not one of quintile, thresholds" in r.output


def test_segments_commands(home: Path, tmp_path: Path) -> None:
    from tests.features.shop import load_shop
    from tokui.workspace import Workspace

    ws = Workspace.open(home)
    load_shop(ws.warehouse)
    ws.close()
    assert runner.invoke(app, ["refresh", "--home", str(home)]).exit_code == 0
    listed = runner.invoke(app, ["segments", "list", "--home", str(home), "--format", "json"])
    keys = {r["key"]: r for r in json.loads(listed.stdout)}
    assert keys["one-time-buyers"]["members"] == 1  # n
    shown = runner.invoke(app, ["segments", "show", "one-time-buyers", "--home", str(home)])
    assert "field: frequency" in shown.stdout
    spec = tmp_path / "seg.yaml"
    spec.write_text(
        "key: tokyo\nname_ja: 東京\nname_en: Tokyo\n"
        "condition: {type: compare, field: prefecture, op: eq, value: 東京都}\n",
        encoding="utf-8",
    )
    saved = runner.invoke(app, ["segments", "save", str(spec), "--home", str(home)])
    assert saved.exit_code == 0, saved.output
    assert "saved tokyo version 1: 1 members now" in saved.output
    pv = runner.invoke(app, ["segments", "preview", "tokyo", "--home", str(home)])
    assert pv.stdout.splitlines()[0] == "tokyo\t1\t5\t0.2000"
    out = tmp_path / "dm.csv"
    ex = runner.invoke(
        app,
        ["segments", "export", "tokyo", "-o", str(out), "--channel", "email", "--home", str(home)],
    )
    assert ex.exit_code == 0, ex.output
    text = out.read_text(encoding="utf-8-sig").splitlines()
    assert text[0] == "customer_id,name,name_kana,email,postal_code,prefecture,phone"
    assert text[1].startswith("g,") and text[1].endswith(",東京都,")
    sjis = tmp_path / "dm-sjis.csv"
    args = ["segments", "export", "tokyo", "-o", str(sjis), "--channel", "email"]
    ex = runner.invoke(app, [*args, "--encoding", "shift_jis", "--home", str(home)])
    assert ex.exit_code == 0, ex.output
    assert sjis.read_bytes().decode("cp932").splitlines() == text
    ex = runner.invoke(app, [*args, "--encoding", "latin-1", "--home", str(home)])
    assert ex.exit_code == 1 and "unknown encoding 'latin-1'" in ex.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "key: bad\nname_ja: x\nname_en: x\n"
        "condition: {type: compare, field: nope, op: eq, value: 1}\n",
        encoding="utf-8",
    )
    r = runner.invoke(app, ["segments", "save", str(bad), "--home", str(home)])
    assert r.exit_code == 1 and "unknown field 'nope'" in r.output

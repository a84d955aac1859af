"""`tokui scenarios ...` on the hand-made shop."""

from __future__ import annotations

from pathlib import Path

import yaml
from sqlalchemy import func, select
from typer.testing import CliRunner

from tests.scenarios.shop import build, scenario
from tokui.cli import app
from tokui.state.db import session_scope
from tokui.state.messages import OutboxMessage
from tokui.state.scenarios import Enrollment
from tokui.workspace import Workspace

runner = CliRunner()


def test_import_list_export_enable_pause_dry_run_tick(tmp_path: Path) -> None:
    home = tmp_path / "ws"
    build(home).close()
    spec = scenario(key="cli", trigger={"type": "ordered"})
    f = tmp_path / "cli.yaml"
    f.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    h = ["--home", str(home)]
    r = runner.invoke(app, ["scenarios", "import", str(f), *h])
    assert r.exit_code == 0, r.output
    assert r.output.strip() == "cli: v1 (new version)"
    r = runner.invoke(app, ["scenarios", "import", str(f), *h])
    assert r.output.strip() == "cli: v1 (unchanged)"
    r = runner.invoke(app, ["scenarios", "list", *h])
    assert r.output.strip() == "cli\tdraft\tv1\tカゴ落ち\t-"
    r = runner.invoke(app, ["scenarios", "export", "cli", *h])
    assert yaml.safe_load(r.output)["trigger"] == {"type": "ordered"}
    # Four orders in the 400 days to 2026-01-06 09:00 JST: c1's o1 and c3's o2 enter (the
    # default re-entry rule "never" keeps c3's o3 and o4 out); both have e-mail consent.
    until = ["--until", "2026-01-06T09:00:00+09:00"]
    r = runner.invoke(app, ["scenarios", "dry-run", "cli", "--days", "400", *until, *h])
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[0] == "cli: 2 would have entered in 400 days"
    assert lines[1].split() == ["mail", "email", "sc-mail", "2"]
    r = runner.invoke(app, ["scenarios", "enable", "cli", *h])
    assert r.output.strip() == "cli: enabled"
    r = runner.invoke(app, ["scenarios", "run-tick", *h])
    assert r.exit_code == 0, r.output
    assert r.output.startswith("enrolled 0, advanced 0, queued 0")
    r = runner.invoke(app, ["scenarios", "pause", "cli", *h])
    assert r.output.strip() == "cli: paused"
    ws = Workspace.open(home)
    with session_scope(ws.sessions) as db:
        assert db.scalar(select(func.count()).select_from(Enrollment)) == 0
        assert db.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    ws.close()


def test_bad_file_changes_nothing(tmp_path: Path) -> None:
    home = tmp_path / "ws"
    build(home).close()
    good = tmp_path / "a.yaml"
    good.write_text(yaml.safe_dump(scenario(key="a")), encoding="utf-8")
    bad = tmp_path / "b.yaml"
    spec = scenario(key="b")
    spec["steps"][0]["channel"] = "fax"
    bad.write_text(yaml.safe_dump(spec), encoding="utf-8")
    r = runner.invoke(app, ["scenarios", "import", str(good), str(bad), "--home", str(home)])
    assert r.exit_code == 1
    assert f"{bad}: steps[0] (mail).channel: Input should be" in r.output
    r = runner.invoke(app, ["scenarios", "list", "--home", str(home)])
    assert r.output.strip() == ""

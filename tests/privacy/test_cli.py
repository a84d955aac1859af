"""`tokui customers delete` and `tokui customers suppressed`."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.privacy.people import people_workspace
from tokui.cli import app

runner = CliRunner()


def test_delete_then_list(tmp_path: Path) -> None:
    home = tmp_path / "ws"
    people_workspace(home).close()
    r = runner.invoke(
        app,
        [
            "customers",
            "delete",
            "d",
            "--reason",
            "本人より削除依頼 #12",
            "--yes",
            "--home",
            str(home),
        ],
    )
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    per_table = dict(line.split()[:2] for line in lines[:-1])
    assert per_table["orders"] == "2" and per_table["web_events"] == "4"
    total = sum(int(n.replace(",", "")) for n in per_table.values())
    assert lines[-1] == f"deleted customer d: {total} rows; suppression entry 1"
    r = runner.invoke(app, ["customers", "suppressed", "--home", str(home)])
    assert r.exit_code == 0, r.output
    [line] = r.stdout.splitlines()
    fields = line.split("\t")
    assert fields[0] == "1"
    assert fields[2:] == ["erasure", "本人より削除依頼 #12", "customer,email,phone,line"]
    r = runner.invoke(app, ["customers", "suppressed", "--format", "json", "--home", str(home)])
    [entry] = json.loads(r.stdout)
    assert entry["id"] == 1 and entry["covers"] == "customer,email,phone,line"
    assert "Taro" not in r.stdout and "5555" not in r.stdout
    # A second time there is nothing left: a clear error, no second entry.
    r = runner.invoke(
        app, ["customers", "delete", "d", "--reason", "again", "--yes", "--home", str(home)]
    )
    assert r.exit_code == 1
    assert "no customer 'd' in the warehouse" in r.output
    r = runner.invoke(app, ["customers", "suppressed", "--home", str(home)])
    assert len(r.stdout.splitlines()) == 1


def test_delete_asks_first(tmp_path: Path) -> None:
    home = tmp_path / "ws"
    people_workspace(home).close()
    r = runner.invoke(
        app, ["customers", "delete", "d", "--reason", "x", "--home", str(home)], input="n\n"
    )
    assert r.exit_code == 1
    r = runner.invoke(app, ["customers", "suppressed", "--home", str(home)])
    assert r.stdout == ""

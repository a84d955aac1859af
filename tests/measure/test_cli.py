"""`tokui measure ...` on a workspace holding the hand-made shop."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.measure.shop import load_state, load_warehouse
from tokui.cli import app
from tokui.scenarios import store
from tokui.state.db import session_scope
from tokui.workspace import Workspace, init_workspace

runner = CliRunner()
AS_OF = ["--as-of", "2026-01-15T12:00:00+09:00"]  # T0 + 10 days


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "ws"
    ws = init_workspace(h)
    load_warehouse(ws.warehouse)
    load_state(ws.sessions)
    ws.close()
    return h


def run(home: Path, *args: str) -> str:
    r = runner.invoke(app, ["measure", *args, "--home", str(home)])
    assert r.exit_code == 0, r.output
    return r.output


def test_uplift_and_ab_as_json(home: Path) -> None:
    rows = json.loads(run(home, "uplift", "s1", *AS_OF, "--format", "json"))
    holdout = next(r for r in rows if r["kind"] == "holdout")
    assert (holdout["n_treatment"], holdout["n_control"]) == (10, 10)
    assert (holdout["cvr_treatment"], holdout["cvr_control"]) == (0.3, 0.2)
    assert holdout["incremental_revenue"] == pytest.approx(2500.0)
    arms = json.loads(run(home, "ab", "ab", *AS_OF, "--format", "json"))
    assert [(a["arm"], a["n"], a["conversions"], a["opened"]) for a in arms] == [
        ("a", 20, 2, 5),
        ("b", 20, 8, 10),
    ]
    assert arms[1]["promotable"] == "b" and arms[1]["p_value"] == pytest.approx(0.028459, abs=1e-6)


def test_promote_from_the_cli(home: Path) -> None:
    out = run(home, "ab", "ab", *AS_OF, "--promote", "--format", "csv")
    assert "ab/split: promoted b (v2)" in out
    ws = Workspace.open(home)
    with session_scope(ws.sessions) as db:
        assert store.get(db, "ab").current_version == 2
    ws.close()


def test_kpis_and_report(home: Path, tmp_path: Path) -> None:
    rows = json.loads(
        run(
            home,
            "kpis",
            "--since",
            "2026-01-05",
            "--until",
            "2026-01-12",
            "--by",
            "scenario_key",
            "--format",
            "json",
        )
    )
    s1 = next(r for r in rows if r["scenario_key"] == "s1")
    assert (s1["messages"], s1["delivered"], s1["conversions"], s1["revenue"]) == (10, 9, 3, 6000)
    seg = json.loads(
        run(
            home,
            "kpis",
            "--since",
            "2026-01-05",
            "--until",
            "2026-01-12",
            "--by",
            "segment",
            "--format",
            "json",
        )
    )
    assert [(r["segment_key"], r["recipients"], r["revenue"]) for r in seg] == [("vip", 2, 5000)]
    out = tmp_path / "report.html"
    run(home, "report", "--week", "2026-01-07", "--lang", "en", "--out", str(out), *AS_OF)
    html = out.read_text(encoding="utf-8")
    assert "Weekly PDCA report" in html and "7 days from 2026-01-05" in html
    hours = run(home, "best-hours", "t01", "zz", *AS_OF, "--format", "csv").splitlines()
    # Shop curve: 12 h 32 (orders and an open), 13 h 17, 14 h 2, 15 h 1, of 52. t01 has
    # 1 at 12, 1 at 13 and 2 at 14: 1 + 3·32/52 = 2.85 at noon beats 2 + 3·2/52 = 2.12.
    assert hours == ["customer_id,best_hour,events,preferred", "t01,12,4.0,email", "zz,12,,"]


def test_bad_input_fails_cleanly(home: Path) -> None:
    r = runner.invoke(app, ["measure", "uplift", "nope", "--home", str(home)])
    assert r.exit_code == 1 and "no scenario 'nope'" in r.output
    r = runner.invoke(app, ["measure", "kpis", "--since", "2026-13-01", "--home", str(home)])
    assert r.exit_code == 1 and "not a date" in r.output
    r = runner.invoke(app, ["measure", "uplift", "--as-of", "2026-01-15", "--home", str(home)])
    assert r.exit_code == 1 and "with its zone" in r.output

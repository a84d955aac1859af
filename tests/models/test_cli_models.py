"""`tokui models score` and `report` on a small demo workspace."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tokui.cli import app

runner = CliRunner()


def test_models_score_and_report(tmp_path: Path) -> None:
    home = tmp_path / "ws"
    r = runner.invoke(
        app,
        ["init", "--home", str(home), "--admin-email", "a@example.com"],
        env={"TOKUI_ADMIN_PASSWORD": "long-enough-pw"},
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(
        app,
        [
            *("demo", "generate", "--home", str(home), "--customers", "800"),
            *("--years", "1", "--end-date", "2026-10-31"),
        ],
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["models", "score", "--home", str(home), "--as-of", "2026-10-31"])
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    assert summary["as_of"] == "2026-10-31"
    assert summary["clv"]["model"] == "ModifiedBetaGeoFitter"
    r = runner.invoke(app, ["models", "report", "--home", str(home), "--format", "json"])
    runs = json.loads(r.stdout)
    assert sorted(x["model"] for x in runs) == [
        "churn_subscription",
        "clv",
        "dormancy",
        "next_purchase",
        "recommendations",
        "sbg",
    ]
    assert all(x["data_to"] == "2026-10-31" for x in runs)
    by_model = {x["model"]: x for x in runs}
    r = runner.invoke(app, ["models", "report", "--home", str(home)])
    lines = {line.split("\t")[1]: line.split("\t") for line in r.stdout.splitlines()}
    clv = by_model["clv"]["metrics"]
    assert lines["clv"][0] == str(by_model["clv"]["id"])
    assert lines["clv"][3] == f"{by_model['clv']['data_from']}..2026-10-31"
    assert f"customers {clv['customers']:,}" in lines["clv"][4]
    assert f"mean P(alive) {clv['mean_p_alive']:,.3f}" in lines["clv"][4]
    bad = runner.invoke(app, ["models", "train", "--home", str(home), "--model", "nope"])
    assert bad.exit_code == 1 and "transaction_model" in bad.output
    bad = runner.invoke(app, ["models", "train", "--home", str(home), "--as-of", "31/10"])
    assert bad.exit_code == 1 and "--as-of" in bad.output


def test_report_headline() -> None:
    from tokui.cli_models import run_headline

    metrics = {
        "evaluation": {
            "auc": 0.7391,
            "auc_baseline": 0.6312,
            "precision_top_decile": 0.378,
            "precision_top_decile_baseline": 0.2779,
        },
        "scored": 927,
    }
    assert run_headline({}, metrics) == (
        "AUC 0.739 (baseline 0.631); top-decile precision 0.378 (baseline 0.278); scored 927"
    )
    assert run_headline({}, {}) == "-"

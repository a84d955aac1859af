"""Writing the simulated shop through the bulk-load path, on DuckDB and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from tokui.cli import app
from tokui.demo import SimConfig, generate, simulate
from tokui.warehouse import connect

SMALL = SimConfig(customers=300, years=1, seed=5, end_date=date(2026, 9, 30))


def test_generate_writes_every_table_and_the_truth_apart(
    warehouse_url: str, tmp_path: Path
) -> None:
    con = connect(warehouse_url)
    report = generate(con, SMALL, truth_dir=tmp_path / "truth", keep_world=True)
    assert report.world is not None
    for name, rows in report.rows.items():
        assert con.table(name).count().execute() == rows == report.world.tables[name].num_rows
    assert report.rows["customers"] == 300
    revenue = con.table("orders").total.sum().execute()
    assert revenue == report.world.tables["orders"].column("total").to_numpy().sum()
    truth = pq.read_table(tmp_path / "truth" / "customers.parquet")
    assert truth.num_rows == 300 and "persona" in truth.column_names
    assert "persona" not in con.table("customers").columns
    params = json.loads((tmp_path / "truth" / "params.json").read_text(encoding="utf-8"))
    assert params["config"]["seed"] == 5
    # generating again replaces the shop instead of appending to it
    generate(con, SMALL)
    assert con.table("customers").count().execute() == 300
    con.disconnect()


def test_cli_demo_generate(tmp_path: Path) -> None:
    home = tmp_path / "ws"
    result = CliRunner().invoke(
        app,
        [
            "demo",
            "generate",
            "--home",
            str(home),
            "--customers",
            "200",
            "--years",
            "1",
            "--seed",
            "9",
            "--end-date",
            "2026-06-30",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "orders" in result.output
    con = connect(f"duckdb://{home / 'warehouse.duckdb'}")
    assert con.table("customers").count().execute() == 200
    assert (home / "ground_truth" / "customers.parquet").is_file()
    con.disconnect()


def test_chunked_load_matches_the_whole_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    # the package re-exports the function generate, which shadows the module's name
    gen = importlib.import_module("tokui.demo.generate")
    monkeypatch.setattr(gen, "CHUNK_ROWS", 997)
    con = connect(f"duckdb://{tmp_path / 'w.duckdb'}")
    report = generate(con, SMALL)
    whole = simulate(SMALL).tables["web_events"].to_pandas()
    loaded = con.table("web_events").order_by("event_id").execute()
    assert report.rows["web_events"] == len(whole) > 997 * 3
    assert loaded.event_id.tolist() == whole.event_id.tolist()
    assert loaded.page_url.tolist() == whole.page_url.tolist()
    assert (loaded.occurred_at.to_numpy() == whole.occurred_at.to_numpy()).all()
    con.disconnect()

"""Write a simulated shop into a warehouse through the bulk-load path."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from ibis.backends import BaseBackend

from tokui.demo.config import PERSONA_MODELS, SimConfig
from tokui.demo.world import World, simulate
from tokui.warehouse import create_schema
from tokui.warehouse.load import bulk_load
from tokui.warehouse.schema import TABLES

CHUNK_ROWS = 2_000_000


@dataclass
class GenerateReport:
    rows: dict[str, int] = field(default_factory=dict)
    world: World | None = None


def write_truth(world: World, truth_dir: Path) -> None:
    """Ground truth lives beside the warehouse, never in it: only tests and benchmarks read it."""
    truth_dir.mkdir(parents=True, exist_ok=True)
    for name, table in world.truth.items():
        pq.write_table(table, truth_dir / f"{name}.parquet")
    params = {
        "config": asdict(world.config),
        "personas": {k: asdict(v) for k, v in PERSONA_MODELS.items()},
    }
    (truth_dir / "params.json").write_text(
        json.dumps(params, ensure_ascii=False, indent=2, default=str), encoding="utf-8"
    )


def generate(
    con: BaseBackend, config: SimConfig, truth_dir: Path | None = None, keep_world: bool = False
) -> GenerateReport:
    """Simulate the shop and replace the warehouse's shop tables with it."""
    world = simulate(config)
    create_schema(con)
    report = GenerateReport()
    for name in TABLES:
        # One table (or a chunk of the biggest) in memory at a time beside the world's
        # arrays, so a million customers fit. A crash mid-way leaves a partial demo shop;
        # generating again replaces it.
        if keep_world:
            parts: Iterator[pa.Table] = iter([world.tables[name]])
        else:
            parts = world.tables.chunks(name, CHUNK_ROWS)
        report.rows[name] = 0
        for i, part in enumerate(parts):
            report.rows[name] += bulk_load(con, name, part, replace=i == 0)
            del part
    if truth_dir is not None:
        write_truth(world, truth_dir)
    if keep_world:
        report.world = world
    return report

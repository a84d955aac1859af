"""A simulated shop shared by the benchmarks that need one, generated once and cached.

The warehouse of N customers is kept in bench-data/ (ignored by git) with the simulator's
ground truth, keyed by size and seed, so that `make bench` pays the simulation once.
"""

from __future__ import annotations

import fcntl
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from tokui.demo import SimConfig, generate
from tokui.warehouse import connect

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench-data"
END = date(2026, 10, 31)


@dataclass(frozen=True)
class BenchShop:
    config: SimConfig
    warehouse: Path
    truth: Path

    @property
    def url(self) -> str:
        return f"duckdb://{self.warehouse}"


def shop(customers: int, seed: int = 42, years: float = 2) -> BenchShop:
    """The cached shop, generating it when missing; callers must not write to it."""
    config = SimConfig(customers=customers, years=years, seed=seed, end_date=END)
    folder = DATA / f"shop-{customers}-{years:g}y-seed{seed}"
    done = folder / "complete"
    bench = BenchShop(config, folder / "warehouse.duckdb", folder / "ground_truth")
    if done.exists():
        return bench
    DATA.mkdir(exist_ok=True)
    # Benchmarks started side by side wait for one simulation instead of racing on it.
    with open(DATA / f"{folder.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if done.exists():
            return bench
        # A half-written shop from an interrupted run is thrown away, never reused.
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        con = connect(bench.url)
        generate(con, config, truth_dir=bench.truth)
        con.disconnect()
        done.write_text("ok\n", encoding="utf-8")
    return bench


def working_copy(bench: BenchShop, into: Path) -> str:
    """A copy of the cached warehouse to write derived tables into; returns its URL."""
    target = into / "warehouse.duckdb"
    shutil.copyfile(bench.warehouse, target)
    return f"duckdb://{target}"

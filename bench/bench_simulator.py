"""Demo-shop simulator: generate and load N customers x 2 years into a DuckDB warehouse.

Target (issue: simulator): 1,000,000 customers with about 2 years of orders in under
5 minutes with peak memory under 8 GB. Usage: python bench/bench_simulator.py [N ...]
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from tokui.demo import SimConfig, simulate
from tokui.demo.generate import CHUNK_ROWS
from tokui.warehouse import connect, create_schema
from tokui.warehouse.load import bulk_load
from tokui.warehouse.schema import TABLES


def run(customers: int) -> str:
    config = SimConfig(customers=customers, years=2, seed=42, end_date=date(2026, 10, 31))
    t0 = time.perf_counter()
    world = simulate(config)
    t1 = time.perf_counter()
    rows: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        con = connect(f"duckdb://{Path(tmp) / 'w.duckdb'}")
        create_schema(con)
        for name in TABLES:  # as generate() does: one table, or one chunk, at a time
            rows[name] = 0
            for i, part in enumerate(world.tables.chunks(name, CHUNK_ROWS)):
                rows[name] += bulk_load(con, name, part, replace=i == 0)
                del part
        con.disconnect()
    t2 = time.perf_counter()
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    orders = rows["orders"]
    events = rows["web_events"]
    return (
        f"| {customers:,} | {orders:,} | {events:,} | {t1 - t0:.1f} | {t2 - t1:.1f} | "
        f"{t2 - t0:.1f} | {peak_gib:.2f} |"
    )


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [1_000_000]
    print("`python bench/bench_simulator.py` — `tokui demo generate` without the CLI.\n")
    print("| customers | orders | web events | simulate s | load s | total s | peak RSS GiB |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for n in sizes:
        print(run(n), flush=True)


if __name__ == "__main__":
    main()

"""File import: `tokui import` of a generated generic-transactions CSV into DuckDB.

Target (issue 4): 10,000,000 order lines from CSV in under 60 s. Each generated row is
one order line of a one-line order (customer id, date, amount, quantity, product, order
id), imported with the built-in `generic_transactions` profile through
tokui.ingest.import_file, which is what `tokui import` runs without its progress bar.
Usage: python bench/bench_import.py [ROWS ...]   (default: 1,000,000 and 10,000,000)
"""

from __future__ import annotations

import cProfile
import os
import pstats
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from tokui.ingest import import_file
from tokui.warehouse import connect, create_schema


def make_csv(path: Path, rows: int, seed: int = 7) -> None:
    """Rows in export order, written in chunks so memory stays flat."""
    rng = np.random.default_rng(seed)
    chunk = 1_000_000
    start = np.datetime64("2023-01-01T00:00:00")
    with pacsv.CSVWriter(
        path,
        pa.schema(
            [
                ("customer_id", pa.string()),
                ("date", pa.string()),
                ("amount", pa.string()),
                ("quantity", pa.string()),
                ("product_id", pa.string()),
                ("order_id", pa.string()),
            ]
        ),
    ) as writer:
        for first in range(0, rows, chunk):
            n = min(chunk, rows - first)
            seconds = rng.integers(0, 2 * 365 * 86400, n)
            stamps = (start + seconds.astype("timedelta64[s]")).astype(str)
            quantity = rng.integers(1, 4, n)
            price = rng.choice([480, 980, 1280, 2160, 3240], n)
            writer.write_table(
                pa.table(
                    {
                        "customer_id": pa.array(
                            np.char.add("C", rng.integers(1, rows // 5 + 2, n).astype(str))
                        ),
                        "date": pa.array(np.char.replace(stamps, "T", " ")),
                        "amount": pa.array((quantity * price).astype(str)),
                        "quantity": pa.array(quantity.astype(str)),
                        "product_id": pa.array(
                            np.char.add("P", rng.integers(1, 300, n).astype(str))
                        ),
                        "order_id": pa.array(np.arange(first, first + n).astype(str)),
                    }
                )
            )


def run(rows: int, profile: bool = False) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "transactions.csv"
        make_csv(csv_path, rows)
        con = connect(f"duckdb://{Path(tmp) / 'w.duckdb'}")
        create_schema(con)
        marks: list[tuple[str, float]] = []

        def step(text: str) -> None:
            marks.append((text.split()[0], time.perf_counter()))

        profiler = cProfile.Profile() if profile else None
        load_before = os.getloadavg()[0]
        cpu0 = _cpu()
        t0 = time.perf_counter()
        if profiler:
            profiler.enable()
        result = import_file(con, None, csv_path, "generic_transactions", on_progress=step)
        if profiler:
            profiler.disable()
        total = time.perf_counter() - t0
        cpu = _cpu() - cpu0
        con.disconnect()
    if not result.ok:
        raise SystemExit(f"import failed: {result.errors[:3]}")
    if profiler:
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(25)
    phases = dict(marks)
    read = phases["validating"] - phases["reading"]
    validate = phases.get("writing", t0 + total) - phases["validating"]
    write = t0 + total - phases.get("writing", t0 + total)
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    lines = result.tables["order_items"].inserted
    return (
        f"| {rows:,} | {lines:,} | {read:.1f} | {validate:.1f} | {write:.1f} | {total:.1f} | "
        f"{rows / total:,.0f} | {cpu:.1f} | {load_before:.1f} | {peak_gib:.2f} |"
    )


def _cpu() -> float:
    """CPU seconds of this process, all threads (DuckDB's and pyarrow's included)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "--profile"]
    sizes = [int(a) for a in args] or [1_000_000, 10_000_000]
    print(
        "`python bench/bench_import.py` — `tokui import FILE --profile generic_transactions` "
        "(one order line per row) into an empty DuckDB warehouse, without the CLI. CPU s is "
        "the process's CPU time over all its threads during the import; load is the "
        "machine's 1-minute load average just before it (2 cores: above 2, other work "
        "shares them and wall times stretch).\n"
    )
    print(
        "| rows | order lines | read s | validate s | write s | total s | rows/s | CPU s "
        "| load | peak RSS GiB |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in sizes:
        print(run(n, profile="--profile" in sys.argv), flush=True)


if __name__ == "__main__":
    main()

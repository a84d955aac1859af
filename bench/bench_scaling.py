"""Scaling curves: the standard analysis pack and the first scenario tick of the day at
several shop sizes, on DuckDB, and the same pack on a local Spark session.

docs/scaling.md reads these curves and projects them to 10M customers / 1B order lines.

Per size (customers), all on the cached simulated shop of bench/common.py with the
history of bench_analytics (16 years: about 10 order lines per customer):

1. simulate: the shop is built (or found in bench-data/) and counted.
2. pack on DuckDB: RFM, CPM, cohort retention, F2, subscription flow, repeat interval,
   cross-sell top 100 pairs (bench_analytics.PACK), each timed, one process, cold start.
3. pack on Spark (the sizes of --spark): the shop's tables written once to Parquet
   (by DuckDB, not timed with the pack), a fresh local session (local[2]; the settings
   are SPARK_CONF below), the tables registered as views over the Parquet files, the
   same pack through Ibis; results compared with DuckDB's.
4. nightly refresh (the sizes of --ticks): customer features and every model (trained
   and scored) on a copy of the shop, as `tokui refresh` does; timed, kept for step 5.
5. tick: every library scenario enabled, triggers last checked 24 h before the first
   tick of the day (bench_scenarios: 10:30 JST on the shop's last day); the tick
   evaluates every trigger over every customer for a day, enrolls and runs the first
   steps. State DB SQLite.

Each step runs in its own child process; the parent samples the resident memory and
CPU time of the child and everything it starts (Spark's JVM included) every 0.2 s, so
peak memory is the whole tree's. With TOKUI_BENCH_LOCK=FILE each step holds an
exclusive lock on FILE while it runs and releases it between steps, so other benchmark
runs sharing that file never overlap a measurement and can run between sizes.

Results are kept in bench-data/scaling.json. Steps already stored there are printed,
not measured again (each row keeps the date it was measured): the whole curve takes
about an hour on 2 cores, so `bench/run.py bench_scaling` rewrites the section from the
stored steps and measures only what is missing. --fresh measures every step again.

Usage: python bench/bench_scaling.py [--sizes 250000,500000,1000000,2000000]
           [--spark 250000,1000000] [--ticks 250000,500000,2000000] [--years 16]
           [--fresh] [--print-only]
"""

from __future__ import annotations

import argparse
import fcntl
import json
import multiprocessing
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench_analytics import PACK
from common import DATA, END, shop

RESULTS = DATA / "scaling.json"
SHORT = ("RFM", "CPM", "cohort", "F2", "subscr.", "repeat", "cross-sell")
# The tables the pack reads (and the customers and products they join for names).
SPARK_TABLES = (
    "customers",
    "products",
    "orders",
    "order_items",
    "subscriptions",
    "subscription_deliveries",
)
SPARK_CONF = {
    "spark.master": "local[2]",
    "spark.driver.memory": "8g",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    # Four tasks per core: enough to keep both busy and spread skew, few enough that
    # scheduling does not dominate at these sizes.
    "spark.sql.shuffle.partitions": "8",
    "spark.default.parallelism": "2",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}


# measuring a child process ------------------------------------------------------------
def _tree(root: int) -> list[int]:
    """The process and its descendants, from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(parents.get(pid, []))
    return out


class Sampler(threading.Thread):
    """Peak resident memory (summed over the tree) and CPU seconds of a process tree."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_bytes = 0
        self.cpu: dict[int, float] = {}
        self.done = threading.Event()
        self.tick = os.sysconf("SC_CLK_TCK")
        self.page = os.sysconf("SC_PAGE_SIZE")

    def sample(self) -> None:
        rss = 0
        for pid in _tree(self.pid):
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            # After ")": state is field 0, utime 11, stime 12, rss (pages) 21.
            self.cpu[pid] = (int(fields[11]) + int(fields[12])) / self.tick
            rss += int(fields[21]) * self.page
        self.peak_bytes = max(self.peak_bytes, rss)

    def run(self) -> None:
        while not self.done.wait(0.2):
            self.sample()

    def stop(self) -> tuple[float, float]:
        self.done.set()
        self.join()
        return self.peak_bytes / 2**30, sum(self.cpu.values())


@contextmanager
def bench_lock() -> Iterator[None]:
    path = os.environ.get("TOKUI_BENCH_LOCK")
    if not path:
        yield
        return
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _child(fn: Callable[..., dict[str, Any]], args: tuple[Any, ...], out: Any) -> None:
    out.put(fn(*args))


def measured(fn: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """Run one step in a fresh child under the lock; its result plus memory, CPU, load."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    with bench_lock():
        load_before = os.getloadavg()[0]
        proc = ctx.Process(target=_child, args=(fn, args, queue))
        t0 = time.perf_counter()
        proc.start()
        sampler = Sampler(proc.pid or 0)
        sampler.start()
        result: dict[str, Any] | None = None
        while result is None and (proc.is_alive() or not queue.empty()):
            try:
                result = queue.get(timeout=1)
            except Exception:  # queue.Empty: the child is still working
                continue
        proc.join()
        wall = time.perf_counter() - t0
        peak, cpu = sampler.stop()
        load_after = os.getloadavg()[0]
    if result is None:
        result = {"failed": f"exit code {proc.exitcode}"}
    return {
        **result,
        "wall_s": wall,
        "peak_gib": peak,
        "cpu_s": cpu,
        "load_before": load_before,
        "load_after": load_after,
        "measured": f"{datetime.now(UTC):%Y-%m-%d}",
    }


# the steps (each in a child process) ---------------------------------------------------
def step_shop(customers: int, years: float) -> dict[str, Any]:
    from tokui.warehouse import connect

    t0 = time.perf_counter()
    cached = (DATA / f"shop-{customers}-{years:g}y-seed42" / "complete").exists()
    bench = shop(customers, years=years)
    build_s = time.perf_counter() - t0
    con = connect(f"duckdb://{bench.warehouse}")
    counts = {
        name: int(con.table(name).count().execute())
        for name in ("customers", "orders", "order_items", "web_events")
        if name in con.list_tables()
    }
    con.disconnect()
    return {
        "build_s": None if cached else build_s,
        "counts": counts,
        "file_gib": bench.warehouse.stat().st_size / 2**30,
    }


def _run_pack(con: Any) -> tuple[dict[str, float], dict[str, Any]]:
    from common import END as AS_OF

    from tokui.analytics.run import run

    params = {"as_of": AS_OF.isoformat()}
    times, frames = {}, {}
    for name in PACK:
        t0 = time.perf_counter()
        frames[name] = run(con, name, params)
        times[name] = time.perf_counter() - t0
    return times, frames


def step_duckdb(customers: int, years: float) -> dict[str, Any]:
    from tokui.warehouse import connect

    con = connect(f"duckdb://{shop(customers, years=years).warehouse}")
    times, frames = _run_pack(con)
    con.disconnect()
    return {"times": times, "rows": {k: len(v) for k, v in frames.items()}}


def parquet_copy(customers: int, years: float) -> Path:
    """The pack's tables as Parquet files, written by DuckDB once per shop."""
    import duckdb

    bench = shop(customers, years=years)
    folder = bench.warehouse.parent / "parquet"
    if (folder / "complete").exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    con = duckdb.connect(str(bench.warehouse), read_only=True)
    for name in SPARK_TABLES:
        # Table names come from the fixed list above, never from input.
        con.execute(
            f"COPY (SELECT * FROM \"{name}\") TO '{folder / name}.parquet' (FORMAT parquet)"
        )
    con.close()
    (folder / "complete").write_text("ok\n", encoding="utf-8")
    return folder


def _same(a: Any, b: Any) -> bool:
    import numpy as np
    import pandas as pd

    if list(a.columns) != list(b.columns) or len(a) != len(b):
        return False
    for col in a.columns:
        x, y = a[col].reset_index(drop=True), b[col].reset_index(drop=True)
        if pd.api.types.is_numeric_dtype(x) and pd.api.types.is_numeric_dtype(y):
            xs, ys = x.astype(float).to_numpy(), y.astype(float).to_numpy()
            if not np.allclose(xs, ys, atol=1e-6, equal_nan=True):
                return False
        elif pd.api.types.is_datetime64_any_dtype(x) or pd.api.types.is_datetime64_any_dtype(y):
            xs = pd.to_datetime(x).dt.tz_localize(None) if x.dt.tz else pd.to_datetime(x)
            ys = pd.to_datetime(y).dt.tz_localize(None) if y.dt.tz else pd.to_datetime(y)
            if not xs.equals(ys):
                return False
        elif not (x.astype(str) == y.astype(str)).all():
            return False
    return True


def step_spark(customers: int, years: float) -> dict[str, Any]:
    from pyspark.sql import SparkSession

    from tokui.warehouse import connect
    from tokui.warehouse.spark import from_session

    t0 = time.perf_counter()
    folder = parquet_copy(customers, years)
    export_s = time.perf_counter() - t0
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    with tempfile.TemporaryDirectory(dir=DATA) as tmp:
        t0 = time.perf_counter()
        builder = SparkSession.builder.appName("tokui-bench")
        for key, value in {
            **SPARK_CONF,
            "spark.sql.warehouse.dir": f"{tmp}/warehouse",
            "spark.local.dir": f"{tmp}/scratch",
        }.items():
            builder = builder.config(key, value)
        session = builder.getOrCreate()
        session.sparkContext.setLogLevel("ERROR")
        for name in SPARK_TABLES:
            session.read.parquet(str(folder / f"{name}.parquet")).createOrReplaceTempView(name)
        con = from_session(session)
        start_s = time.perf_counter() - t0
        times, frames = _run_pack(con)
        session.stop()
    duck = connect(f"duckdb://{shop(customers, years=years).warehouse}")
    _, reference = _run_pack(duck)
    duck.disconnect()
    differ = [name for name in PACK if not _same(frames[name], reference[name])]
    return {"export_s": export_s, "start_s": start_s, "times": times, "differ": differ}


def _scenario_warehouse(customers: int, years: float) -> Path:
    return DATA / f"scaling-refreshed-{customers}-{years:g}y" / "warehouse.duckdb"


def step_refresh(customers: int, years: float) -> dict[str, Any]:
    """Features and models on a copy of the shop (the nightly refresh), kept for the tick."""
    from bench_scenarios import NOW

    from tokui.clock import FixedClock
    from tokui.models.run import run_models
    from tokui.refresh.features import materialise_features
    from tokui.workspace import init_workspace

    target = _scenario_warehouse(customers, years)
    shutil.rmtree(target.parent, ignore_errors=True)
    target.parent.mkdir(parents=True)
    with tempfile.TemporaryDirectory(dir=DATA) as tmp:
        home = Path(tmp) / "ws"
        home.mkdir()
        shutil.copyfile(shop(customers, years=years).warehouse, home / "warehouse.duckdb")
        ws = init_workspace(home)
        t0 = time.perf_counter()
        materialise_features(ws.warehouse, END)
        t1 = time.perf_counter()
        run_models(ws.warehouse, ws.sessions, FixedClock(NOW), END)
        t2 = time.perf_counter()
        ws.close()
        shutil.move(str(home / "warehouse.duckdb"), target)
    (target.parent / "complete").write_text("ok\n", encoding="utf-8")
    return {"features_s": t1 - t0, "models_s": t2 - t1}


def step_tick(customers: int, years: float) -> dict[str, Any]:
    from bench_scenarios import NOW, install_library, workspace

    from tokui.clock import FixedClock
    from tokui.messaging.service import Messaging
    from tokui.scenarios.engine import Engine, TickStats

    with tempfile.TemporaryDirectory(dir=DATA) as tmp:
        ws = workspace(Path(tmp) / "ws", _scenario_warehouse(customers, years), None)
        keys = install_library(ws, NOW - timedelta(days=1))
        clock = FixedClock(NOW)
        engine = Engine(Messaging(ws, clock), clock)
        stats = TickStats()
        t0 = time.perf_counter()
        engine.enroll(stats)
        t1 = time.perf_counter()
        engine.advance(stats)
        t2 = time.perf_counter()
        ws.close()
    return {
        "scenarios": len(keys),
        "enroll_s": t1 - t0,
        "advance_s": t2 - t1,
        "tick_s": t2 - t0,
        "enrolled": stats.enrolled,
        "queued": stats.queued,
        "held": stats.held,
    }


# results ------------------------------------------------------------------------------
def load_results() -> dict[str, Any]:
    if RESULTS.exists():
        stored: dict[str, Any] = json.loads(RESULTS.read_text(encoding="utf-8"))
        return stored
    return {}


def save_result(key: str, value: dict[str, Any]) -> None:
    # Read again just before writing: a run for other sizes may have saved meanwhile.
    results = load_results()
    results[key] = value
    RESULTS.write_text(json.dumps(results, indent=1, sort_keys=True), encoding="utf-8")


def fit(points: list[tuple[float, float]]) -> tuple[float, float] | None:
    """Least-squares line y = a + b·x: (a, b); None with fewer than two points."""
    if len(points) < 2:
        return None
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    if sxx == 0:
        return None
    b = sum((x - mx) * (y - my) for x, y in points) / sxx
    return my - b * mx, b


def _load(r: dict[str, Any]) -> str:
    return f"{r['load_before']:.1f} / {r['load_after']:.1f}"


def report(results: dict[str, Any], sizes: list[int], years: float) -> None:
    def get(step: str, n: int) -> dict[str, Any] | None:
        r = results.get(f"{step}-{n}-{years:g}y")
        return r if r is not None and "failed" not in r else None

    def lines(n: int) -> int:
        r = get("shop", n)
        return int(r["counts"]["order_items"]) if r else 0

    print(
        f"`python bench/bench_scaling.py` — the cached simulated shop (bench/common.py, "
        f"{years:g} years of history as in bench_analytics) at each size. Every step in "
        "its own process; peak GiB is the resident memory of that process and all it "
        "started (Spark's JVM included), CPU s their CPU time over both cores; load is "
        "the 1-minute load average before / after the step (2 cores: above 2, other work "
        "shared them). docs/scaling.md reads these curves.\n"
    )
    print("Shops:\n")
    print(
        "| customers | orders | order lines | web events | DuckDB file GiB | "
        "simulate + load s | peak GiB |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for n in sizes:
        r = results.get(f"shop-{n}-{years:g}y")
        if r is None:
            continue
        if "failed" in r:
            print(f"| {n:,} | failed: {r['failed']} | | | | | {r['peak_gib']:.1f} |")
            continue
        c = r["counts"]
        build = f"{r['build_s']:.0f}" if r.get("build_s") else "cached"
        peak = f"{r['peak_gib']:.1f}" if r.get("build_s") else ""
        print(
            f"| {n:,} | {c['orders']:,} | {c['order_items']:,} | {c.get('web_events', 0):,} | "
            f"{r['file_gib']:.2f} | {build} | {peak} |"
        )

    print("\nThe standard analysis pack on DuckDB (seconds per analysis, one cold run):\n")
    print(
        "| customers | order lines | "
        + " | ".join(SHORT)
        + " | **total s** | s per M lines | peak GiB | CPU s | load | measured |"
    )
    print("|---:|---:|" + "---:|" * len(SHORT) + "---:|---:|---:|---:|---|---|")
    duck_points = []
    for n in sizes:
        r = get("duckdb", n)
        if r is None:
            continue
        total = sum(r["times"].values())
        duck_points.append((lines(n) / 1e6, total))
        print(
            f"| {n:,} | {lines(n):,} | "
            + " | ".join(f"{r['times'][k]:.2f}" for k in PACK)
            + f" | **{total:.2f}** | {total / (lines(n) / 1e6):.2f} | {r['peak_gib']:.2f} | "
            f"{r['cpu_s']:.0f} | {_load(r)} | {r['measured']} |"
        )
    line = fit(duck_points)
    if line:
        print(
            f"\nLeast-squares line over these points: total ≈ {line[0]:.2f} s + "
            f"{line[1]:.2f} s per million order lines."
        )

    spark_rows = [(n, get("spark", n)) for n in sizes if get("spark", n)]
    if spark_rows:
        print(
            "\nThe same pack on Spark, local[2] (2 cores, driver memory 8g, 8 shuffle "
            "partitions; tables as views over Parquet files written once by DuckDB), "
            "one cold run in a fresh session; ratio = Spark total / DuckDB total:\n"
        )
        print(
            "| customers | order lines | Parquet export s | session + views s | "
            + " | ".join(SHORT)
            + " | **total s** | ratio | same rows as DuckDB | peak GiB | CPU s | load | measured |"
        )
        print("|---:|---:|---:|---:|" + "---:|" * len(SHORT) + "---:|---:|---|---:|---:|---|---|")
        spark_points = []
        for n, r in spark_rows:
            assert r is not None
            total = sum(r["times"].values())
            spark_points.append((lines(n) / 1e6, total))
            d = get("duckdb", n)
            ratio = f"{total / sum(d['times'].values()):.1f}x" if d else ""
            same = "yes" if not r["differ"] else "differ: " + ", ".join(r["differ"])
            print(
                f"| {n:,} | {lines(n):,} | {r['export_s']:.1f} | {r['start_s']:.1f} | "
                + " | ".join(f"{r['times'][k]:.2f}" for k in PACK)
                + f" | **{total:.2f}** | {ratio} | {same} | {r['peak_gib']:.2f} | "
                f"{r['cpu_s']:.0f} | {_load(r)} | {r['measured']} |"
            )
        line = fit(spark_points)
        if line:
            print(
                f"\nLeast-squares line: total ≈ {line[0]:.2f} s + {line[1]:.2f} s per "
                "million order lines."
            )

    tick_rows = [(n, get("refresh", n), get("tick", n)) for n in sizes]
    tick_rows = [row for row in tick_rows if row[1] or row[2]]
    if tick_rows:
        print(
            "\nNightly refresh (customer features, then every model trained and scored, "
            "on DuckDB) and the first scenario tick of the day after it (all library "
            "scenarios enabled, triggers last checked 24 h before; state DB SQLite; "
            "bench_scenarios' tick 1):\n"
        )
        print(
            "| customers | features s | models s | refresh peak GiB | tick s | "
            "triggers + enroll s | advance s | enrolled | messages queued | tick peak GiB | "
            "load (refresh; tick) | measured |"
        )
        print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
        for n, f, t in tick_rows:
            cells = [f"{n:,}"]
            cells += (
                [f"{f['features_s']:.1f}", f"{f['models_s']:.1f}", f"{f['peak_gib']:.2f}"]
                if f
                else ["", "", ""]
            )
            cells += (
                [
                    f"{t['tick_s']:.1f}",
                    f"{t['enroll_s']:.1f}",
                    f"{t['advance_s']:.1f}",
                    f"{t['enrolled']:,}",
                    f"{t['queued']:,}",
                    f"{t['peak_gib']:.2f}",
                ]
                if t
                else ["not measured"] + [""] * 5
            )
            loads = "; ".join(_load(r) for r in (f, t) if r)
            cells += [loads, (t or f or {}).get("measured", "")]
            print("| " + " | ".join(cells) + " |")
    failed = sorted(k for k, v in results.items() if "failed" in v)
    if failed:
        print("\nFailed steps: " + ", ".join(f"{k} ({results[k]['failed']})" for k in failed))


def _sizes(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=_sizes, default=[250_000, 500_000, 1_000_000, 2_000_000])
    ap.add_argument("--spark", type=_sizes, default=[250_000, 1_000_000])
    ap.add_argument("--ticks", type=_sizes, default=[250_000, 500_000, 2_000_000])
    ap.add_argument("--years", type=float, default=16.0)
    ap.add_argument("--fresh", action="store_true", help="measure stored steps again")
    # Kept so older command lines still work: reusing stored steps is the default.
    ap.add_argument("--reuse", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--print-only", action="store_true", help="measure nothing")
    args = ap.parse_args()
    DATA.mkdir(exist_ok=True)
    steps: list[tuple[str, Callable[..., dict[str, Any]], list[int]]] = [
        ("shop", step_shop, args.sizes),
        ("duckdb", step_duckdb, args.sizes),
        ("spark", step_spark, args.spark),
        ("refresh", step_refresh, args.ticks),
        ("tick", step_tick, args.ticks),
    ]
    if not args.print_only:
        for n in args.sizes:
            for step, fn, sizes in steps:
                if n not in sizes:
                    continue
                key = f"{step}-{n}-{args.years:g}y"
                stored = load_results().get(key)
                if not args.fresh and stored is not None and "failed" not in stored:
                    continue
                if step != "shop" and "failed" in load_results().get(
                    f"shop-{n}-{args.years:g}y", {}
                ):
                    continue
                if (
                    step == "tick"
                    and not (_scenario_warehouse(n, args.years).parent / "complete").exists()
                ):
                    continue
                save_result(key, measured(fn, n, args.years))
    report(load_results(), sorted(set(args.sizes + args.spark + args.ticks)), args.years)


if __name__ == "__main__":
    main()

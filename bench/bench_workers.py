"""Delivery throughput with 1, 2 and 4 `tokui worker` processes on a PostgreSQL state DB.

Each run writes a campaign of personalised-size emails straight into the outbox of a
fresh database (COPY), starts the workers (`tokui worker --no-scenarios --once`: deliver
until nothing is due, then exit) and waits for them. The messages go over SMTP, eight
pooled connections per worker, to a lean SMTP server on 127.0.0.1 in this process
(tests/ops/smtp_counter.py) that counts Message-IDs; every run checks that each message
arrived exactly once. Time is from the first worker's start-up log line to the last
worker's exit line (JSON logs), so it leaves out Python's start-up and imports; the CPU
column is all workers' CPU time together, start-up included (about 3.5 CPU seconds per
process with nothing to send), so its per-email figure grows with the number of workers.

Needs TOKUI_BENCH_PG_URL (or TOKUI_TEST_PG_URL): a PostgreSQL server URL; a throwaway
database is created per run and dropped after it.
Usage: python bench/bench_workers.py [MESSAGES]   (default: 20,000)
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.ops.campaign import worker_workspace, write_campaign  # noqa: E402
from tests.ops.smtp_counter import CountingSink  # noqa: E402

from tokui.state.db import make_engine, migrate  # noqa: E402

WORKERS = (1, 2, 4)


def _server() -> str | None:
    return os.environ.get("TOKUI_BENCH_PG_URL") or os.environ.get("TOKUI_TEST_PG_URL")


def _times(log: str) -> tuple[datetime, datetime, int]:
    records = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    start = next(r for r in records if r["message"] == "worker started")
    stop = next(r for r in records if r["message"] == "worker stopped")
    return (
        datetime.fromisoformat(start["ts"].replace("Z", "+00:00")),
        datetime.fromisoformat(stop["ts"].replace("Z", "+00:00")),
        int(stop["sent"]),
    )


def run(server: str, messages: int, workers: int) -> tuple[float, float, list[int]]:
    name = f"tokui_bench_{uuid.uuid4().hex[:10]}"
    admin = server.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as con:
        con.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = server.rsplit("/", 1)[0] + "/" + name
    sink = CountingSink()
    sink.start()
    try:
        engine = make_engine(url)
        migrate(engine)
        engine.dispose()
        expected = write_campaign(url, messages)
        with tempfile.TemporaryDirectory() as tmp:
            home = Path(tmp) / "ws"
            worker_workspace(home, url.replace("postgresql://", "postgresql+psycopg://"), sink.port)
            cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            procs = [
                subprocess.Popen(
                    [
                        sys.executable,
                        "-c",
                        "from tokui.cli import app; app()",
                        "worker",
                        "--home",
                        str(home),
                        "--no-scenarios",
                        "--once",
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                for _ in range(workers)
            ]
            logs = [p.communicate(timeout=3600)[1] for p in procs]
            cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        if any(p.returncode for p in procs):
            raise SystemExit("a worker failed:\n" + "\n".join(logs)[-3000:])
        times = [_times(log) for log in logs]
        if set(sink.received) != expected or any(n != 1 for n in sink.received.values()):
            raise SystemExit("not every message arrived exactly once")
    finally:
        sink.stop()
        with psycopg.connect(admin, autocommit=True) as con:
            con.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
    seconds = (max(t[1] for t in times) - min(t[0] for t in times)).total_seconds()
    cpu = cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime
    return seconds, cpu, [t[2] for t in times]


def main() -> None:
    messages = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    server = _server()
    print("Email delivery by `tokui worker` processes on a PostgreSQL state DB, over SMTP to")
    print("a local sink; batches of 1,000, 8 SMTP connections per worker. Each message")
    print("arrived exactly once in every run (checked). Worker CPU includes each process's")
    print("start-up (about 3.5 CPU seconds).\n")
    if not server:
        print("Not measured: set TOKUI_BENCH_PG_URL to a PostgreSQL server.")
        return
    print("| workers | emails | seconds | emails/s | speed-up | worker CPU s | CPU ms/email |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    base = None
    for workers in WORKERS:
        seconds, cpu, _ = run(server, messages, workers)
        rate = messages / seconds
        base = base or rate
        print(
            f"| {workers} | {messages:,} | {seconds:.1f} | {rate:,.0f} | {rate / base:.2f}x | "
            f"{cpu:.1f} | {1000 * cpu / messages:.2f} |",
            flush=True,
        )
    print(f"\nMeasured {datetime.now(UTC):%Y-%m-%d} (load average at the end: "
          f"{os.getloadavg()[0]:.1f}).")  # fmt: skip


if __name__ == "__main__":
    main()

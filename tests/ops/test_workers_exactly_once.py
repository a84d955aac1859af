"""Four `tokui worker` processes deliver a 100,000-message campaign on PostgreSQL into a
local SMTP server: every message arrives exactly once and ends `sent` after one attempt.

The campaign goes straight into the outbox (tests/ops/campaign.py); the sink counts
Message-IDs, which says which messages arrived twice or never. Each worker logs its
totals as JSON on exit (log_format = "json"): the four share the work, and their counts
add up.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import psycopg
import pytest

from tests.ops.campaign import DOMAIN, message_id, worker_workspace, write_campaign
from tests.ops.smtp_counter import CountingSink
from tokui.state.db import make_engine, migrate

pytestmark = pytest.mark.postgres

MESSAGES = 100_000
WORKERS = 4


def test_four_workers_deliver_each_message_exactly_once(pg_clean: str, tmp_path: Path) -> None:
    from tokui.messaging.mime import message_id as tokui_message_id

    assert message_id(7, "k") == tokui_message_id(7, "k", DOMAIN)
    engine = make_engine(pg_clean)
    migrate(engine)
    engine.dispose()
    expected = write_campaign(pg_clean, MESSAGES)
    sink = CountingSink()
    sink.start()
    home = tmp_path / "ws"
    worker_workspace(home, pg_clean.replace("postgresql://", "postgresql+psycopg://"), sink.port)
    tokui = [sys.executable, "-c", "from tokui.cli import app; app()"]
    started = time.monotonic()
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    procs = [
        subprocess.Popen(
            [*tokui, "worker", "--home", str(home), "--no-scenarios", "--once"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(WORKERS)
    ]
    try:
        logs = [p.communicate(timeout=600)[1] for p in procs]
    finally:
        for p in procs:
            p.kill()
        sink.stop()
    seconds = time.monotonic() - started
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    worker_cpu = cpu.ru_utime + cpu.ru_stime - cpu_before.ru_utime - cpu_before.ru_stime
    assert [p.returncode for p in procs] == [0] * WORKERS, logs

    received: Counter[str] = sink.received
    assert sum(received.values()) == MESSAGES
    assert [mid for mid, n in received.items() if n > 1] == []
    assert set(received) == expected

    with psycopg.connect(pg_clean) as con:
        statuses = dict(con.execute("SELECT status, count(*) FROM outbox GROUP BY 1").fetchall())
        attempts = dict(con.execute("SELECT attempts, count(*) FROM outbox GROUP BY 1").fetchall())
        events = dict(
            con.execute("SELECT event, count(*) FROM message_event_log GROUP BY 1").fetchall()
        )
    assert statuses == {"sent": MESSAGES}
    assert attempts == {1: MESSAGES}
    assert events == {"sent": MESSAGES}

    per_worker = []
    for log in logs:
        records = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
        [done] = [r for r in records if r["message"] == "worker stopped"]
        per_worker.append(done["sent"])
    assert sum(per_worker) == MESSAGES
    assert min(per_worker) > 0, per_worker  # all four took part
    print(
        f"\n{MESSAGES:,} messages, {WORKERS} workers: {seconds:.1f} s "
        f"({worker_cpu:.1f} s CPU in the workers); sent per worker {per_worker}"
    )

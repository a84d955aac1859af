"""A worker process killed with SIGKILL at random points and restarted: every customer
ends with exactly one message per send step and one coupon, none lost, none doubled.
On PostgreSQL, two workers running at once never queue the same message."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select

from tests.scenarios.shop import NOW, build, scenario
from tokui.clock import utc_naive
from tokui.scenarios import store
from tokui.scenarios.definition import parse_definition
from tokui.state.db import session_scope
from tokui.state.messages import OutboxMessage
from tokui.state.scenarios import Enrollment, Grant, JourneyEntry
from tokui.warehouse import bulk_load
from tokui.workspace import Workspace

N = 150
ROOT = Path(__file__).resolve().parents[2]
STEPS = [
    {"id": "mail", "type": "send", "channel": "email", "template": "sc-mail"},
    {"id": "coupon", "type": "issue_coupon", "coupon_id": "THANKS", "expires_days": 30},
    {"id": "call", "type": "call_center", "template": "sc-call"},
]


def prepare(tmp: Path, state_url: str) -> tuple[Path, str]:
    url = None if state_url.startswith("sqlite") else state_url
    ws = build(tmp / "ws", url)
    ids = [f"k{i:03d}" for i in range(N)]
    bulk_load(
        ws.warehouse,
        "customers",
        pd.DataFrame(
            {
                "customer_id": ids,
                "email": [f"{i}@example.jp" for i in ids],
                "name": ["顧客"] * N,
                "registered_at": [datetime(2025, 1, 1)] * N,
                "email_opt_in": [True] * N,
                "line_opt_in": [False] * N,
                "dm_opt_in": [False] * N,
                "push_opt_in": [False] * N,
                "time_zone": ["Asia/Tokyo"] * N,
            }
        ),
    )
    trigger = {"type": "broadcast", "at": "2026-01-05T12:30:00+09:00"}
    with session_scope(ws.sessions) as db:
        d = parse_definition(scenario(key="crash", trigger=trigger, steps=STEPS))
        store.save(db, d, utc_naive(NOW))
        store.set_status(db, "crash", "enabled", utc_naive(NOW))
    state = ws.settings.state_url
    ws.close()
    return tmp / "ws", state


def start(
    home: Path, state: str, warehouse: Path | None = None, at_epoch: float | None = None
) -> subprocess.Popen[str]:
    env = dict(os.environ, TOKUI_STATE_URL=state)
    if warehouse is not None:
        env["TOKUI_WAREHOUSE_URL"] = f"duckdb://{warehouse}"
    at = (NOW + timedelta(hours=1)).isoformat()
    args = [sys.executable, "-m", "tests.scenarios.crash_worker", str(home), at, "4"]
    if at_epoch is not None:
        args.append(str(at_epoch))
    return subprocess.Popen(
        args,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def outbox_count(home: Path, state: str) -> int:
    ws = Workspace.open(home)
    ws.settings.state_url = state
    try:
        with session_scope(ws.sessions) as db:
            return int(db.scalar(select(func.count()).select_from(OutboxMessage)) or 0)
    finally:
        ws.close()


def check(home: Path, state: str) -> None:
    ws = Workspace.open(home)
    ws.settings.state_url = state
    try:
        with session_scope(ws.sessions) as db:
            rows = db.execute(select(OutboxMessage.channel, OutboxMessage.customer_id)).all()
            per = Counter((ch, c) for ch, c in rows)
            grants = Counter(db.scalars(select(Grant.customer_id)).all())
            statuses = Counter(db.scalars(select(Enrollment.status)).all())
            queued = db.scalar(select(func.count()).where(JourneyEntry.outcome == "queued"))
        customers = ["c1", "c3"] + [f"k{i:03d}" for i in range(N)]  # c2: no e-mail consent
        assert {k: v for k, v in per.items() if k[0] == "email"} == {
            ("email", c): 1 for c in customers
        }
        assert sum(v for k, v in per.items() if k[0] == "call_center") == N + 3
        assert set(per.values()) == {1}
        assert grants == Counter({c: 1 for c in [*customers, "c2"]})
        assert statuses == Counter({"completed": N + 3})
        assert queued == len(rows)  # every outbox row has its journal line: same commit
    finally:
        ws.close()


def test_killed_worker_loses_and_doubles_nothing(state_url: str, tmp_path: Path) -> None:
    home, state = prepare(tmp_path, state_url)
    rng = random.Random(20260105)
    total = 2 * N + 5
    mid_work = 0
    for _ in range(8):
        before = outbox_count(home, state)
        proc = start(home, state)
        # Wait until this run has committed something, then kill it at a random point of
        # the work that follows (inside a batch, between batches, mid-commit).
        deadline = time.monotonic() + 60
        while proc.poll() is None and outbox_count(home, state) == before:
            assert time.monotonic() < deadline, "the worker made no progress"
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 0.4))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        after = outbox_count(home, state)
        mid_work += after < total
        if after == total:
            break
    assert mid_work >= 3, mid_work
    proc = start(home, state)
    _out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    check(home, state)


@pytest.mark.parametrize("state_url", ["postgres"], indirect=True)
def test_two_workers_on_postgresql_never_queue_the_same_message(
    state_url: str, tmp_path: Path
) -> None:
    home, state = prepare(tmp_path, state_url)
    # Each worker reads its own copy of the warehouse (DuckDB allows one writer
    # process); the state DB they share is what is under test.
    copies = []
    for name in ("a", "b"):
        copy = tmp_path / f"warehouse-{name}.duckdb"
        shutil.copy(home / "warehouse.duckdb", copy)
        copies.append(copy)
    go = time.time() + 6  # both have imported everything by then
    procs = [start(home, state, c, go) for c in copies]
    results = [p.communicate(timeout=300) for p in procs]
    for p, (_, err) in zip(procs, results, strict=True):
        assert p.returncode == 0, err
    counts = [int(out.strip()) for out, _ in results]
    assert sum(counts) == 2 * (N + 2) + 1  # emails to N+2 customers, N+3 call tasks
    assert min(counts) > 0, counts  # both really worked the same queue
    check(home, state)

"""Events API: web events per second posted in batches to the real app on DuckDB.

Target (issue 4): at least 5,000 events/s in batches on one process. The server is the
real application (create_app: middleware, key check, pydantic validation, dedup and
identity stitching) run by uvicorn in a child process, on a workspace whose DuckDB
warehouse is prefilled with web events so that the dedup and stitching queries see a
table of realistic size. The client posts batches one after another over one keep-alive
HTTP connection on the loopback, from this process.
Usage: python bench/bench_events_api.py [EVENTS ...]   (default: 200,000)
"""

from __future__ import annotations

import json
import multiprocessing
import socket
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
import pyarrow as pa
from ibis.backends import BaseBackend

from tokui.ingest.web_events import WEB_IDENTITIES

PREFILL = 2_000_000
BATCH_SIZES = (500, 1000)
ANONYMOUS = 50_000


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _prefill(home: Path, rows: int) -> None:
    from tokui.ingest.web_events import ensure_identity_table
    from tokui.warehouse.load import bulk_load
    from tokui.workspace import Workspace

    ws = Workspace.open(home)
    rng = np.random.default_rng(3)
    start = np.datetime64("2025-01-01T00:00:00")
    # A third of the browsers belong to known customers (anon-k is customer Ck): their
    # events are already stitched, as they would be after running for a while.
    k = rng.integers(0, ANONYMOUS, rows)
    anon = np.char.add("anon-", k.astype(str))
    known = k % 3 == 0
    logins = known & (rng.random(rows) < 0.03)
    customers = [f"C{i}" if ok else None for i, ok in zip(k.tolist(), known.tolist(), strict=True)]
    table = pa.table(
        {
            "event_id": pa.array(np.char.add("pre-", np.arange(rows).astype(str))),
            "occurred_at": pa.array(
                start + rng.integers(0, 150 * 86400, rows).astype("timedelta64[s]")
            ),
            "event_type": pa.array(np.where(logins, "login", "product_view")),
            "anonymous_id": pa.array(anon),
            "customer_id": pa.array(customers, pa.string()),
            "product_id": pa.array(np.char.add("P", rng.integers(1, 300, rows).astype(str))),
        }
    )
    bulk_load(ws.warehouse, "web_events", table)
    known_ids = np.arange(0, ANONYMOUS, 3)
    ensure_identity_table(ws.warehouse)
    bulk_load_identities(
        ws.warehouse,
        pa.table(
            {
                "anonymous_id": pa.array(np.char.add("anon-", known_ids.astype(str))),
                "customer_id": pa.array(np.char.add("C", known_ids.astype(str))),
                "linked_at": pa.array(np.repeat(start, len(known_ids))),
            }
        ),
    )
    ws.close()


def bulk_load_identities(con: BaseBackend, table: pa.Table) -> None:
    """web_identities is not a file-import table, so bulk_load does not know it."""
    con.insert(WEB_IDENTITIES.name, table)


def _serve(home: str, port: int) -> None:
    import uvicorn

    from tokui.web.app import create_app
    from tokui.workspace import Workspace

    ws = Workspace.open(Path(home))
    uvicorn.run(create_app(ws), host="127.0.0.1", port=port, log_level="warning")


def _batches(total: int, size: int, seed: int) -> list[bytes]:
    rng = np.random.default_rng(seed)
    now = datetime(2025, 6, 1, tzinfo=UTC)
    out = []
    for first in range(0, total, size):
        events = []
        for i in range(first, min(total, first + size)):
            kind = rng.random()
            k = int(rng.integers(0, ANONYMOUS))
            anon = f"anon-{k}"
            e: dict[str, object] = {
                "event_id": uuid.UUID(int=int(rng.integers(0, 2**63)) << 64 | i).hex,
                "occurred_at": (now + timedelta(seconds=i)).isoformat(),
                "anonymous_id": anon,
                "session_id": f"s-{anon}",
                "page_url": f"https://shop.example/products/P{i % 300}",
                "referrer": "https://www.google.com/",
            }
            if kind < 0.005:
                e |= {"event_type": "login", "customer_id": f"C{k}"}
            elif kind < 0.1:
                e |= {"event_type": "cart_add", "product_id": f"P{i % 300}", "quantity": 1}
            elif kind < 0.6:
                e |= {"event_type": "product_view", "product_id": f"P{i % 300}"}
            else:
                e |= {"event_type": "page_view"}
            events.append(e)
        out.append(json.dumps({"events": events}).encode())
    return out


def run(total: int) -> list[str]:
    from tokui.state.api_sources import SourceKind, create_source
    from tokui.state.db import session_scope
    from tokui.workspace import init_workspace

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "ws"
        ws = init_workspace(home)
        with session_scope(ws.sessions) as s:
            _, key = create_source(s, "bench", SourceKind.secret, datetime(2025, 6, 1))
        ws.close()
        _prefill(home, PREFILL)
        port = _port()
        server = multiprocessing.get_context("spawn").Process(
            target=_serve, args=(str(home), port), daemon=True
        )
        server.start()
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    httpx.get(base + "/healthz", timeout=1)
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
            headers = {"authorization": f"Bearer {key}", "content-type": "application/json"}
            with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
                for n, size in enumerate(BATCH_SIZES):
                    bodies = _batches(total, size, seed=n)
                    accepted = 0
                    t0 = time.perf_counter()
                    for body in bodies:
                        r = client.post("/api/v1/events", content=body)
                        r.raise_for_status()
                        accepted += r.json()["accepted"]
                    seconds = time.perf_counter() - t0
                    assert accepted == total, (accepted, total)
                    rows.append(
                        f"| {size:,} | {len(bodies):,} | {total:,} | {PREFILL:,} | "
                        f"{seconds:.1f} | {total / seconds:,.0f} | "
                        f"{1000 * seconds / len(bodies):.0f} |"
                    )
        finally:
            server.terminate()
            server.join(timeout=10)
    return rows


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [200_000]
    print(
        "`python bench/bench_events_api.py` — POST /api/v1/events to the real app "
        "(uvicorn in a child process, DuckDB warehouse prefilled with web events), "
        "batches posted sequentially over one keep-alive connection.\n"
    )
    print("| batch size | batches | events | prefilled rows | seconds | events/s | ms per batch |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for n in sizes:
        for row in run(n):
            print(row, flush=True)


if __name__ == "__main__":
    main()

"""Scenario engine: a daily tick over the simulated shop with the whole library enabled,
a broadcast, and the delay from a cart-add event to its abandonment timer.

Targets (issue 9): one tick over 1,000,000 customers with all library scenarios enabled
in under 60 s; event-triggered enrollment (the cart abandonment timer set) within 1 s of
the event arriving.

1. Daily tick. The cached simulated shop (bench/common.py) after its nightly refresh
   (customer features and model scores as of its last day, cached in bench-data/); every
   scenario of the library (read from the library folder at run time) installed and
   enabled, their triggers last checked 24 hours before the tick: the tick evaluates
   every trigger over every customer for a whole day (date triggers fire for the day,
   event triggers for 24 hours of events), enrolls, and runs the first steps (points,
   coupons, messages queued into the outbox with their template context, held by quiet
   hours and caps). Then a tick a minute later, with nothing new; then the next
   morning's 10:00 tick, when the day's enrollments that wait for 10:00 (new products,
   birthdays, follow-ups, ...) come due together: the heaviest tick of the day. Then
   the delivery worker's render pass over all of that tick's messages (what it does
   before sending them; tokui.messaging.deferred); the day's earlier messages are
   rendered before the wave, untimed.
2. Broadcast: one scenario (coupon, personalised email, wait) to N synthetic customers.
3. Event latency: the real app (uvicorn in a child process) on the same shop; cart-add
   events posted one at a time to /api/v1/events; the time until the pending enrollment
   (the timer) is in the state DB, read by this process.

Each case runs in a child process, so peak memory is its own. The state DB is SQLite;
with TOKUI_BENCH_PG_URL (a PostgreSQL server URL; a throwaway database is created and
dropped) the daily tick and the broadcast also run on PostgreSQL.
Usage: python bench/bench_scenarios.py [CUSTOMERS [BROADCAST]]   (1,000,000 and 100,000)
"""

from __future__ import annotations

import json
import multiprocessing
import os
import resource
import shutil
import socket
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from common import DATA, END, shop

NOW = datetime(2026, 10, 31, 1, 30, tzinfo=UTC)  # 10:30 JST on the shop's last day
WAVE = datetime(2026, 11, 1, 1, 0, tzinfo=UTC)  # 10:00 JST the next morning
EVENTS = 30  # cart adds posted one by one for the latency
TOML = """
[messaging]
sandbox = true
tracking_base_url = "https://crm.example.jp"
shop_url = "https://shop.example.jp"
shop_domains = ["shop.example.jp"]
sender_name = "ベンチ食品"
sender_address = "東京都千代田区1-1-1"
contact = "support@example.jp"
unsubscribe_mailto = "unsubscribe@example.jp"

[email]
from_address = "news@example.jp"
from_name = "ベンチ食品"
"""


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def prepared(customers: int) -> Path:
    """The cached shop after its nightly refresh: features and model scores as of END."""
    from tokui.clock import FixedClock
    from tokui.models.run import run_models
    from tokui.refresh.features import materialise_features
    from tokui.workspace import init_workspace

    folder = DATA / f"scenarios-{customers}-seed42"
    target = folder / "warehouse.duckdb"
    if (folder / "complete").exists():
        return target
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "ws"
        home.mkdir()
        shutil.copyfile(shop(customers).warehouse, home / "warehouse.duckdb")
        ws = init_workspace(home)
        materialise_features(ws.warehouse, END)
        run_models(ws.warehouse, ws.sessions, FixedClock(NOW), END)
        ws.close()
        shutil.move(str(home / "warehouse.duckdb"), target)
    (folder / "complete").write_text("ok\n", encoding="utf-8")
    return target


# PostgreSQL ---------------------------------------------------------------------------
def pg_database() -> str | None:
    """A new database on the server of TOKUI_BENCH_PG_URL; its SQLAlchemy URL."""
    import psycopg
    from psycopg import sql

    base = os.environ.get("TOKUI_BENCH_PG_URL")
    if not base:
        return None
    name = f"tokui_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = base.rsplit("/", 1)[0] + "/" + name
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def drop_pg(url: str) -> None:
    import psycopg
    from psycopg import sql

    base = os.environ["TOKUI_BENCH_PG_URL"]
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


# workspaces ---------------------------------------------------------------------------
def workspace(home: Path, warehouse: Path | None, state_url: str | None) -> Any:
    from tokui.state.db import make_engine, migrate
    from tokui.workspace import Workspace, init_workspace

    home.mkdir(parents=True)
    if warehouse is not None:
        shutil.copyfile(warehouse, home / "warehouse.duckdb")
    init_workspace(home, "bench@example.jp", "bench-password-123", shop_name="ベンチ").close()
    with (home / "tokui.toml").open("a", encoding="utf-8") as fh:
        if state_url is not None:
            fh.write(f'state_url = "{state_url}"\n')
        fh.write(TOML)
    if state_url is not None:
        migrate(make_engine(state_url))
    return Workspace.open(home)


def install_library(ws: Any, checked: datetime) -> list[str]:
    """Every library scenario installed and enabled, triggers last checked at `checked`."""
    from tokui.clock import FixedClock, utc_naive
    from tokui.messaging.service import Messaging
    from tokui.scenarios import library, store
    from tokui.state.db import session_scope

    context = Messaging(ws, FixedClock(NOW)).sample_context()
    keys = []
    with session_scope(ws.sessions) as db:
        for ready in library.load_library():
            library.install(db, ready, utc_naive(NOW), context)
            scenario = store.set_status(db, ready.definition.key, "enabled", utc_naive(NOW))
            scenario.trigger_checked_at = utc_naive(checked)
            keys.append(ready.definition.key)
    return keys


def by_scenario(ws: Any) -> dict[str, tuple[int, int]]:
    """Enrollments and queued customer messages per scenario key."""
    from sqlalchemy import func, select

    from tokui.scenarios.definition import MESSAGE_CHANNELS
    from tokui.state.db import session_scope
    from tokui.state.scenarios import Enrollment, JourneyEntry, Scenario

    with session_scope(ws.sessions) as db:
        entered = dict(
            db.execute(
                select(Scenario.key, func.count(Enrollment.id))
                .join(Enrollment, Enrollment.scenario_id == Scenario.id)
                .where(Enrollment.status != "pending")
                .group_by(Scenario.key)
            ).all()
        )
        sent = dict(
            db.execute(
                select(Scenario.key, func.count(JourneyEntry.id))
                .join(Enrollment, Enrollment.scenario_id == Scenario.id)
                .join(JourneyEntry, JourneyEntry.enrollment_id == Enrollment.id)
                .where(
                    JourneyEntry.outcome == "queued",
                    JourneyEntry.detail.in_(MESSAGE_CHANNELS),
                )
                .group_by(Scenario.key)
            ).all()
        )
    return {k: (int(entered.get(k, 0)), int(sent.get(k, 0))) for k in entered | sent}


def outbox_by_channel(ws: Any) -> dict[str, int]:
    from sqlalchemy import func, select

    from tokui.state.db import session_scope
    from tokui.state.messages import OutboxMessage

    with session_scope(ws.sessions) as db:
        rows = db.execute(
            select(OutboxMessage.channel, func.count()).group_by(OutboxMessage.channel)
        ).all()
    return {str(ch): int(n) for ch, n in rows}


# 1. the daily tick -------------------------------------------------------------------
def daily_tick(warehouse: Path, state_url: str | None) -> dict[str, Any]:
    from tokui.clock import FixedClock
    from tokui.messaging.service import Messaging
    from tokui.scenarios.engine import Engine, TickStats

    with tempfile.TemporaryDirectory() as tmp:
        ws = workspace(Path(tmp) / "ws", warehouse, state_url)
        customers = int(ws.warehouse.table("customers").count().execute())
        keys = install_library(ws, NOW - timedelta(days=1))
        clock = FixedClock(NOW)
        engine = Engine(Messaging(ws, clock), clock)
        stats = TickStats()
        t0 = time.perf_counter()
        engine.enroll(stats)
        t1 = time.perf_counter()
        engine.advance(stats)
        t2 = time.perf_counter()
        clock.advance(timedelta(minutes=1))
        t3 = time.perf_counter()
        idle = engine.tick()
        t4 = time.perf_counter()
        # The worker renders the day's messages before the next morning (not timed), so
        # that the render pass timed after the wave is the wave's messages alone.
        render_all(ws, clock)
        # The next morning at 10:00 JST: the day's "at 10:00" waits end together.
        clock.set(WAVE)
        wave = TickStats()
        t5 = time.perf_counter()
        engine.enroll(wave)
        t6 = time.perf_counter()
        engine.advance(wave)
        t7 = time.perf_counter()
        rendered, render_s = render_all(ws, clock)
        result = {
            "customers": customers,
            "scenarios": len(keys),
            "enroll_s": t1 - t0,
            "advance_s": t2 - t1,
            "tick_s": t2 - t0,
            "idle_s": t4 - t3,
            "idle_advanced": idle.advanced,
            "idle_enrolled": idle.enrolled,
            "enrolled": stats.enrolled,
            "advanced": stats.advanced,
            "queued": stats.queued,
            "held": stats.held,
            "skipped": stats.skipped,
            "finished": stats.finished,
            "wave": {
                "enroll_s": t6 - t5,
                "advance_s": t7 - t6,
                "tick_s": t7 - t5,
                "enrolled": wave.enrolled,
                "advanced": wave.advanced,
                "queued": wave.queued,
                "held": wave.held,
            },
            "rendered": rendered,
            "render_s": render_s,
            "per_scenario": by_scenario(ws),
            "channels": outbox_by_channel(ws),
            "peak_mib": peak_mib(),
        }
        ws.close()
    return result


def render_all(ws: Any, clock: Any) -> tuple[int, float]:
    """The delivery worker's render pass (tokui.messaging.deferred) over every message
    queued with its context, in batches of the worker's size, each its own transaction,
    as the worker does before its claims: (messages rendered or failed, seconds)."""
    from tokui.clock import utc_naive
    from tokui.messaging.deferred import render_pending
    from tokui.messaging.service import Messaging
    from tokui.state.db import session_scope

    messaging = Messaging(ws, clock)
    size = messaging.settings.batch_size
    done = 0
    t0 = time.perf_counter()
    while True:
        with session_scope(ws.sessions) as db:
            result = render_pending(messaging, db, utc_naive(clock.now()), size)
        done += result.rendered + len(result.failed)
        if result.picked < size:
            break
    return done, time.perf_counter() - t0


# 2. the broadcast --------------------------------------------------------------------
def broadcast(n: int, state_url: str | None) -> dict[str, Any]:
    import pandas as pd

    from tokui.clock import FixedClock, utc_naive
    from tokui.messaging.service import Messaging
    from tokui.messaging.store import TemplateDraft, create_template
    from tokui.scenarios import store
    from tokui.scenarios.definition import parse_definition
    from tokui.scenarios.engine import Engine
    from tokui.state.db import session_scope
    from tokui.warehouse import bulk_load

    start = datetime(2026, 1, 5, 3, tzinfo=UTC)  # 12:00 JST
    with tempfile.TemporaryDirectory() as tmp:
        ws = workspace(Path(tmp) / "ws", None, state_url)
        ids = [f"c{i:07d}" for i in range(n)]
        bulk_load(
            ws.warehouse,
            "customers",
            pd.DataFrame(
                {
                    "customer_id": ids,
                    "email": [f"{i}@example.jp" for i in ids],
                    "name": ["山田 太郎"] * n,
                    "registered_at": [datetime(2025, 1, 1)] * n,
                    "email_opt_in": [True] * n,
                    "line_opt_in": [False] * n,
                    "dm_opt_in": [False] * n,
                    "push_opt_in": [False] * n,
                    "time_zone": ["Asia/Tokyo"] * n,
                }
            ),
        )
        clock = FixedClock(start)
        messaging = Messaging(ws, clock)
        definition = parse_definition(
            {
                "key": "bench",
                "name_ja": "ベンチ",
                "name_en": "Bench",
                "trigger": {"type": "broadcast", "at": "2026-01-05T12:30:00+09:00"},
                "goal": {"within_days": 7},
                "steps": [
                    {"id": "coupon", "type": "issue_coupon", "coupon_id": "B", "expires_days": 7},
                    {"id": "mail", "type": "send", "channel": "email", "template": "bench"},
                    {"id": "wait", "type": "wait", "days": 3},
                ],
            }
        )
        with session_scope(ws.sessions) as db:
            create_template(
                db,
                key="bench",
                channel="email",
                draft=TemplateDraft(
                    name="ベンチ",
                    subject="{{ customer.name }}様へ",
                    html="<p>{{ customer.name }}様</p><p>{{ shop.name }}より冬のご案内です。</p>",
                ),
                is_marketing=True,
                at=utc_naive(start),
                user_id=None,
                check_context=messaging.sample_context(),
            )
            store.save(db, definition, utc_naive(start))
            store.set_status(db, "bench", "enabled", utc_naive(start))
        clock.advance(timedelta(hours=1))
        engine = Engine(messaging, clock)
        t0 = time.perf_counter()
        stats = engine.tick()
        seconds = time.perf_counter() - t0
        assert stats.enrolled == n and stats.queued == n, stats
        ws.close()
    return {"n": n, "seconds": seconds, "peak_mib": peak_mib()}


# 3. event latency --------------------------------------------------------------------
def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _serve(home: str, port: int) -> None:
    import uvicorn

    from tokui.clock import FixedClock
    from tokui.web.app import create_app
    from tokui.workspace import Workspace

    ws = Workspace.open(Path(home))
    uvicorn.run(create_app(ws, FixedClock(NOW)), host="127.0.0.1", port=port, log_level="warning")


def event_latency(warehouse: Path) -> dict[str, Any]:
    import httpx
    from sqlalchemy import select

    from tokui.state.api_sources import SourceKind, create_source
    from tokui.state.db import session_scope
    from tokui.state.scenarios import Enrollment

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "ws"
        ws = workspace(home, warehouse, None)
        install_library(ws, NOW)
        c = ws.warehouse.table("customers")
        picked = c.select("customer_id").order_by("customer_id").limit(EVENTS)
        customers = [r["customer_id"] for r in picked.to_pyarrow().to_pylist()]
        with session_scope(ws.sessions) as db:
            _, key = create_source(db, "bench", SourceKind.secret, NOW.replace(tzinfo=None))
        ws.close()
        port = _port()
        server = multiprocessing.get_context("spawn").Process(
            target=_serve, args=(str(home), port), daemon=True
        )
        server.start()
        ws = workspace_reader(home)
        latencies = []
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 120
            while True:
                try:
                    httpx.get(base + "/healthz", timeout=1)
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
            headers = {"authorization": f"Bearer {key}", "content-type": "application/json"}
            with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
                for i, cid in enumerate(customers):
                    at = NOW - timedelta(minutes=5) + timedelta(seconds=i)
                    body = {
                        "events": [
                            {
                                "event_id": f"bench-cart-{i}",
                                "occurred_at": at.isoformat(),
                                "event_type": "cart_add",
                                "customer_id": cid,
                                "product_id": "P1",
                            }
                        ]
                    }
                    occurrence = "cart:" + at.replace(tzinfo=None).isoformat()
                    t0 = time.perf_counter()
                    client.post("/api/v1/events", content=json.dumps(body)).raise_for_status()
                    while True:
                        with session_scope(ws.sessions) as db:
                            found = db.scalar(
                                select(Enrollment.id).where(
                                    Enrollment.customer_id == cid,
                                    Enrollment.occurrence == occurrence,
                                    Enrollment.status == "pending",
                                )
                            )
                        if found is not None:
                            break
                        if time.perf_counter() - t0 > 30:
                            raise RuntimeError(f"no timer for {cid} after 30 s")
                        time.sleep(0.002)
                    latencies.append(time.perf_counter() - t0)
        finally:
            ws.close()
            server.terminate()
            server.join(timeout=10)
    return {
        "events": len(latencies),
        "median_ms": 1000 * statistics.median(latencies),
        "max_ms": 1000 * max(latencies),
    }


def workspace_reader(home: Path) -> Any:
    from tokui.workspace import Workspace

    return Workspace.open(home)


# main --------------------------------------------------------------------------------
def _child(fn: Any, args: tuple[Any, ...], out: Any) -> None:
    out.put(fn(*args))


def in_child(fn: Any, *args: Any) -> Any:
    """Run a case in a fresh process: its peak memory is its own."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(fn, args, queue))
    proc.start()
    result = queue.get()
    proc.join()
    if proc.exitcode != 0:
        raise RuntimeError(f"{fn.__name__} failed")
    return result


def main() -> None:
    customers = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    n_broadcast = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    warehouse = in_child(prepared, customers)
    load_before = os.getloadavg()[0]
    states: list[tuple[str, str | None]] = [("SQLite", None)]
    pg = pg_database()
    if pg is not None:
        states.append(("PostgreSQL", pg))
    ticks = []
    casts = []
    try:
        for label, url in states:
            ticks.append((label, in_child(daily_tick, warehouse, url)))
            if url is not None:  # a fresh database for the broadcast
                drop_pg(url)
                url = pg = pg_database()
            casts.append((label, in_child(broadcast, n_broadcast, url)))
    finally:
        if pg is not None:
            drop_pg(pg)
    latency = in_child(event_latency, warehouse)

    first = ticks[0][1]
    print(
        f"`python bench/bench_scenarios.py` — the cached simulated shop "
        f"({first['customers']:,} customers, bench/common.py) after its nightly refresh; "
        f"all {first['scenarios']} library scenarios enabled, triggers last checked 24 h "
        f"before the tick at {NOW:%Y-%m-%d %H:%M} UTC (10:30 JST): every trigger "
        "evaluated over every customer for a whole day, enrollments and first steps "
        "(points, coupons, messages queued into the outbox with their template context); "
        "a minute later a tick with nothing new; then the next morning's 10:00 tick, when "
        "every enrollment that waited for 10:00 comes due at once and its message is "
        "queued. "
        "Warehouse DuckDB. Target: under 60 s. Peak memory covers all three ticks.\n"
    )
    print(
        "| state DB | tick | customers evaluated | tick s | triggers + enroll s | "
        "advance s | enrolled | enrollments advanced | messages queued | "
        "held (quiet hours, caps) | peak MiB |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, r in ticks:
        w = r["wave"]
        print(
            f"| {label} | first of the day, 10:30 | {r['customers']:,} | {r['tick_s']:.1f} | "
            f"{r['enroll_s']:.1f} | {r['advance_s']:.1f} | {r['enrolled']:,} | "
            f"{r['advanced']:,} | {r['queued']:,} | {r['held']:,} | {r['peak_mib']:,.0f} |"
        )
        print(
            f"| {label} | a minute later, nothing new | {r['customers']:,} | "
            f"{r['idle_s']:.1f} | | | {r['idle_enrolled']:,} | {r['idle_advanced']:,} | | | |"
        )
        print(
            f"| {label} | next morning 10:00, the send wave | {r['customers']:,} | "
            f"{w['tick_s']:.1f} | {w['enroll_s']:.1f} | {w['advance_s']:.1f} | "
            f"{w['enrolled']:,} | {w['advanced']:,} | {w['queued']:,} | {w['held']:,} | |"
        )
    if len(states) == 1:
        print("\nPostgreSQL state not measured: set TOKUI_BENCH_PG_URL to a server to run it.")
    print(
        "\nMessages are rendered by the delivery worker, not in the tick (docs/scenarios.md, "
        '"Messages are rendered by the delivery worker"): the tick stores each message\'s '
        "template context, and the worker renders a batch before each claim. That work "
        "has not gone away, it has moved: the worker's render pass (context decoded, "
        "sandboxed template, layout, signed links, text part, payload written; batches "
        "of the worker's size, one transaction each; the day's earlier messages rendered "
        "before the wave, untimed) over all of the send wave's messages took "
        + ", ".join(
            f"{r['render_s']:.1f} s on {label} ({r['rendered']:,} messages, "
            f"{r['rendered'] / r['render_s']:,.0f} messages/s)"
            for label, r in ticks
            if r["render_s"] > 0
        )
        + ", in the worker's one process, on top of the tick, before any of them is sent."
    )
    channels = Counter(first["channels"])
    print(
        "\nOutbox rows by channel after the three ticks (SQLite): "
        + ", ".join(f"{ch} {n:,}" for ch, n in sorted(channels.items()))
        + ". Enrollments and customer messages per scenario that anyone entered:\n"
    )
    print("| scenario | enrolled | messages |")
    print("|---|---:|---:|")
    for key, (entered, sent) in sorted(first["per_scenario"].items()):
        print(f"| {key} | {entered:,} | {sent:,} |")

    print(
        "\nBroadcast: one scenario (coupon, personalised email, 3-day wait) to every "
        "customer of a synthetic warehouse; one tick enrolls them all, issues the coupons "
        "and queues the emails with their template context.\n"
    )
    print("| state DB | customers | seconds | messages/s | peak MiB |")
    print("|---|---:|---:|---:|---:|")
    for label, r in casts:
        print(
            f"| {label} | {r['n']:,} | {r['seconds']:.1f} | {r['n'] / r['seconds']:,.0f} | "
            f"{r['peak_mib']:,.0f} |"
        )
    print(
        f"\nEvent to enrollment: {latency['events']} cart-add events posted one at a time "
        "to /api/v1/events of the real app (uvicorn, child process) on the same shop; time "
        "from sending the request until the pending enrollment (the abandonment timer) is "
        f"in the SQLite state DB: median {latency['median_ms']:.0f} ms, "
        f"max {latency['max_ms']:.0f} ms. Target: under 1 s.\n"
    )
    print(
        f"Measured {datetime.now(UTC):%Y-%m-%d}; 1-minute load average {load_before:.2f} "
        f"when the ticks began, {os.getloadavg()[0]:.2f} at the end."
    )


if __name__ == "__main__":
    main()

"""Measurement (issue 10).

1. Coverage: the holdout experiment of tokui.demo.experiment (a post-purchase email, 50 %
   holdout, each sent email brings an extra ¥3,000 order with probability 0.3) on a
   3,000-customer demo shop over 4 simulated weeks, for 20 seeds: how often the measured
   95 % intervals contain the true conversion and revenue uplift.
2. Scale: the measurement functions against the cached 1,000,000-customer demo shop
   (DuckDB, read-only) with a synthetic state DB (SQLite) of N enrollments of one holdout
   scenario, half of them sent an email with opens, clicks, bounces and unsubscribes.

Usage: python bench/bench_measure.py [--seeds 20] [--customers 3000] [--scale 200000]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))


def peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def coverage(seeds: int, customers: int) -> list[str]:
    from tokui.demo.experiment import ExperimentConfig, run_experiment

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(1, seeds + 1):
            config = ExperimentConfig(customers=customers, seed=seed, weeks=4)
            rows.append(run_experiment(Path(tmp) / f"ws{seed}", config))
    out = [
        f"`python bench/bench_measure.py --seeds {seeds} --customers {customers}` — "
        "holdout 50 %, p = 0.3, ¥3,000 per extra order, 4 weeks of entries, 7-day window.",
        "",
        "| seed | treated | held out | true Δ CVR | measured Δ CVR [95 % CI] | covered | "
        "true Δ ¥/customer | measured [95 % CI] | covered | s |",
        "|---:|---:|---:|---:|---|:-:|---:|---|:-:|---:|",
    ]
    for r in rows:
        c, v = r.uplift.conversion, r.uplift.revenue
        assert c is not None and v is not None
        out.append(
            f"| {r.config.seed} | {r.uplift.treatment.n:,} | {r.uplift.control.n:,} "
            f"| {r.true_conversion_uplift:.3f} "
            f"| {c.difference:.3f} [{c.difference_ci[0]:.3f}, {c.difference_ci[1]:.3f}] "
            f"| {'yes' if r.conversion_covered else '**no**'} "
            f"| {r.true_revenue_uplift:,.0f} "
            f"| {v.difference:,.0f} [{v.difference_ci[0]:,.0f}, {v.difference_ci[1]:,.0f}] "
            f"| {'yes' if r.revenue_covered else '**no**'} | {r.seconds:.1f} |"
        )
    conv = sum(r.conversion_covered for r in rows)
    rev = sum(r.revenue_covered for r in rows)
    significant = sum(
        1 for r in rows if r.uplift.conversion and r.uplift.conversion.difference_ci[0] > 0
    )
    agree = sum(r.engine_agrees for r in rows)
    out += [
        "",
        f"Coverage of the 95 % interval: conversion uplift {conv}/{len(rows)}, revenue per "
        f"customer {rev}/{len(rows)}. Conversion uplift significant (interval above 0) in "
        f"{significant}/{len(rows)} runs. Engine sent exactly to the reachable treated "
        f"customers in {agree}/{len(rows)} runs. Mean run (simulate, "
        f"{4 * 7 * 2} ticks, deliver, respond, measure) "
        f"{statistics.mean(r.seconds for r in rows):.1f} s.",
    ]
    return out


def scale(n: int) -> list[str]:
    import ibis
    import pandas as pd
    from common import shop
    from sqlalchemy import insert

    from tokui.measure.attribution import attribute
    from tokui.measure.kpis import kpis
    from tokui.measure.sendtime import best_hours, channel_preference
    from tokui.measure.uplift import scenario_uplift
    from tokui.scenarios import store
    from tokui.scenarios.definition import parse_definition
    from tokui.state.db import make_engine, migrate, session_factory, session_scope
    from tokui.state.messages import MessageEventRecord, OutboxMessage
    from tokui.state.scenarios import Enrollment, JourneyEntry

    bench = shop(1_000_000)
    con = ibis.duckdb.connect(str(bench.warehouse), read_only=True)
    t0 = datetime(2026, 9, 1, 1)
    ids = (
        con.table("customers").order_by("customer_id").limit(n).customer_id.to_pyarrow().to_pylist()
    )
    out: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/state.db")
        migrate(engine)
        sessions = session_factory(engine)
        began = time.perf_counter()
        with session_scope(sessions) as db:
            definition = {
                "key": "bench",
                "name_ja": "ベンチ",
                "name_en": "Bench",
                "trigger": {"type": "ordered"},
                "steps": [
                    {"id": "hold", "type": "holdout", "percent": 50},
                    {"id": "mail", "type": "send", "channel": "email", "template": "m"},
                ],
            }
            saved = store.save(db, parse_definition(definition), t0)
            sid, vid = saved.scenario.id, saved.version.id
            anchors = [t0 + timedelta(minutes=(i * 7 * 24 * 60) // n) for i in range(n)]
            db.execute(
                insert(Enrollment),
                [
                    {
                        "id": i + 1,
                        "scenario_id": sid,
                        "version_id": vid,
                        "customer_id": c,
                        "occurrence": "x",
                        "status": "holdout" if i % 2 else "completed",
                        "due_at": a,
                        "entered_at": a,
                        "updated_at": a,
                        "note": "",
                    }
                    for i, (c, a) in enumerate(zip(ids, anchors, strict=True))
                ],
            )
            treated = [i for i in range(n) if i % 2 == 0]
            db.execute(
                insert(OutboxMessage),
                [
                    {
                        "id": i + 1,
                        "idempotency_key": f"k{i}",
                        "channel": "email",
                        "customer_id": ids[i],
                        "recipient": f"{ids[i]}@example.jp",
                        "is_marketing": True,
                        "payload": "{}",
                        "status": "sent",
                        "attempts": 1,
                        "next_attempt_at": anchors[i],
                        "created_at": anchors[i],
                        "updated_at": anchors[i],
                        "sent_at": anchors[i],
                    }
                    for i in treated
                ],
            )
            journal = [
                {
                    "enrollment_id": i + 1,
                    "step_id": "hold",
                    "outcome": "holdout" if i % 2 else "treated",
                    "detail": "",
                    "at": anchors[i],
                }
                for i in range(n)
            ] + [
                {
                    "enrollment_id": i + 1,
                    "step_id": "mail",
                    "outcome": "queued",
                    "detail": "email",
                    "outbox_id": i + 1,
                    "at": anchors[i],
                }
                for i in treated
            ]
            db.execute(insert(JourneyEntry), journal)
            events = []
            for i in treated:
                a = anchors[i]
                kinds = [("sent", a)]
                if i % 4 == 0:
                    kinds.append(("opened", a + timedelta(hours=3)))
                if i % 24 == 0:
                    kinds.append(("clicked", a + timedelta(hours=4)))
                if i % 100 == 2:
                    kinds.append(("bounced", a + timedelta(minutes=5)))
                if i % 500 == 4:
                    kinds.append(("unsubscribed", a + timedelta(hours=5)))
                events += [
                    {
                        "outbox_id": i + 1,
                        "customer_id": ids[i],
                        "channel": "email",
                        "event": k,
                        "detail": "",
                        "at": at,
                    }
                    for k, at in kinds
                ]
            db.execute(insert(MessageEventRecord), events)
        setup = time.perf_counter() - began
        out += [
            "",
            f"Scale: the cached 1,000,000-customer shop (2,983,076 orders; DuckDB read-only) "
            f"and an SQLite state DB with {n:,} enrollments, {len(treated):,} emails and "
            f"{len(events):,} events (written in {setup:.1f} s).",
            "",
            "| what | seconds | result |",
            "|---|---:|---|",
        ]
        as_of = t0 + timedelta(days=30)
        week = (t0, t0 + timedelta(days=7))

        def timed(label: str, fn, describe) -> None:  # type: ignore[no-untyped-def]
            with session_scope(sessions) as db:
                start = time.perf_counter()
                result = fn(db)
                seconds = time.perf_counter() - start
            out.append(f"| {label} | {seconds:.2f} | {describe(result)} |")

        timed(
            "holdout uplift (scenario_uplift)",
            lambda db: scenario_uplift(con, db, "bench", as_of),
            lambda r: f"{r[0].treatment.n:,} vs {r[0].control.n:,} units",
        )
        for where in ("warehouse", "local"):
            timed(
                f"attribution, last touch, one week (join in {where})",
                lambda db, w=where: attribute(con, db, *week, force=w),
                lambda a: f"{len(a.credits):,} orders credited",
            )
        timed(
            "KPIs per scenario, channel, week",
            lambda db: kpis(con, db, *week),
            lambda k: f"{len(k.table):,} rows",
        )
        some = ids[:2000]
        now = (t0 + timedelta(days=8)).replace(tzinfo=UTC)
        timed(
            "best hours of 2,000 customers, with the shop's curve (180 days of orders)",
            lambda db: best_hours(con, db, now, ZoneInfo("Asia/Tokyo"), customer_ids=some),
            lambda b: f"{len(b.table):,} with history, fallback {b.fallback}:00",
        )
        timed(
            "channel preference, everyone",
            lambda db: channel_preference(db, now),
            lambda df: f"{pd.Series(df['customer_id']).nunique():,} customers",
        )
        engine.dispose()
    con.disconnect()
    out.append("")
    out.append(f"Peak RSS {peak_gib():.2f} GiB.")
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--customers", type=int, default=3000)
    parser.add_argument("--scale", type=int, default=200_000)
    args = parser.parse_args()
    lines = coverage(args.seeds, args.customers)
    if args.scale:
        lines += scale(args.scale)
    print("\n".join(lines))


if __name__ == "__main__":
    main()

"""Scenario engine: one tick that enrolls N customers (a broadcast) and runs their first
steps (issue a coupon, queue a personalised email) on an SQLite state DB; then a tick with
nothing due.

Target (issue 9): one tick over 1,000,000 customers with the whole library enabled in
under 60 s. Not met yet: this measures where the engine stands.
Usage: python bench/bench_scenarios.py [CUSTOMERS ...]   (default: 5,000)
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

NOW = datetime(2026, 1, 5, 3, tzinfo=UTC)  # 12:00 JST
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


def run(n: int) -> list[str]:
    from tokui.clock import FixedClock, utc_naive
    from tokui.messaging.service import Messaging
    from tokui.messaging.store import TemplateDraft, create_template
    from tokui.scenarios import store
    from tokui.scenarios.definition import parse_definition
    from tokui.scenarios.engine import Engine
    from tokui.state.db import session_scope
    from tokui.warehouse import bulk_load
    from tokui.workspace import Workspace, init_workspace

    home = Path(tempfile.mkdtemp()) / "ws"
    init_workspace(home, "bench@example.jp", "bench-password-123", shop_name="ベンチ").close()
    with (home / "tokui.toml").open("a", encoding="utf-8") as fh:
        fh.write(TOML)
    ws = Workspace.open(home)
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
    clock = FixedClock(NOW)
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
                name="ベンチ", subject="{{ customer.name }}様へ", html="<p>{{ shop.name }}</p>"
            ),
            is_marketing=True,
            at=utc_naive(NOW),
            user_id=None,
            check_context=messaging.sample_context(),
        )
        store.save(db, definition, utc_naive(NOW))
        store.set_status(db, "bench", "enabled", utc_naive(NOW))
    clock.advance(timedelta(hours=1))
    engine = Engine(messaging, clock)
    t0 = time.perf_counter()
    stats = engine.tick()
    busy = time.perf_counter() - t0
    assert stats.enrolled == n and stats.queued == n, stats
    clock.advance(timedelta(minutes=1))
    t0 = time.perf_counter()
    idle = engine.tick()
    quiet = time.perf_counter() - t0
    assert idle.advanced == 0
    ws.close()
    return [
        f"| enroll + coupon + email | {n:,} | {busy:.2f} | {n / busy:,.0f} | {peak_mib():.0f} |",
        f"| tick, nothing due | {n:,} | {quiet:.2f} | - | {peak_mib():.0f} |",
    ]


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [5_000]
    print("One scenario tick (broadcast: coupon, email, wait); state DB SQLite, batches of 200.")
    print("Target: 1,000,000 customers with the whole library in under 60 s (not met).\n")
    print("| step | customers | seconds | customers/s | peak MiB |")
    print("|---|---:|---:|---:|---:|")
    for n in sizes:
        for row in run(n):
            print(row, flush=True)
    print(f"\nMeasured {datetime.now(UTC):%Y-%m-%d}.")


if __name__ == "__main__":
    main()

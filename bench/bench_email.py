"""Email: personalised messages per second, rendered into the outbox and delivered over
SMTP to a local sink.

Target (issue 8): at least 1,500 personalised emails per second on a 2-core machine.
Each message is rendered for its customer from a stored template (sandboxed Jinja2,
layout, signed click links with UTM, open pixel, generated text part, legal footer) and
queued in the outbox of an SQLite state DB; the delivery worker then claims batches,
checks suppression, consent and the erasure list, builds the MIME bytes and sends them
over a pool of SMTP connections to an aiosmtpd sink in a child process (so the sink has
the second core), marking each message sent. End to end is the sum of the phases. The
last row sends one of the same messages as often, over as many connections, with no
Tokui code at all: the ceiling the client library and the pure-Python sink allow.
Usage: python bench/bench_email.py [MESSAGES ...]   (default: 20,000)
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import resource
import socket
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

TEMPLATE_HTML = """<h1>{{ customer.name }}様、いつもありがとうございます</h1>
<p>{{ customer.prefecture }}の{{ customer.name }}様へ、冬のおすすめをお届けします。</p>
<p>ポイント残高：{{ points.balance | number }}pt</p>
{% for c in coupons %}<p>クーポン：{{ c.name }}（{{ c.code }}）</p>{% endfor %}
<p><a href="https://shop.example.jp/sale?ref=mail">冬のセールを見る</a></p>
<p><a href="https://shop.example.jp/items/rice">新米 5kg</a></p>
"""


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _sink(port: int, ready: Any, stop: Any) -> None:
    from aiosmtpd.controller import Controller

    class Count:
        received = 0

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            Count.received += 1
            return "250 OK"

    controller = Controller(Count(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


async def _transport_only(port: int, message: bytes, count: int, connections: int) -> float:
    """The ceiling set by the client library and the sink: the same bytes, sent over the
    same number of connections, with no rendering, database or bookkeeping."""
    import aiosmtplib

    clients = [
        aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False)
        for _ in range(connections)
    ]
    for client in clients:
        await client.connect()
    left = [count]

    async def pump(client: aiosmtplib.SMTP) -> None:
        while left[0] > 0:
            left[0] -= 1
            await client.sendmail("news@example.jp", ["user@example.jp"], message)

    t0 = time.perf_counter()
    await asyncio.gather(*(pump(c) for c in clients))
    elapsed = time.perf_counter() - t0
    for client in clients:
        await client.quit()
    return elapsed


def _workspace(home: Path, customers: int) -> None:
    from tokui.refresh.features import materialise_features
    from tokui.warehouse import bulk_load
    from tokui.workspace import init_workspace

    ws = init_workspace(home, shop_name="とくい食品")
    with (home / "tokui.toml").open("a", encoding="utf-8") as fh:
        fh.write(
            '\n[messaging]\nsandbox = false\ntracking_base_url = "https://crm.example.jp"\n'
            'shop_url = "https://shop.example.jp"\nsender_name = "株式会社とくい食品"\n'
            'sender_address = "東京都千代田区丸の内1-1-1"\ncontact = "support@example.jp"\n'
        )
    ids = [f"C{i:07d}" for i in range(customers)]
    prefectures = ["東京都", "大阪府", "北海道", "福岡県", "愛知県"]
    bulk_load(
        ws.warehouse,
        "customers",
        pd.DataFrame(
            {
                "customer_id": ids,
                "email": [f"user{i}@example.jp" for i in range(customers)],
                "name": [f"顧客 {i}号" for i in range(customers)],
                "prefecture": [prefectures[i % 5] for i in range(customers)],
                "registered_at": [datetime(2024, 1, 1)] * customers,
                "email_opt_in": True,
                "line_opt_in": False,
                "dm_opt_in": False,
                "push_opt_in": False,
                "time_zone": "Asia/Tokyo",
            }
        ),
    )
    materialise_features(ws.warehouse, datetime(2025, 12, 31).date())
    ws.close()


def run(messages: int) -> list[str]:
    from sqlalchemy import select

    from tokui.clock import SystemClock, utc_naive
    from tokui.messaging.channel import OutgoingMessage
    from tokui.messaging.channels.email import EmailChannel
    from tokui.messaging.service import Messaging, Recipient
    from tokui.messaging.store import TemplateDraft, create_template, get_version
    from tokui.state.db import session_scope
    from tokui.state.messages import OutboxMessage
    from tokui.workspace import Workspace

    port = _port()
    ctx = multiprocessing.get_context("spawn")
    ready, stop = ctx.Event(), ctx.Event()
    sink = ctx.Process(target=_sink, args=(port, ready, stop), daemon=True)
    sink.start()
    ready.wait(30)
    rows: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "ws"
        _workspace(home, messages)
        ws = Workspace.open(home)
        clock = SystemClock()
        messaging = Messaging(ws, clock)
        messaging.settings.email.host = "127.0.0.1"
        messaging.settings.email.port = port
        messaging.settings.email.security = "none"
        messaging.settings.email.pool_size = 8
        messaging.settings.rate_per_second = {"email": 1e9}
        messaging.settings.batch_size = 1000
        messaging.settings.concurrency = 64
        with session_scope(ws.sessions) as db:
            template = create_template(
                db,
                key="bench",
                channel="email",
                draft=TemplateDraft(
                    "bench", "【{{ shop.name }}】{{ customer.name }}様へ", TEMPLATE_HTML
                ),
                is_marketing=True,
                at=utc_naive(clock.now()),
                user_id=None,
                check_context=messaging.sample_context(),
            )
            version = get_version(db, template)
        ids = [f"C{i:07d}" for i in range(messages)]
        t0 = time.perf_counter()
        data = messaging.customers(ids)
        t_load = time.perf_counter() - t0
        t0 = time.perf_counter()
        with session_scope(ws.sessions) as db:
            recipients = [Recipient(c, str(data[c].customer["email"]), data[c]) for c in ids]
            messaging.queue(db, template, version, recipients, "bench")
        t_queue = time.perf_counter() - t0

        async def deliver() -> int:
            worker = messaging.worker()
            sent = 0
            try:
                while True:
                    stats = await worker.run_once()
                    sent += stats.sent
                    if stats.claimed == 0:
                        return sent
            finally:
                await worker.aclose()

        t0 = time.perf_counter()
        sent = asyncio.run(deliver())
        t_send = time.perf_counter() - t0
        with session_scope(ws.sessions) as db:
            sample = db.scalar(select(OutboxMessage).limit(1))
            assert sample is not None
            channel = EmailChannel(messaging.settings, clock)
            raw = channel.to_bytes(
                OutgoingMessage(
                    sample.id,
                    sample.idempotency_key,
                    "email",
                    sample.recipient,
                    sample.customer_id,
                    json.loads(sample.payload),
                    sample.provider_message_id,
                )
            )
        t_raw = asyncio.run(_transport_only(port, raw, messages, 8))
        ws.close()
    stop.set()
    sink.join(10)
    if sent != messages:
        raise SystemExit(f"sent {sent} of {messages}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    total = t_load + t_queue + t_send

    def row(phase: str, seconds: float, peak: str = "") -> str:
        return f"| {phase} | {messages:,} | {seconds:.2f} | {messages / seconds:,.0f} | {peak} |"

    rows.append(row("load customer data (warehouse)", t_load))
    rows.append(row("render and queue (outbox)", t_queue))
    rows.append(row("deliver over SMTP (worker)", t_send))
    rows.append(row("**end to end**", total, f"{rss:,.0f}"))
    rows.append(row(f"SMTP transport alone, same bytes ({len(raw):,} B), no Tokui", t_raw))
    return rows


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [20_000]
    print("Personalised emails to a local SMTP sink (aiosmtpd in a child process); state DB")
    print("SQLite, 8 pooled SMTP connections, batches of 1,000. Target: 1,500 emails/s.\n")
    print("| phase | emails | seconds | emails/s | peak MiB |")
    print("|---|---:|---:|---:|---:|")
    for n in sizes:
        for row in run(n):
            print(row)
    print(f"\nMeasured {datetime.now(UTC):%Y-%m-%d}.")


if __name__ == "__main__":
    main()

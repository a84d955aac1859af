"""Email: personalised messages per second, rendered into the outbox and delivered over
SMTP to a local sink.

Target (issue 8): at least 1,500 personalised emails per second on a 2-core machine.
Each message is rendered for its customer from a stored template (sandboxed Jinja2,
layout, signed click links with UTM, open pixel, generated text part, legal footer) and
queued in the outbox of an SQLite state DB; the delivery worker then claims batches,
checks suppression, consent and the erasure list, builds the MIME bytes and sends them
over a pool of SMTP connections, pipelined (RFC 2920), marking each message sent. End
to end is first the sum of the phases, one after the other, each with the machine to
itself; then as it runs in a shop, the worker in a process of its own sending while
the main process queues another 20,000 messages (1,000 to a transaction), timed from
the first queued to the last sent.

The sink is bench/smtp_sink.py in a child process (so it has the second core): a lean
asyncio SMTP server that receives every message over a real TCP session; after the
clock stops it parses every message and checks it against its recipient (subject, text
and HTML parts personalised, tracking links present, one message per customer, unique
Message-IDs), and the run fails on any problem; both end-to-end runs have a sink of
their own. aiosmtpd, the usual Python SMTP server,
costs more CPU per message than all of Tokui's sending: the last rows send the same
messages to it, to show that.
Usage: python bench/bench_email.py [MESSAGES ...]   (default: 20,000)
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import resource
import socket
import sys
import tempfile
import time
from collections.abc import Callable
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
CONNECTIONS = 8


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _aiosmtpd(port: int, conn: Any) -> None:
    """aiosmtpd, counting messages; it advertises PIPELINING (its stream reader handles
    pipelined commands), so Tokui pipelines to it as to the lean sink."""
    from aiosmtpd.controller import Controller

    class Count:
        received = 0

        async def handle_EHLO(
            self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
        ) -> list[str]:
            session.host_name = hostname
            return [*responses[:-1], "250-PIPELINING", responses[-1]]

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            Count.received += 1
            return "250 OK"

    controller = Controller(Count(), hostname="127.0.0.1", port=port)
    controller.start()
    conn.send("ready")
    while conn.recv() == "cpu":
        conn.send(time.process_time())
    controller.stop()
    conn.send({"received": Count.received})
    conn.close()


class SinkProcess:
    """A sink in a child process, driven over a pipe."""

    def __init__(self, target: Callable[..., None], *args: Any) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.port = _port()
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=target, args=(self.port, child, *args), daemon=True)
        self.process.start()
        if not self.conn.poll(60) or self.conn.recv() != "ready":
            raise SystemExit("the SMTP sink did not start")

    def cpu(self) -> float:
        self.conn.send("cpu")
        seconds: float = self.conn.recv()
        return seconds

    def stop(self) -> dict[str, Any]:
        self.conn.send("stop")
        summary: dict[str, Any] = self.conn.recv()
        self.process.join(30)
        return summary


async def _transport_only(port: int, message: bytes, count: int, connections: int) -> float:
    """The ceiling set by the SMTP client and the sink: the same bytes over the same
    number of pipelined connections, with no rendering, database or MIME building."""
    import aiosmtplib

    from tokui.messaging.smtp_pipeline import Envelope, deliver

    clients = [
        aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False)
        for _ in range(connections)
    ]
    for client in clients:
        await client.connect()
    left = [count]
    envelope = Envelope("news@example.jp", "user0@example.jp", message)
    failed: list[object] = []

    async def next_job() -> tuple[int, Envelope] | None:
        if left[0] <= 0:
            return None
        left[0] -= 1
        return left[0], envelope

    def done(index: int, outcome: object) -> None:
        if not isinstance(outcome, str):
            failed.append(outcome)

    t0 = time.perf_counter()
    await asyncio.gather(*(deliver(c, next_job, done, 30.0) for c in clients))
    elapsed = time.perf_counter() - t0
    for client in clients:
        await client.quit()
    if failed:
        raise SystemExit(f"transport alone: {len(failed)} failed, first {failed[0]!r}")
    return elapsed


async def _lockstep_only(port: int, message: bytes, count: int, connections: int) -> float:
    """The previous ceiling: aiosmtplib's sendmail, one command at a time."""
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
            await client.sendmail("news@example.jp", ["user0@example.jp"], message)

    t0 = time.perf_counter()
    await asyncio.gather(*(pump(c) for c in clients))
    elapsed = time.perf_counter() - t0
    for client in clients:
        await client.quit()
    return elapsed


def _configure(messaging: Any, port: int) -> None:
    settings = messaging.settings
    settings.email.host = "127.0.0.1"
    settings.email.port = port
    settings.email.security = "none"
    settings.email.pool_size = CONNECTIONS
    settings.rate_per_second = {"email": 1e9}
    settings.batch_size = 1000


async def _deliver_all(messaging: Any, expect: int | None = None) -> int:
    """Run the worker until nothing is left (`expect` None), or until it has sent
    `expect` messages, waiting for more while the queue is still being filled."""
    worker = messaging.worker()
    sent: int = 0
    try:
        while True:
            stats = await worker.run_once()
            sent += stats.sent
            if expect is not None and sent >= expect:
                return sent
            if stats.claimed == 0:
                if expect is None:
                    return sent
                await asyncio.sleep(0.01)
    finally:
        await worker.aclose()


def _worker_process(home: str, port: int, expect: int, conn: Any) -> None:
    """The delivery worker in a process of its own, as `tokui` runs it beside the web
    app: it sends what the benchmark's main process queues meanwhile."""
    from tokui.clock import SystemClock
    from tokui.messaging.service import Messaging
    from tokui.workspace import Workspace

    ws = Workspace.open(Path(home))
    messaging = Messaging(ws, SystemClock())
    _configure(messaging, port)
    conn.send("ready")
    sent = asyncio.run(_deliver_all(messaging, expect))
    ws.close()
    conn.send(sent)
    conn.close()


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


def run(messages: int) -> tuple[list[str], list[str]]:
    import json

    import smtp_sink
    from sqlalchemy import select, update

    from tokui.clock import SystemClock, utc_naive
    from tokui.messaging.channel import OutgoingMessage
    from tokui.messaging.channels.email import EmailChannel
    from tokui.messaging.service import Messaging, Recipient
    from tokui.messaging.store import TemplateDraft, create_template, get_version
    from tokui.state.db import session_scope
    from tokui.state.messages import OutboxMessage
    from tokui.workspace import Workspace

    rows: list[str] = []
    notes: list[str] = []
    sink = SinkProcess(smtp_sink.serve, True)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "ws"
        _workspace(home, messages)
        ws = Workspace.open(home)
        clock = SystemClock()
        messaging = Messaging(ws, clock)
        _configure(messaging, sink.port)
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

        cpu0 = sink.cpu()
        t0 = time.perf_counter()
        sent = asyncio.run(_deliver_all(messaging))
        t_send = time.perf_counter() - t0
        sink_cpu = sink.cpu() - cpu0
        checked = sink.stop()
        if sent != messages or checked["problems"] or checked["received"] != messages:
            raise SystemExit(f"sent {sent} of {messages}; the sink found {checked}")

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
        bare = SinkProcess(smtp_sink.serve, False)
        t_raw = asyncio.run(_transport_only(bare.port, raw, messages, CONNECTIONS))
        if bare.stop()["received"] != messages:
            raise SystemExit("the sink did not receive every message of the transport row")

        # Queue and worker at once, on the two cores: new messages (their own keys) to
        # the same customers, queued 1,000 to a transaction while a worker process
        # sends; timed until the worker has sent the last one.
        together = SinkProcess(smtp_sink.serve, True)
        ctx = multiprocessing.get_context("spawn")
        conn, child = ctx.Pipe()
        process = ctx.Process(
            target=_worker_process, args=(str(home), together.port, messages, child)
        )
        process.start()
        if not conn.poll(60) or conn.recv() != "ready":
            raise SystemExit("the worker process did not start")
        t0 = time.perf_counter()
        for start in range(0, messages, 1000):
            with session_scope(ws.sessions) as db:
                messaging.queue(db, template, version, recipients[start : start + 1000], "both")
        t_queued = time.perf_counter() - t0
        sent_together = conn.recv()
        t_together = time.perf_counter() - t0
        process.join(30)
        checked_together = together.stop()
        if (
            sent_together != messages
            or checked_together["problems"]
            or checked_together["received"] != messages
        ):
            raise SystemExit(f"queue and worker together: {checked_together}")

        # The first messages again, to aiosmtpd: their rows back to queued.
        other = SinkProcess(_aiosmtpd)
        messaging.settings.email.port = other.port
        with session_scope(ws.sessions) as db:
            db.execute(
                update(OutboxMessage)
                .where(OutboxMessage.idempotency_key.like("bench:%"))
                .values(status="queued", attempts=0)
            )
        cpu0 = other.cpu()
        t0 = time.perf_counter()
        sent_again = asyncio.run(_deliver_all(messaging))
        t_aiosmtpd = time.perf_counter() - t0
        aiosmtpd_cpu = other.cpu() - cpu0
        t_lockstep = asyncio.run(_lockstep_only(other.port, raw, messages, CONNECTIONS))
        if sent_again != messages or other.stop()["received"] != 2 * messages:
            raise SystemExit("aiosmtpd did not receive every message")
        ws.close()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    total = t_load + t_queue + t_send

    def row(phase: str, seconds: float, peak: str = "") -> str:
        return f"| {phase} | {messages:,} | {seconds:.2f} | {messages / seconds:,.0f} | {peak} |"

    rows.append(row("load customer data (warehouse)", t_load))
    rows.append(row("render and queue (outbox)", t_queue))
    rows.append(row(f"deliver over SMTP (worker, {CONNECTIONS} pipelined connections)", t_send))
    rows.append(row("**end to end** (the phases one after the other)", total, f"{rss:,.0f}"))
    rows.append(row("**end to end, queue and worker at once** (two processes)", t_together))
    rows.append(row(f"SMTP alone: same bytes ({len(raw):,} B), pipelined, no Tokui work", t_raw))
    rows.append(row("aiosmtpd sink: deliver the same messages again (worker)", t_aiosmtpd))
    rows.append(row("aiosmtpd sink: same bytes, aiosmtplib sendmail (lock step)", t_lockstep))
    notes.append(
        f"Sink CPU while the worker delivered: lean sink {sink_cpu:.2f} s "
        f"({sink_cpu / messages * 1e6:,.0f} µs a message), aiosmtpd {aiosmtpd_cpu:.2f} s "
        f"({aiosmtpd_cpu / messages * 1e6:,.0f} µs a message)."
    )
    notes.append(
        f"At once: the main process queued 1,000 messages to a transaction and was done "
        f"after {t_queued:.2f} s; the worker process sent the last one "
        f"{t_together - t_queued:.2f} s later."
    )
    notes.append(
        f"The lean sink received {checked['received']:,} messages "
        f"({checked['bytes'] / 2**20:,.0f} MiB) for {checked['recipients']:,} recipients; "
        "each parsed and checked after the run: 0 problems."
    )
    return rows, notes


def main() -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    sizes = [int(a) for a in sys.argv[1:]] or [20_000]
    load_before = os.getloadavg()[0]
    print("Personalised emails to a local SMTP sink (bench/smtp_sink.py in a child process);")
    print(f"state DB SQLite, {CONNECTIONS} pooled SMTP connections, batches of 1,000.")
    print("Target: 1,500 emails/s end to end.\n")
    print("| phase | emails | seconds | emails/s | peak MiB |")
    print("|---|---:|---:|---:|---:|")
    notes: list[str] = []
    for n in sizes:
        rows, more = run(n)
        for row in rows:
            print(row)
        notes += more
    print()
    for note in notes:
        print(note)
    print(
        f"\nMeasured {datetime.now(UTC):%Y-%m-%d}; 1-minute load average "
        f"{load_before:.2f} before, {os.getloadavg()[0]:.2f} after."
    )


if __name__ == "__main__":
    main()

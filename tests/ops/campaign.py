"""A campaign written straight into the outbox, and a workspace whose workers send it
over SMTP to a local sink: shared by the exactly-once test and bench/bench_workers.py.

The rows go in with COPY (rendering templates is the scenario engine's business and
benchmark, not this one's); each carries the Message-ID the email channel fixes before
the first try, so a sink that counts Message-IDs tells which arrived twice or never.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import psycopg

DOMAIN = "shop.tokui.example"
PAYLOAD = json.dumps(
    {
        "subject": "【とくい食品】冬のご案内",
        "html": "<p>いつもありがとうございます。冬のおすすめをお届けします。</p>" * 8,
        "text": "いつもありがとうございます。冬のおすすめをお届けします。\n" * 8,
        "list_unsubscribe": "https://crm.tokui.example/u/token",
    },
    ensure_ascii=False,
)
COLUMNS = (
    "id, idempotency_key, channel, customer_id, recipient, is_marketing, payload, status, "
    "attempts, next_attempt_at, created_at, updated_at, provider_message_id"
)


def message_id(outbox_id: int, key: str) -> str:
    """As tokui.messaging.mime.message_id builds it (the exactly-once test checks)."""
    return f"<{outbox_id}.{hashlib.sha256(key.encode()).hexdigest()[:16]}@{DOMAIN}>"


def worker_workspace(home: Path, state_url: str, smtp_port: int) -> None:
    home.mkdir()
    (home / "tokui.toml").write_text(
        f"""
secret_key = "exactly-once-test-secret"
state_url = "{state_url}"
log_format = "json"

[messaging]
sandbox = false
tracking_base_url = "https://crm.tokui.example"
sender_name = "株式会社とくい食品"
sender_address = "東京都千代田区丸の内1-1-1"
contact = "support@tokui.example"
batch_size = 1000
concurrency = 64
rate_per_second = {{ email = 1000000 }}

[email]
from_address = "news@{DOMAIN}"
host = "127.0.0.1"
port = {smtp_port}
security = "none"
pool_size = 8
""",
        encoding="utf-8",
    )


def write_campaign(url: str, messages: int) -> set[str]:
    expected = set()
    with psycopg.connect(url) as con, con.cursor() as cur:
        with cur.copy(f"COPY outbox ({COLUMNS}) FROM STDIN") as copy:
            for i in range(1, messages + 1):
                key = f"campaign:winter-2025:C{i:07d}"
                mid = message_id(i, key)
                expected.add(mid)
                copy.write_row(
                    (i, key, "email", f"C{i:07d}", f"c{i}@example.jp", True, PAYLOAD, "queued",
                     0, "2025-12-01", "2025-12-01", "2025-12-01", mid)
                )  # fmt: skip
        cur.execute("SELECT setval('outbox_id_seq', %s)", (messages,))
    return expected

"""Workspaces, templates and a real SMTP server (aiosmtpd on 127.0.0.1) for the
messaging tests."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.messaging.shop import load_messaging_shop
from tokui.clock import FixedClock, utc_naive
from tokui.messaging.service import Messaging
from tokui.messaging.settings import EmailSettings, MessagingSettings
from tokui.messaging.store import TemplateDraft, create_template
from tokui.refresh.features import materialise_features
from tokui.state.db import session_scope
from tokui.workspace import Workspace, init_workspace

NOW = datetime(2025, 12, 31, 3, tzinfo=UTC)
SHOP_NAME = "とくい食品"
TRACKING = "https://crm.tokui.example"
ADMIN_EMAIL_PASSWORD = ("admin@example.com", "admin-password-123")

MESSAGING_TOML = """
[messaging]
sandbox = true
tracking_base_url = "https://crm.tokui.example"
shop_url = "https://shop.tokui.example"
shop_domains = ["shop.tokui.example"]
sender_name = "株式会社とくい食品"
sender_address = "東京都千代田区丸の内1-1-1"
contact = "support@tokui.example / 03-1234-5678"
unsubscribe_mailto = "unsubscribe@tokui.example"

[email]
from_address = "news@tokui.example"
from_name = "とくい食品"
"""

WELCOME_HTML = """<h1>{{ customer.name }}様、いつもありがとうございます</h1>
<p>ポイント残高：{{ points.balance | number }}pt</p>
{% for c in coupons %}<p>クーポン：{{ c.name }}（{{ c.code }}）</p>{% endfor %}
<p><a href="https://shop.tokui.example/sale?ref=mail">冬のセールを見る</a></p>
<p><a href="https://partner.example.org/page">提携先</a></p>
"""


def welcome_draft() -> TemplateDraft:
    return TemplateDraft(
        name="ウェルカム",
        subject="【{{ shop.name }}】{{ customer.name }}様へ冬のご案内",
        html=WELCOME_HTML,
    )


def _build(home: Path) -> None:
    ws = init_workspace(home, *ADMIN_EMAIL_PASSWORD, shop_name=SHOP_NAME)
    with (home / "tokui.toml").open("a", encoding="utf-8") as fh:
        fh.write(MESSAGING_TOML)
    load_messaging_shop(ws.warehouse)
    materialise_features(ws.warehouse, NOW.date())
    m = Messaging(ws, FixedClock(NOW))
    with session_scope(ws.sessions) as db:
        create_template(
            db,
            key="welcome",
            channel="email",
            draft=welcome_draft(),
            is_marketing=True,
            at=utc_naive(NOW),
            user_id=None,
            check_context=m.sample_context(),
        )
    ws.close()


@pytest.fixture(scope="session")
def messaging_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("messaging") / "shop"
    _build(home)
    return home


@pytest.fixture
def mws(messaging_template: Path, tmp_path: Path) -> Iterator[Workspace]:
    shutil.copytree(messaging_template, tmp_path / "ws")
    ws = Workspace.open(tmp_path / "ws")
    yield ws
    ws.close()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def messaging(mws: Workspace, clock: FixedClock) -> Messaging:
    return Messaging(mws, clock)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class SinkHandler:
    """Accepts mail and keeps it; `rules` answer RCPT TO for chosen addresses."""

    messages: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    rules: dict[str, Callable[[], str | None]] = field(default_factory=dict)
    # aiosmtpd reads commands from a stream one by one, so it handles pipelined ones
    # (RFC 2920) correctly, but does not advertise PIPELINING unless told to.
    pipelining: bool = False

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        if self.pipelining:
            return [*responses[:-1], "250-PIPELINING", responses[-1]]
        return responses

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        rule = self.rules.get(address.lower())
        reply = rule() if rule else None
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted"


class SMTPSink:
    """An SMTP server on 127.0.0.1 that can be stopped and started on the same port."""

    def __init__(self) -> None:
        self.handler = SinkHandler()
        self.port = free_port()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def email_settings(self, **overrides: Any) -> EmailSettings:
        values: dict[str, Any] = {
            "from_address": "news@tokui.example",
            "from_name": "とくい食品",
            "host": "127.0.0.1",
            "port": self.port,
            "security": "none",
            "timeout_seconds": 5.0,
            "pool_size": 2,
        }
        values.update(overrides)
        return EmailSettings(**values)


@pytest.fixture
def smtp_sink() -> Iterator[SMTPSink]:
    sink = SMTPSink()
    sink.start()
    yield sink
    sink.stop()


def real_settings(sink: SMTPSink, **overrides: Any) -> MessagingSettings:
    """Messaging settings that send for real to the sink."""
    values: dict[str, Any] = {
        "sandbox": False,
        "tracking_base_url": TRACKING,
        "shop_url": "https://shop.tokui.example",
        "shop_domains": ["shop.tokui.example"],
        "sender_name": "株式会社とくい食品",
        "sender_address": "東京都千代田区丸の内1-1-1",
        "contact": "support@tokui.example / 03-1234-5678",
        "unsubscribe_mailto": "unsubscribe@tokui.example",
        "rate_per_second": {"email": 10_000.0},
        "backoff_base_seconds": 60.0,
        "backoff_cap_seconds": 3600.0,
        "max_attempts": 5,
    }
    values.update(overrides)
    return MessagingSettings(**values, email=sink.email_settings())


@pytest.fixture
def state_sessions(state_url: str) -> Iterator[Any]:
    """A migrated state DB on SQLite and on PostgreSQL (the outbox runs on both)."""
    from tokui.state.db import make_engine, migrate, session_factory

    engine = make_engine(state_url)
    migrate(engine)
    yield session_factory(engine)
    engine.dispose()

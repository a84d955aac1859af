"""Pipelined SMTP (RFC 2920) in the email channel's batch send: replies map to their own
messages, refusals fail only their message, and a connection lost mid-batch settles
what was in flight and the batch goes on over a new connection."""

from __future__ import annotations

import asyncio
import email
import email.policy
import random
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiosmtplib
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.messaging.conftest import NOW, SinkHandler, SMTPSink, free_port, real_settings
from tokui.clock import FixedClock, utc_naive
from tokui.messaging import smtp_pipeline
from tokui.messaging.channel import (
    DeliveryError,
    OutgoingMessage,
    PermanentDeliveryError,
    SendResult,
    TemporaryDeliveryError,
)
from tokui.messaging.channels.email import EmailChannel
from tokui.messaging.outbox import enqueue
from tokui.messaging.smtp_pipeline import ReplyReader, data_content
from tokui.messaging.worker import DeliveryWorker
from tokui.state.db import make_engine, migrate, session_factory, session_scope
from tokui.state.messages import ContactSuppression, MessageEventRecord, OutboxMessage

PAYLOAD = {"subject": "冬のご案内", "html": "<p>こんにちは</p>", "text": "こんにちは\n"}


def test_data_content_stuffs_dots_and_ends_the_data() -> None:
    assert data_content(b"a\r\n.b\r\nc") == b"a\r\n..b\r\nc\r\n.\r\n"
    assert data_content(b".x\r\n") == b"..x\r\n.\r\n"
    # Bare CR or LF would be read differently by different servers: made CRLF.
    assert data_content(b"x\ny\rz\r\n") == b"x\r\ny\r\nz\r\n.\r\n"
    # What build_email wrote is CRLF already and is only stuffed.
    assert data_content(b"a\r\n.b\r\n", crlf=True) == b"a\r\n..b\r\n.\r\n"


def test_replies_are_read_in_order_whatever_the_pieces() -> None:
    async def run() -> tuple[list[tuple[int, str]], list[tuple[int, str]], bool]:
        reader = ReplyReader()
        reader.data_received(b"250-first\r\n25")
        reader.data_received(b"0 second\r\n354 go ahead\r\n55")
        first = await reader.read(2, 1.0)
        reader.data_received(b"0 5.1.1 no\r\n")
        second = await reader.read(1, 1.0)
        return (
            [(r.code, r.message) for r in first],
            [(r.code, r.message) for r in second],
            reader.idle,
        )

    first, second, idle = asyncio.run(run())
    assert first == [(250, "first\nsecond"), (354, "go ahead")]
    assert second == [(550, "5.1.1 no")]
    assert idle


def test_a_reply_that_never_comes_times_out() -> None:
    async def run() -> tuple[int, str]:
        reader = ReplyReader()
        reader.data_received(b"250 ok\r\n")
        got = await reader.read(2, 0.05)
        return len(got), type(reader.lost).__name__

    assert asyncio.run(run()) == (1, "SMTPReadTimeoutError")


def _messages(channel: EmailChannel, recipients: list[str]) -> list[OutgoingMessage]:
    return [
        OutgoingMessage(
            outbox_id=i + 1,
            idempotency_key=f"k:{i}",
            channel="email",
            recipient=rcpt,
            customer_id=f"c{i}",
            payload=PAYLOAD,
            provider_message_id=channel.provider_message_id(i + 1, f"k:{i}"),
        )
        for i, rcpt in enumerate(recipients)
    ]


async def _no_wait() -> None:
    return None


def _summary(results: list[SendResult | DeliveryError]) -> list[tuple[str, str]]:
    return [
        ("sent", r.provider_message_id or "")
        if isinstance(r, SendResult)
        else (type(r).__name__, str(r))
        for r in results
    ]


@pytest.mark.parametrize("pipelining", [True, False])
def test_refused_recipients_fail_only_their_own_message(
    smtp_sink: SMTPSink, monkeypatch: pytest.MonkeyPatch, pipelining: bool
) -> None:
    smtp_sink.handler.pipelining = pipelining
    if pipelining:

        async def no_lockstep(*args: object) -> None:
            raise AssertionError("the server offers PIPELINING; lock step is not used")

        monkeypatch.setattr(smtp_pipeline, "lockstep", no_lockstep)
    smtp_sink.handler.rules["gone@example.jp"] = lambda: "550 5.1.1 user unknown"
    smtp_sink.handler.rules["busy@example.jp"] = lambda: "451 4.2.0 try later"
    settings = real_settings(smtp_sink)
    settings.email.pool_size = 1
    channel = EmailChannel(settings, FixedClock(NOW))
    rcpts = ["a@example.jp", "gone@example.jp", "b@example.jp", "busy@example.jp", "c@example.jp"]
    messages = _messages(channel, rcpts)

    async def run() -> tuple[list[SendResult | DeliveryError], int]:
        results = await channel.send_batch(messages, _no_wait)
        opened = channel.pool.opened
        await channel.aclose()
        return results, opened

    results, opened = asyncio.run(run())
    mids = [m.provider_message_id for m in messages]
    assert _summary(results) == [
        ("sent", mids[0]),
        ("PermanentDeliveryError", "550 5.1.1 user unknown (RCPT TO)"),
        ("sent", mids[2]),
        ("TemporaryDeliveryError", "451 4.2.0 try later (RCPT TO)"),
        ("sent", mids[4]),
    ]
    gone = results[1]
    assert isinstance(gone, PermanentDeliveryError)
    assert (gone.status, gone.suppress) == ("5.1.1", "bounce")
    received = [
        (rcpt, str(email.message_from_bytes(raw, policy=email.policy.default)["Message-ID"]))
        for _, rcpt, raw in smtp_sink.handler.messages
    ]
    assert received == [
        (["a@example.jp"], mids[0]),
        (["b@example.jp"], mids[2]),
        (["c@example.jp"], mids[4]),
    ]
    assert opened == 1  # a refusal leaves the connection in use


@dataclass
class Script:
    """How the scripted server misbehaves. Messages count from 1 over all connections."""

    # Hold the replies to MAIL and RCPT until DATA arrives: a client that waited for
    # each reply before sending the next command would wait for ever.
    strict: bool = False
    drop_after_content: int | None = None  # close without replying to this content
    closing_on_mail: int | None = None  # answer this MAIL with 421 and close
    received: list[tuple[str, bytes]] = field(default_factory=list)
    contents: int = 0
    chunks: int = 0
    connections: int = 0
    mails: int = 0


class ScriptedSession(asyncio.Protocol):
    def __init__(self, script: Script) -> None:
        self.script = script
        self.buffer = b""
        self.in_data = False
        self.rcpt = ""
        self.held: list[bytes] = []
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.script.connections += 1
        transport.write(b"220 scripted ESMTP\r\n")

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        self.script.chunks += 1
        self.buffer += data
        out: list[bytes] = []
        while True:
            if self.in_data:
                end = self.buffer.find(b"\r\n.\r\n")
                if end == -1:
                    break
                content, self.buffer = self.buffer[: end + 2], self.buffer[end + 5 :]
                self.in_data = False
                self.script.contents += 1
                if self.script.contents == self.script.drop_after_content:
                    self.transport.write(b"".join(out))
                    self.transport.close()
                    return
                self.script.received.append((self.rcpt, content.replace(b"\r\n..", b"\r\n.")))
                out.append(b"250 2.0.0 queued\r\n")
                continue
            if b"\r\n" not in self.buffer:
                break
            line, self.buffer = self.buffer.split(b"\r\n", 1)
            verb = line[:4].upper()
            if verb == b"EHLO":
                out.append(b"250-scripted\r\n250-PIPELINING\r\n250 SIZE 1000000\r\n")
            elif verb == b"MAIL":
                self.script.mails += 1
                if self.script.mails == self.script.closing_on_mail:
                    out.append(b"421 4.3.2 shutting down\r\n")
                    self.transport.write(b"".join(out))
                    self.transport.close()
                    return
                self.held.append(b"250 ok\r\n")
            elif verb == b"RCPT":
                self.rcpt = line.split(b"<", 1)[1].split(b">", 1)[0].decode()
                self.held.append(b"250 ok\r\n")
            elif verb == b"DATA":
                out += [*self.held, b"354 go ahead\r\n"]
                self.held = []
                self.in_data = True
            elif verb == b"QUIT":
                out.append(b"221 bye\r\n")
            else:
                out.append(b"250 ok\r\n")
            if not self.script.strict:
                out += self.held
                self.held = []
        if out:
            self.transport.write(b"".join(out))


def _send_scripted(
    script: Script, recipients: list[str], pool_size: int = 1
) -> tuple[list[SendResult | DeliveryError], EmailChannel, int]:
    sink = SMTPSink()  # only for its settings; the scripted server takes its port
    settings = real_settings(sink)
    settings.email.pool_size = pool_size
    settings.email.timeout_seconds = 2.0
    channel = EmailChannel(settings, FixedClock(NOW))
    messages = _messages(channel, recipients)

    async def run() -> tuple[list[SendResult | DeliveryError], int]:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: ScriptedSession(script), "127.0.0.1", settings.email.port
        )
        try:
            results = await channel.send_batch(messages, _no_wait)
            opened = channel.pool.opened
            await channel.aclose()
        finally:
            server.close()
        return results, opened

    results, opened = asyncio.run(run())
    return results, channel, opened


def test_commands_go_in_groups_without_waiting_for_each_reply() -> None:
    script = Script(strict=True)
    rcpts = [f"u{i}@example.jp" for i in range(4)]
    results, _, opened = _send_scripted(script, rcpts)
    assert [type(r).__name__ for r in results] == ["SendResult"] * 4
    assert [rcpt for rcpt, _ in script.received] == rcpts
    # EHLO; MAIL, RCPT and DATA of the first message; one chunk per message content,
    # with the next message's MAIL, RCPT and DATA (the last content alone); QUIT.
    assert (opened, script.chunks) == (1, 1 + 1 + 4 + 1)


def test_a_connection_lost_after_a_content_settles_what_was_in_flight() -> None:
    # The server takes message 1, then drops the line after reading the content of
    # message 2, which went out together with MAIL, RCPT and DATA of message 3.
    script = Script(drop_after_content=2)
    rcpts = [f"u{i}@example.jp" for i in range(1, 6)]
    results, _, opened = _send_scripted(script, rcpts)
    summary = _summary(results)
    assert [kind for kind, _ in summary] == [
        "sent",
        # Its content went out and no reply came: the outcome is unknown, and the
        # message is retried, as a lock-step send that lost its line during DATA is.
        "TemporaryDeliveryError",
        # Its content never went out: not delivered, retried.
        "TemporaryDeliveryError",
        "sent",
        "sent",
    ]
    assert summary[1][1] == summary[2][1] == "SMTPServerDisconnected: Unexpected EOF received"
    # The rest of the batch went over a new connection.
    assert opened == 2 and script.connections == 2
    assert [rcpt for rcpt, _ in script.received] == [rcpts[0], rcpts[3], rcpts[4]]


def test_a_server_closing_mid_batch_fails_only_the_message_it_refused() -> None:
    script = Script(closing_on_mail=3)
    rcpts = [f"u{i}@example.jp" for i in range(1, 6)]
    results, _, opened = _send_scripted(script, rcpts)
    summary = _summary(results)
    assert summary[2] == ("TemporaryDeliveryError", "421 4.3.2 shutting down")
    assert [kind for kind, _ in summary] == ["sent", "sent", "TemporaryDeliveryError"] + [
        "sent"
    ] * 2
    assert opened == 2
    assert [rcpt for rcpt, _ in script.received] == [r for i, r in enumerate(rcpts) if i != 2]


def test_no_server_fails_the_batch_as_temporary() -> None:
    sink = SMTPSink()
    settings = real_settings(sink)
    settings.email.port = free_port()  # nobody listens there
    channel = EmailChannel(settings, FixedClock(NOW))
    messages = _messages(channel, ["a@example.jp", "b@example.jp", "c@example.jp"])

    async def run() -> list[SendResult | DeliveryError]:
        results = await channel.send_batch(messages, _no_wait)
        await channel.aclose()
        return results

    results = asyncio.run(run())
    assert all(isinstance(r, TemporaryDeliveryError) for r in results)
    assert {getattr(r, "code", "") for r in results} == {"network"}


@pytest.fixture
def sessions(state_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(state_url)
    migrate(engine)
    yield session_factory(engine)
    engine.dispose()


def test_worker_delivers_a_pipelined_batch_with_a_bounce_in_it(
    sessions: sessionmaker[Session], smtp_sink: SMTPSink
) -> None:
    smtp_sink.handler.pipelining = True
    smtp_sink.handler.rules["gone@example.jp"] = lambda: "550 5.1.1 user unknown"
    clock = FixedClock(NOW)
    settings = real_settings(smtp_sink)
    channel = EmailChannel(settings, clock)
    worker = DeliveryWorker(
        sessions, {"email": channel}, clock, "test-secret-key", settings, random.Random(7)
    )
    rcpts = ["a@example.jp", "b@example.jp", "gone@example.jp", "c@example.jp", "d@example.jp"]
    ids = []
    with session_scope(sessions) as db:
        for i, rcpt in enumerate(rcpts):

            def render(outbox_id: int, key: str = f"m:{i}") -> tuple[dict[str, str], str | None]:
                return dict(PAYLOAD), channel.provider_message_id(outbox_id, key)

            row = enqueue(
                db,
                idempotency_key=f"m:{i}",
                channel="email",
                recipient=rcpt,
                customer_id=f"c{i}",
                now=utc_naive(NOW),
                render=render,
            )
            assert row is not None
            ids.append(row.id)

    async def cycle() -> tuple[int, int, int]:
        stats = await worker.run_once()
        again = await worker.run_once()
        await worker.aclose()
        return stats.sent, stats.failed, again.claimed

    assert asyncio.run(cycle()) == (4, 1, 0)
    with session_scope(sessions) as db:
        rows = {r.id: r for r in db.scalars(select(OutboxMessage))}
        statuses = [(rows[i].recipient, rows[i].status) for i in ids]
        entry = db.scalar(select(ContactSuppression))
        events = sorted((e.outbox_id, e.event) for e in db.scalars(select(MessageEventRecord)))
    assert statuses == [
        ("a@example.jp", "sent"),
        ("b@example.jp", "sent"),
        ("gone@example.jp", "failed_perm"),
        ("c@example.jp", "sent"),
        ("d@example.jp", "sent"),
    ]
    assert rows[ids[2]].last_error == "550 5.1.1 user unknown (RCPT TO)"
    assert entry is not None and (entry.address, entry.outbox_id) == ("gone@example.jp", ids[2])
    assert events == sorted(
        [(i, "queued") for i in ids]
        + [(i, "sent") for i in ids if i != ids[2]]
        + [(ids[2], "bounced")]
    )
    assert sorted(rcpt[0] for _, rcpt, _ in smtp_sink.handler.messages) == [
        "a@example.jp",
        "b@example.jp",
        "c@example.jp",
        "d@example.jp",
    ]


def test_a_connection_left_by_another_event_loop_is_not_reused(smtp_sink: SMTPSink) -> None:
    channel = EmailChannel(real_settings(smtp_sink), FixedClock(NOW))
    messages = _messages(channel, ["a@example.jp", "b@example.jp"])

    async def cycle(i: int) -> SendResult | DeliveryError:
        [result] = await channel.send_batch([messages[i]], _no_wait)
        return result

    # Each cycle in its own asyncio.run, the pool kept between them: the first loop's
    # connection is dropped, the second opens its own, and closing needs no dead loop.
    first = asyncio.run(cycle(0))
    second = asyncio.run(cycle(1))
    opened = channel.pool.opened
    asyncio.run(channel.aclose())
    assert [type(first).__name__, type(second).__name__] == ["SendResult", "SendResult"]
    assert opened == 2
    assert [rcpt for _, rcpt, _ in smtp_sink.handler.messages] == [
        ["a@example.jp"],
        ["b@example.jp"],
    ]


def _self_signed(directory: Path) -> ssl.SSLContext:
    """A server context with a throwaway certificate for 127.0.0.1."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    (directory / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(directory / "cert.pem", directory / "key.pem")
    return context


def test_pipelining_after_starttls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The reply reader takes over the TLS transport that STARTTLS put in place.
    handler = SinkHandler(pipelining=True)
    handler.rules["gone@example.jp"] = lambda: "550 5.1.1 user unknown"
    sink = SMTPSink()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=sink.port,
        tls_context=_self_signed(tmp_path),
        require_starttls=True,
    )
    settings = real_settings(sink)
    settings.email.security = "starttls"
    settings.email.validate_certs = False
    settings.email.pool_size = 1
    channel = EmailChannel(settings, FixedClock(NOW))
    transports: list[str] = []
    pipelined = smtp_pipeline.pipelined

    async def spy(smtp: aiosmtplib.SMTP, *args: Any) -> None:
        transports.append(type(smtp.transport).__name__)
        await pipelined(smtp, *args)

    monkeypatch.setattr(smtp_pipeline, "pipelined", spy)
    messages = _messages(channel, ["a@example.jp", "gone@example.jp", "b@example.jp"])

    async def run() -> list[SendResult | DeliveryError]:
        results = await channel.send_batch(messages, _no_wait)
        await channel.aclose()
        return results

    controller.start()
    try:
        results = asyncio.run(run())
    finally:
        controller.stop()
    assert [type(r).__name__ for r in results] == [
        "SendResult",
        "PermanentDeliveryError",
        "SendResult",
    ]
    assert transports == ["_SSLProtocolTransport"]
    assert [rcpt for _, rcpt, _ in handler.messages] == [["a@example.jp"], ["b@example.jp"]]

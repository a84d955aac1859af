"""The webhook channel: HMAC signature a receiver can verify, retries, and SSRF: private,
loopback, link-local and reserved targets refused (also behind a host name or a
redirect) unless allowed; an allowed local receiver gets the signed request."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import random
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.messaging.conftest import NOW
from tests.messaging.stubs import StubServer, receiver
from tokui.clock import FixedClock, utc_naive
from tokui.messaging.channel_settings import WebhookSettings
from tokui.messaging.channels.webhook import WebhookChannel, sign, verify
from tokui.messaging.outbox import enqueue
from tokui.messaging.safe_http import Allowlist, UnsafeTargetError, check_target
from tokui.messaging.settings import MessagingSettings
from tokui.messaging.worker import DeliveryWorker
from tokui.state.db import session_scope
from tokui.state.messages import OutboxMessage

SECRET = "whsec-test"


async def resolves_to_loopback(host: str, port: int) -> list[str]:
    """A name server that answers 127.0.0.1 for every name (DNS rebinding's end state)."""
    return ["127.0.0.1"]


async def resolves_public(host: str, port: int) -> list[str]:
    return ["93.184.215.14"]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://127.1.2.3:8080/hook",
        "http://10.0.0.5/hook",
        "http://172.16.3.4/hook",
        "http://192.168.1.10/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/hook",
        "http://0.0.0.0/hook",
        "http://224.0.0.1/hook",
        "http://240.0.0.1/hook",
        "http://[::1]/hook",
        "http://[fe80::1]/hook",
        "http://[fc00::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://[::ffff:169.254.169.254]/hook",
        "http://[ff02::1]/hook",
    ],
)
def test_internal_addresses_are_refused(url: str) -> None:
    with pytest.raises(UnsafeTargetError, match="private, loopback, link-local or reserved"):
        asyncio.run(check_target(url, Allowlist.parse([])))


def test_a_name_resolving_to_loopback_is_refused() -> None:
    with pytest.raises(UnsafeTargetError) as caught:
        asyncio.run(
            check_target("https://hooks.example.com/x", Allowlist.parse([]), resolves_to_loopback)
        )
    assert str(caught.value).startswith("hooks.example.com resolves to 127.0.0.1")


def test_localhost_by_name_is_refused() -> None:
    with pytest.raises(UnsafeTargetError):
        asyncio.run(check_target("http://localhost:9/hook", Allowlist.parse([])))


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("file:///etc/passwd", "only http and https URLs"),
        ("gopher://example.com/", "only http and https URLs"),
        ("https://user:pw@example.com/", "credentials in the URL are not allowed"),
    ],
)
def test_other_schemes_and_credentials_are_refused(url: str, message: str) -> None:
    with pytest.raises(UnsafeTargetError, match=message):
        asyncio.run(check_target(url, Allowlist.parse([]), resolves_public))


def test_public_target_is_pinned_to_the_checked_address() -> None:
    target = asyncio.run(
        check_target("https://hooks.example.com:8443/a?b=1", Allowlist.parse([]), resolves_public)
    )
    assert (target.url, target.host, target.ip) == (
        "https://93.184.215.14:8443/a?b=1",
        "hooks.example.com:8443",
        "93.184.215.14",
    )


def test_allowlist_by_network_and_by_name() -> None:
    allow = Allowlist.parse(["10.20.0.0/24", "callcenter.local"])
    asyncio.run(check_target("http://10.20.0.7/hook", allow))
    asyncio.run(check_target("http://callcenter.local/hook", allow, resolves_to_loopback))
    with pytest.raises(UnsafeTargetError):
        asyncio.run(check_target("http://10.20.1.7/hook", allow))


@pytest.fixture
def hook_server() -> Iterator[StubServer]:
    server = receiver()
    server.start()
    yield server
    server.stop()


def _queue(sessions: sessionmaker[Session], url: str, key: str = "wh:1") -> int:
    with session_scope(sessions) as db:
        row = enqueue(
            db,
            idempotency_key=key,
            channel="webhook",
            recipient=url,
            customer_id="c1",
            now=utc_naive(NOW),
            payload={
                "url": url,
                "body": {"message_id": 1, "customer_id": "c1", "data": {"名前": "花子"}},
            },
            is_marketing=False,
        )
        assert row is not None
        return row.id


def _worker(
    sessions: sessionmaker[Session], channel: WebhookChannel, clock: FixedClock
) -> DeliveryWorker:
    settings = MessagingSettings(max_attempts=3)
    return DeliveryWorker(
        sessions, {"webhook": channel}, clock, "secret", settings, random.Random(1)
    )


def _status(sessions: sessionmaker[Session]) -> list[tuple[str, str | None]]:
    with session_scope(sessions) as db:
        return [
            (s, e)
            for s, e in db.execute(
                select(OutboxMessage.status, OutboxMessage.last_error).order_by(OutboxMessage.id)
            )
        ]


def test_allowed_local_receiver_gets_a_signed_request_and_retries_keep_the_key(
    hook_server: StubServer, state_sessions: sessionmaker[Session]
) -> None:
    clock = FixedClock(NOW)
    channel = WebhookChannel(
        WebhookSettings(secret=SECRET, allow=["127.0.0.1"], timeout_seconds=5), clock
    )
    url = hook_server.url + "/hook"
    _queue(state_sessions, url)
    hook_server.errors.append((503, {"busy": True}, {}))
    worker = _worker(state_sessions, channel, clock)
    asyncio.run(worker.run_once())
    assert _status(state_sessions)[0][0] == "failed_temp"
    clock.advance(timedelta(hours=2))
    asyncio.run(worker.run_once())
    assert _status(state_sessions) == [("sent", None)]
    first, second = hook_server.requests
    assert second.body == ('{"message_id":1,"customer_id":"c1","data":{"名前":"花子"}}'.encode())
    timestamp = str(int(clock.now().timestamp()))
    assert second.headers["x-tokui-timestamp"] == timestamp
    expected = hmac.new(
        SECRET.encode(), timestamp.encode() + b"." + second.body, hashlib.sha256
    ).hexdigest()
    assert second.headers["x-tokui-signature"] == "v1=" + expected
    assert verify(SECRET, timestamp, second.body, second.headers["x-tokui-signature"])
    assert not verify("other", timestamp, second.body, second.headers["x-tokui-signature"])
    assert first.headers["idempotency-key"] == second.headers["idempotency-key"] == "wh:1"
    assert second.headers["host"] == f"127.0.0.1:{hook_server.port}"
    assert json.loads(second.body)["data"] == {"名前": "花子"}


def test_local_receiver_without_allowlist_is_refused_before_connecting(
    hook_server: StubServer, state_sessions: sessionmaker[Session]
) -> None:
    clock = FixedClock(NOW)
    channel = WebhookChannel(WebhookSettings(secret=SECRET), clock)
    _queue(state_sessions, hook_server.url + "/hook")
    asyncio.run(_worker(state_sessions, channel, clock).run_once())
    [(status, error)] = _status(state_sessions)
    assert status == "failed_perm"
    assert error is not None and error.startswith("127.0.0.1 resolves to 127.0.0.1")
    assert hook_server.requests == []


def test_redirect_to_an_internal_address_is_not_followed(
    hook_server: StubServer, state_sessions: sessionmaker[Session]
) -> None:
    clock = FixedClock(NOW)
    channel = WebhookChannel(WebhookSettings(secret=SECRET, allow=["127.0.0.1"]), clock)
    _queue(state_sessions, hook_server.url + "/redirect")
    asyncio.run(_worker(state_sessions, channel, clock).run_once())
    assert _status(state_sessions) == [
        ("failed_perm", "302 redirect to 'http://169.254.169.254/latest/' not followed")
    ]
    assert [r.path for r in hook_server.requests] == ["/redirect"]


def test_sign_matches_the_documented_recipe() -> None:
    body = b'{"a":1}'
    mac = hmac.new(b"k", b"1767150000." + body, hashlib.sha256).hexdigest()
    assert sign("k", 1767150000, body) == "v1=" + mac

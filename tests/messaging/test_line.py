"""The LINE channel against a local stub that checks every request against LINE's
official OpenAPI specification: exact bodies and headers, the retry key kept across
retries, multicast, error codes, Flex validation; on SQLite and PostgreSQL state DBs."""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.messaging.conftest import NOW
from tests.messaging.stubs import LineStub, validator
from tokui.clock import FixedClock, utc_naive
from tokui.messaging.channel import RenderRequest
from tokui.messaging.channel_settings import LineSettings
from tokui.messaging.channels.line import (
    LineChannel,
    multicast_retry_key,
    retry_key,
)
from tokui.messaging.context import ShopInfo
from tokui.messaging.line_flex import FlexError, flex_message
from tokui.messaging.outbox import enqueue
from tokui.messaging.settings import MessagingSettings
from tokui.messaging.templates import TemplateRenderError, TemplateSource
from tokui.messaging.tracking import LinkSigner
from tokui.messaging.worker import DeliveryWorker
from tokui.state.db import session_scope
from tokui.state.messages import OutboxMessage

TOKEN = "line-channel-access-token-for-tests"
USERS = ["U" + f"{i:032x}" for i in range(1, 4)]
FLEX = """{"type": "bubble", "body": {"type": "box", "layout": "vertical", "contents": [
  {"type": "text", "text": "{{ customer.name }}様"},
  {"type": "button", "action": {"type": "uri", "label": "見る", "uri": "https://shop.tokui.example/"}}
]}}"""


@pytest.fixture
def line_stub() -> Iterator[LineStub]:
    stub = LineStub(TOKEN)
    stub.server.start()
    yield stub
    stub.server.stop()


def _channel(stub: LineStub) -> LineChannel:
    return LineChannel(LineSettings(api_base_url=stub.server.url, channel_access_token=TOKEN))


def _render(channel: LineChannel, source: TemplateSource, name: str, to: str) -> dict[str, Any]:
    return channel.render(
        RenderRequest(
            outbox_id=1,
            source=source,
            context={"customer": {"name": name}},
            recipient=to,
            is_marketing=True,
            shop=ShopInfo("とくい食品"),
            signer=LinkSigner("secret", "https://crm.tokui.example"),
            idempotency_key="k",
        )
    )


def _queue(
    sessions: sessionmaker[Session],
    clock: FixedClock,
    payload: dict[str, Any],
    users: list[str],
    prefix: str = "line",
) -> list[int]:
    ids = []
    with session_scope(sessions) as db:
        for i, user in enumerate(users):
            row = enqueue(
                db,
                idempotency_key=f"{prefix}:{i}",
                channel="line",
                recipient=user,
                customer_id=f"c{i}",
                now=utc_naive(clock.now()),
                payload=payload,
                is_marketing=False,
            )
            assert row is not None
            ids.append(row.id)
    return ids


def _worker(
    sessions: sessionmaker[Session], channel: LineChannel, clock: FixedClock
) -> DeliveryWorker:
    settings = MessagingSettings(rate_per_second={"line": 10_000.0}, max_attempts=3)
    return DeliveryWorker(sessions, {"line": channel}, clock, "secret", settings, random.Random(3))


def _rows(sessions: sessionmaker[Session]) -> list[tuple[str, int, str | None]]:
    with session_scope(sessions) as db:
        rows = db.execute(
            select(OutboxMessage.status, OutboxMessage.attempts, OutboxMessage.last_error).order_by(
                OutboxMessage.id
            )
        )
        return [(s, a, e) for s, a, e in rows]


TEXT = {"messages": [{"type": "text", "text": "冬のセールです"}]}


def test_push_request_is_exact_and_valid(
    line_stub: LineStub, state_sessions: sessionmaker[Session]
) -> None:
    clock = FixedClock(NOW)
    channel = _channel(line_stub)
    _queue(state_sessions, clock, TEXT, USERS[:1])
    stats = asyncio.run(_worker(state_sessions, channel, clock).run_once())
    asyncio.run(channel.aclose())
    assert stats.sent == 1
    [req] = line_stub.server.requests
    assert req.path == "/v2/bot/message/push"
    assert req.json() == {"to": USERS[0], "messages": [{"type": "text", "text": "冬のセールです"}]}
    assert req.headers["authorization"] == f"Bearer {TOKEN}"
    assert req.headers["content-type"] == "application/json"
    key = str(uuid.uuid5(uuid.UUID("6f3c1e0a-7b1d-5c2e-9a4f-2d8e6b0c1a53"), "line:0"))
    assert req.headers["x-line-retry-key"] == key == retry_key("line:0")
    assert line_stub.spec_errors == []
    assert _rows(state_sessions) == [("sent", 1, None)]


def test_retry_key_is_reused_across_retries_and_409_counts_as_sent(
    line_stub: LineStub, state_sessions: sessionmaker[Session]
) -> None:
    clock = FixedClock(NOW)
    channel = _channel(line_stub)
    _queue(state_sessions, clock, TEXT, USERS[:1])
    worker = _worker(state_sessions, channel, clock)
    line_stub.server.errors.append((500, {"message": "Internal error"}, {}))
    line_stub.server.errors.append(
        (
            409,
            {"message": "The retry key is already accepted"},
            {"x-line-accepted-request-id": "r1"},
        )
    )
    first = asyncio.run(worker.run_once())
    assert (first.retrying, _rows(state_sessions)[0][:2]) == (1, ("failed_temp", 1))
    clock.advance(timedelta(hours=2))
    second = asyncio.run(worker.run_once())
    asyncio.run(channel.aclose())
    assert second.sent == 1
    keys = [r.headers["x-line-retry-key"] for r in line_stub.server.requests]
    assert keys == [retry_key("line:0")] * 2
    assert _rows(state_sessions) == [("sent", 2, None)]


def test_multicast_groups_identical_messages(
    line_stub: LineStub, state_sessions: sessionmaker[Session]
) -> None:
    clock = FixedClock(NOW)
    channel = _channel(line_stub)
    _queue(state_sessions, clock, TEXT, USERS)
    line_stub.server.errors.append((503, {"message": "busy"}, {}))
    worker = _worker(state_sessions, channel, clock)
    asyncio.run(worker.run_once())
    with session_scope(state_sessions) as db:
        due = sorted(set(db.scalars(select(OutboxMessage.next_attempt_at))))
    assert len(due) == 1  # the three rows of the multicast retry together
    clock.advance(timedelta(hours=2))
    stats = asyncio.run(worker.run_once())
    asyncio.run(channel.aclose())
    assert stats.sent == 3
    assert [r.path for r in line_stub.server.requests] == ["/v2/bot/message/multicast"] * 2
    body = line_stub.server.requests[1].json()
    assert body == {"to": USERS, "messages": TEXT["messages"]}
    expected = multicast_retry_key(["line:0", "line:1", "line:2"])
    assert [r.headers["x-line-retry-key"] for r in line_stub.server.requests] == [expected] * 2
    assert line_stub.spec_errors == []


def test_multicast_splits_at_500(line_stub: LineStub) -> None:
    from tokui.messaging.channel import OutgoingMessage

    channel = _channel(line_stub)
    messages = [
        OutgoingMessage(i, f"k{i}", "line", "U" + f"{i:032x}", None, TEXT, None) for i in range(501)
    ]

    async def take() -> None:
        return None

    results = asyncio.run(channel.send_batch(messages, take))
    asyncio.run(channel.aclose())
    assert all(r.__class__.__name__ == "SendResult" for r in results)
    paths = [
        (r.path, len(r.json()["to"]) if "multicast" in r.path else 1)
        for r in line_stub.server.requests
    ]
    assert paths == [("/v2/bot/message/multicast", 500), ("/v2/bot/message/push", 1)]
    assert line_stub.spec_errors == []


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, ("failed_perm", 1, "LINE 400: bad")),
        (
            403,
            (
                "failed_temp",
                1,
                "LINE 403: bad (check TOKUI_LINE_CHANNEL_ACCESS_TOKEN and the plan)",
            ),
        ),
        (429, ("failed_temp", 1, "LINE 429: bad")),
        (500, ("failed_temp", 1, "LINE 500: bad")),
    ],
)
def test_error_codes(
    line_stub: LineStub,
    state_sessions: sessionmaker[Session],
    status: int,
    expected: tuple[str, int, str],
) -> None:
    clock = FixedClock(NOW)
    channel = _channel(line_stub)
    _queue(state_sessions, clock, TEXT, USERS[:1])
    line_stub.server.errors.append((status, {"message": "bad"}, {}))
    asyncio.run(_worker(state_sessions, channel, clock).run_once())
    asyncio.run(channel.aclose())
    assert _rows(state_sessions) == [expected]


def test_wrong_token_is_a_config_error_and_never_logged(
    line_stub: LineStub, state_sessions: sessionmaker[Session]
) -> None:
    clock = FixedClock(NOW)
    channel = LineChannel(
        LineSettings(api_base_url=line_stub.server.url, channel_access_token="wrong-secret-token")
    )
    _queue(state_sessions, clock, TEXT, USERS[:1])
    stats = asyncio.run(_worker(state_sessions, channel, clock).run_once())
    asyncio.run(channel.aclose())
    status, _, error = _rows(state_sessions)[0]
    assert (status, error) == (
        "failed_temp",
        "LINE 401: Authentication failed (check TOKUI_LINE_CHANNEL_ACCESS_TOKEN and the plan)",
    )
    assert "wrong-secret-token" not in " ".join(stats.errors)


def test_flex_renders_escaped_and_valid() -> None:
    channel = LineChannel(LineSettings(channel_access_token=TOKEN))
    source = TemplateSource("flex", 1, line_text="{{ customer.name }}様へのお知らせ", text=FLEX)
    evil = '"}]}, "x": "'
    payload = _render(channel, source, evil, USERS[0])
    [message] = payload["messages"]
    assert message["type"] == "flex"
    assert message["altText"] == f"{evil}様へのお知らせ"
    assert message["contents"]["body"]["contents"][0] == {"type": "text", "text": f"{evil}様"}
    check = validator("PushMessageRequest")
    assert list(check.iter_errors({"to": USERS[0], **payload})) == []


@pytest.mark.parametrize(
    ("contents", "error"),
    [
        ({"type": "bubble"}, "contents: a bubble needs at least one of header, hero, body, footer"),
        (
            {"type": "bubble", "body": {"type": "box", "layout": "diagonal", "contents": []}},
            "contents.body.layout: one of horizontal, vertical, baseline",
        ),
        (
            {"type": "bubble", "hero": {"type": "image", "url": "http://x.example/a.png"}},
            "contents.hero.url: LINE loads images and videos over https only",
        ),
        (
            {
                "type": "bubble",
                "body": {"type": "box", "layout": "vertical", "contents": [{"type": "button"}]},
            },
            "contents.body.contents[0].action: required",
        ),
        (
            {"type": "carousel", "contents": []},
            "contents.contents: a carousel needs a list of bubbles",
        ),
    ],
)
def test_flex_structure_errors(contents: dict[str, Any], error: str) -> None:
    with pytest.raises(FlexError) as caught:
        flex_message("alt", contents)
    assert str(caught.value) == error


def test_invalid_flex_json_blocks_the_render() -> None:
    channel = LineChannel(LineSettings(channel_access_token=TOKEN))
    source = TemplateSource("flex", 2, line_text="alt", text='{"type": "bubble",}')
    with pytest.raises(TemplateRenderError) as caught:
        _render(channel, source, "花子", USERS[0])
    assert str(caught.value).startswith("template 'flex' v2, text, line 1: not valid JSON")


def test_recipient_must_be_a_line_user_id() -> None:
    channel = LineChannel(LineSettings(channel_access_token=TOKEN))
    source = TemplateSource("t", 1, line_text="hi")
    with pytest.raises(TemplateRenderError, match="is not a LINE user id"):
        _render(channel, source, "花子", "someone@example.com")


def test_stub_rejects_requests_that_break_the_spec(line_stub: LineStub) -> None:
    import httpx

    bad = json.dumps({"to": USERS[0], "messages": [{"type": "text"}]})
    response = httpx.post(
        line_stub.server.url + "/v2/bot/message/push",
        content=bad,
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert line_stub.spec_errors == ["messages/0: 'text' is a required property"]

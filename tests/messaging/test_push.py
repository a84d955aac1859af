"""App push over FCM HTTP v1 against a local stub of Google's token endpoint and FCM:
the signed service-account JWT, the cached access token, the exact message body, and the
error mapping (UNREGISTERED switches the token off; QUOTA_EXCEEDED is retried)."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Iterator
from datetime import timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.messaging.conftest import NOW
from tests.messaging.stubs import FCMStub, fcm_error
from tokui.clock import FixedClock, utc_naive
from tokui.messaging.channel_settings import PushSettings
from tokui.messaging.channels.push import SCOPE, PushChannel
from tokui.messaging.devices import (
    DeviceImportError,
    active_tokens,
    import_devices,
    parse_devices,
)
from tokui.messaging.outbox import enqueue
from tokui.messaging.settings import MessagingSettings
from tokui.messaging.worker import DeliveryWorker
from tokui.state.channels import PushDevice
from tokui.state.db import session_scope
from tokui.state.messages import OutboxMessage

PROJECT = "tokui-shop"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PEM = KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode()
DEVICES = "customer_id,token,platform\nc1,tok-a,ios\nc1,tok-b,android\nc2,tok-c,ios\n"


@pytest.fixture
def fcm() -> Iterator[FCMStub]:
    stub = FCMStub(PROJECT)
    stub.server.start()
    yield stub
    stub.server.stop()


def _channel(stub: FCMStub, sessions: sessionmaker[Session], clock: FixedClock) -> PushChannel:
    account = {
        "type": "service_account",
        "client_email": "tokui@tokui-shop.iam.gserviceaccount.com",
        "private_key": PEM,
        "private_key_id": "kid-1",
        "token_uri": stub.server.url + "/token",
    }
    settings = PushSettings(
        project_id=PROJECT, api_base_url=stub.server.url, service_account_json=json.dumps(account)
    )
    return PushChannel(settings, sessions, clock)


def _queue(sessions: sessionmaker[Session], tokens: list[str]) -> None:
    with session_scope(sessions) as db:
        import_devices(db, parse_devices(DEVICES), utc_naive(NOW))
        for i, token in enumerate(tokens):
            enqueue(
                db,
                idempotency_key=f"push:{i}",
                channel="push",
                recipient=token,
                customer_id="c1",
                now=utc_naive(NOW),
                payload={
                    "notification": {"title": "冬のセール", "body": "今日まで"},
                    "data": {"outbox_id": i + 1, "template": "winter"},
                },
                is_marketing=False,
            )


def _worker(
    sessions: sessionmaker[Session], channel: PushChannel, clock: FixedClock
) -> DeliveryWorker:
    settings = MessagingSettings(max_attempts=3)
    return DeliveryWorker(sessions, {"push": channel}, clock, "secret", settings, random.Random(1))


def test_send_with_cached_token_and_exact_body(
    fcm: FCMStub, state_sessions: sessionmaker[Session]
) -> None:
    clock = FixedClock(NOW)
    channel = _channel(fcm, state_sessions, clock)
    _queue(state_sessions, ["tok-a", "tok-b"])
    stats = asyncio.run(_worker(state_sessions, channel, clock).run_once())
    assert stats.sent == 2
    paths = [r.path for r in fcm.server.requests]
    assert paths == ["/token", "send", "send"]  # one token exchange for both messages
    claims = jwt.decode(
        fcm.assertions[0],
        KEY.public_key(),
        algorithms=["RS256"],
        audience=fcm.server.url + "/token",
        options={"verify_exp": False, "verify_iat": False},  # the test clock is in 2025
    )
    assert claims == {
        "iss": "tokui@tokui-shop.iam.gserviceaccount.com",
        "scope": SCOPE,
        "aud": fcm.server.url + "/token",
        "iat": int(NOW.timestamp()),
        "exp": int(NOW.timestamp()) + 3600,
    }
    assert jwt.get_unverified_header(fcm.assertions[0])["kid"] == "kid-1"
    bodies = sorted(
        (r.json() for r in fcm.server.requests[1:]), key=lambda b: b["message"]["token"]
    )
    assert bodies[0] == {
        "message": {
            "token": "tok-a",
            "notification": {"title": "冬のセール", "body": "今日まで"},
            "data": {"outbox_id": "1", "template": "winter"},
        }
    }
    assert fcm.server.requests[1].headers["authorization"] == "Bearer ya29.stub-access-token"


def test_unregistered_switches_the_token_off_and_quota_is_retried(
    fcm: FCMStub, state_sessions: sessionmaker[Session]
) -> None:
    clock = FixedClock(NOW)
    channel = _channel(fcm, state_sessions, clock)
    _queue(state_sessions, ["tok-a"])
    fcm.server.errors.append(fcm_error(429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED"))
    fcm.server.errors.append(fcm_error(404, "NOT_FOUND", "UNREGISTERED"))
    worker = _worker(state_sessions, channel, clock)
    asyncio.run(worker.run_once())
    with session_scope(state_sessions) as db:
        status, error = db.execute(select(OutboxMessage.status, OutboxMessage.last_error)).one()
    assert (status, error) == ("failed_temp", "FCM 429 QUOTA_EXCEEDED: QUOTA_EXCEEDED")
    clock.advance(timedelta(hours=2))
    asyncio.run(worker.run_once())
    with session_scope(state_sessions) as db:
        status, error = db.execute(select(OutboxMessage.status, OutboxMessage.last_error)).one()
        devices = {
            d.token: (d.active, d.deactivated_reason) for d in db.scalars(select(PushDevice))
        }
        tokens = active_tokens(db, ["c1", "c2"])
    assert (status, error) == ("failed_perm", "FCM 404 UNREGISTERED: UNREGISTERED")
    assert devices == {
        "tok-a": (False, "UNREGISTERED"),
        "tok-b": (True, None),
        "tok-c": (True, None),
    }
    assert tokens == {"c1": ["tok-b"], "c2": ["tok-c"]}


def test_device_import_is_idempotent_and_names_bad_rows(
    state_sessions: sessionmaker[Session],
) -> None:
    with session_scope(state_sessions) as db:
        assert import_devices(db, parse_devices(DEVICES), utc_naive(NOW)) == (3, 0)
        assert import_devices(db, parse_devices(DEVICES), utc_naive(NOW)) == (0, 0)
        moved = "customer_id,token,platform\nc9,tok-a,ios\n"
        assert import_devices(db, parse_devices(moved), utc_naive(NOW)) == (0, 1)
    with pytest.raises(DeviceImportError) as caught:
        parse_devices("customer_id,token,platform\nc1,tok,blackberry\n", "d.csv")
    assert str(caught.value) == "d.csv, row 2, column platform: one of ios, android, web"

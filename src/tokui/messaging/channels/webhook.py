"""Webhook: an HMAC-signed JSON POST to any system (a call center, Slack, an ERP).

What the receiver gets (docs/messaging.md, "Webhook receivers"):

    POST <url>
    Content-Type: application/json; charset=utf-8
    X-Tokui-Timestamp: 1767150000                      (Unix seconds)
    X-Tokui-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>
    Idempotency-Key: <the outbox idempotency key; the same on every retry>

    {"message_id": 42, "idempotency_key": "...", "customer_id": "C001", "data": {...}}

The receiver recomputes the HMAC over the raw bytes, compares in constant time and
refuses timestamps older than five minutes (replays); it deduplicates on
Idempotency-Key, which makes a retry after a lost answer harmless (exactly once).

Every target goes through tokui.messaging.safe_http: private, loopback, link-local and
reserved addresses are refused unless on the [webhook] allow list, the connection is
pinned to the checked address and redirects are never followed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

import httpx

from tokui.clock import Clock
from tokui.messaging.channel import (
    Capabilities,
    DeliveryError,
    OutgoingMessage,
    PermanentDeliveryError,
    RenderRequest,
    SendResult,
    TemporaryDeliveryError,
)
from tokui.messaging.channel_settings import WebhookSettings
from tokui.messaging.http_client import LoopClient
from tokui.messaging.json_templates import render_json
from tokui.messaging.safe_http import (
    Allowlist,
    Resolver,
    UnsafeTargetError,
    check_target,
    post_pinned,
    system_resolve,
)

SIGNATURE_HEADER = "X-Tokui-Signature"
TIMESTAMP_HEADER = "X-Tokui-Timestamp"
TEMPORARY_STATUS = frozenset({408, 425, 429})


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """What a receiver does (and our tests): constant-time compare of the signature."""
    try:
        expected = sign(secret, int(timestamp), body)
    except ValueError:
        return False
    return hmac.compare_digest(expected, signature)


class WebhookChannel:
    name = "webhook"
    capabilities = Capabilities(
        idempotent_send=True, address_kind="url", default_rate_per_second=20.0
    )

    def __init__(
        self,
        settings: WebhookSettings,
        clock: Clock,
        resolve: Resolver = system_resolve,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.allow = Allowlist.parse(settings.allow)
        self.resolve = resolve
        self._transport = transport
        self._client = LoopClient(self._new_client)

    def _new_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(follow_redirects=False, transport=self._transport, trust_env=False)

    @property
    def client(self) -> httpx.AsyncClient:
        return self._client.get()

    def validate_config(self) -> list[str]:
        problems = []
        if not self.settings.secret:
            problems.append("TOKUI_WEBHOOK_SECRET is not set: receivers cannot verify us")
        if self.settings.url and not self.settings.url.startswith(("https://", "http://")):
            problems.append("[webhook] url must be an http(s) URL")
        return problems

    def render(self, request: RenderRequest) -> dict[str, Any]:
        data = render_json(request.source, "text", request.context) if request.source.text else {}
        customer = request.context.get("customer") or {}
        return {
            "url": request.recipient or self.settings.url,
            "body": {
                "message_id": request.outbox_id,
                "idempotency_key": request.idempotency_key,
                "customer_id": customer.get("customer_id")
                if isinstance(customer, Mapping)
                else None,
                "data": data,
            },
        }

    def provider_message_id(self, outbox_id: int, idempotency_key: str) -> str | None:
        return None

    async def post_json(self, url: str, body: Mapping[str, Any], idempotency_key: str) -> str:
        """Sign and POST one JSON body; returns a short detail, raises DeliveryError."""
        raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        timestamp = int(self.clock.now().timestamp())
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Tokui-Webhook/1",
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(self.settings.secret, timestamp, raw),
            "Idempotency-Key": idempotency_key,
        }
        try:
            target = await check_target(url, self.allow, self.resolve)
            response = await post_pinned(
                self.client, target, raw, headers, self.settings.timeout_seconds
            )
        except Exception as exc:
            raise self.classify(exc) from exc
        status = response.status_code
        if 200 <= status < 300:
            return f"{status} from {target.ip}"
        if 300 <= status < 400:
            raise PermanentDeliveryError(
                f"{status} redirect to {response.headers.get('location', '?')!r} not followed",
                code=str(status),
            )
        text = f"{status} {response.text[:200]}"
        if status in TEMPORARY_STATUS or status >= 500:
            raise TemporaryDeliveryError(text, code=str(status))
        raise PermanentDeliveryError(text, code=str(status))

    async def send(self, message: OutgoingMessage) -> SendResult:
        payload = message.payload
        url = str(payload.get("url") or message.recipient)
        detail = await self.post_json(url, payload.get("body") or {}, message.idempotency_key)
        return SendResult(None, detail=detail)

    def classify(self, exc: BaseException) -> DeliveryError:
        if isinstance(exc, DeliveryError):
            return exc
        if isinstance(exc, UnsafeTargetError):
            return PermanentDeliveryError(str(exc), code="ssrf")
        if isinstance(exc, httpx.TimeoutException | TimeoutError):
            return TemporaryDeliveryError(f"timeout: {exc}", code="timeout")
        if isinstance(exc, httpx.TransportError | OSError | ConnectionError):
            return TemporaryDeliveryError(f"{type(exc).__name__}: {exc}", code="network")
        return TemporaryDeliveryError(f"{type(exc).__name__}: {exc}", code="unexpected")

    async def aclose(self) -> None:
        await self._client.aclose()

"""LINE Messaging API: push and multicast, text and Flex messages.

Idempotency: every request carries `X-Line-Retry-Key`, a UUID derived from the outbox
idempotency key (uuid5), so a retry after a lost answer repeats the same key and LINE
delivers once; LINE answers a repeated key it already accepted with 409, which we count
as sent. A multicast's key is derived from the sorted keys of its rows: the rows of one
multicast retry together (tokui.messaging.channel.DeliveryError.group), so the retry is
the same request with the same key.

Errors (https://developers.line.biz/en/reference/messaging-api/#status-codes):
400 the request is wrong: permanent; 401/403 the channel access token is wrong or the
plan does not allow the call: a configuration problem, retried so messages go once it is
fixed; 409 the retry key was accepted before: sent; 429 and 5xx: temporary, backoff.

The channel access token is sent in the Authorization header only; it never appears in
an error, a log line or the outbox.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import httpx

from tokui.messaging.channel import (
    Capabilities,
    DeliveryError,
    OutgoingMessage,
    PermanentDeliveryError,
    RenderRequest,
    SendResult,
    TemporaryDeliveryError,
)
from tokui.messaging.channel_settings import LineSettings
from tokui.messaging.http_client import LoopClient
from tokui.messaging.json_templates import render_json
from tokui.messaging.line_flex import FlexError, flex_message
from tokui.messaging.templates import TemplateRenderError, render_part

MULTICAST_MAX = 500
TEXT_MAX = 5000
USER_ID = re.compile(r"^U[0-9a-f]{32}$")
# Fixed namespace: the same outbox key gives the same retry key in every process.
RETRY_NAMESPACE = uuid.UUID("6f3c1e0a-7b1d-5c2e-9a4f-2d8e6b0c1a53")


def retry_key(idempotency_key: str) -> str:
    return str(uuid.uuid5(RETRY_NAMESPACE, idempotency_key))


def multicast_retry_key(idempotency_keys: Sequence[str]) -> str:
    return retry_key("multicast\n" + "\n".join(sorted(idempotency_keys)))


def line_messages(request: RenderRequest) -> list[dict[str, Any]]:
    """The message objects of a LINE template: text, or Flex with the text as altText."""
    source = request.source
    text = render_part(source, "line_text", request.context).strip()
    if not text:
        raise TemplateRenderError(source.label, "line_text", None, "the LINE text is empty")
    if source.text:
        contents = render_json(source, "text", request.context)
        try:
            return [flex_message(text[:1500], contents)]
        except FlexError as exc:
            raise TemplateRenderError(source.label, "text", None, f"Flex: {exc}") from None
    if len(text) > TEXT_MAX:
        raise TemplateRenderError(
            source.label, "line_text", None, f"longer than LINE's {TEXT_MAX} characters"
        )
    return [{"type": "text", "text": text}]


class LineChannel:
    name = "line"
    capabilities = Capabilities(
        idempotent_send=True, address_kind="line", default_rate_per_second=100.0
    )

    def __init__(
        self, settings: LineSettings, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.settings = settings
        self._transport = transport
        self._client = LoopClient(self._new_client)

    def _new_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.settings.api_base_url.rstrip("/"),
            timeout=self.settings.timeout_seconds,
            transport=self._transport,
            follow_redirects=False,
            trust_env=False,
        )

    @property
    def client(self) -> httpx.AsyncClient:
        return self._client.get()

    def validate_config(self) -> list[str]:
        problems = []
        if not self.settings.channel_access_token:
            problems.append("TOKUI_LINE_CHANNEL_ACCESS_TOKEN is not set")
        if not self.settings.channel_secret:
            problems.append("TOKUI_LINE_CHANNEL_SECRET is not set: /hooks/line refuses events")
        if not self.settings.api_base_url.startswith("https://"):
            problems.append("[line] api_base_url is not https")
        return problems

    def render(self, request: RenderRequest) -> dict[str, Any]:
        if not USER_ID.match(request.recipient) and request.recipient != "test":
            raise TemplateRenderError(
                request.source.label,
                "recipient",
                None,
                f"{request.recipient!r} is not a LINE user id (U + 32 hex digits)",
            )
        return {"messages": line_messages(request)}

    def provider_message_id(self, outbox_id: int, idempotency_key: str) -> str | None:
        return retry_key(idempotency_key)

    def _headers(self, key: str) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.settings.channel_access_token}",
            "Content-Type": "application/json",
            "X-Line-Retry-Key": key,
        }

    async def _post(self, path: str, body: dict[str, Any], key: str, group: str) -> SendResult:
        raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        try:
            response = await self.client.post(path, content=raw, headers=self._headers(key))
        except Exception as exc:
            error = self.classify(exc)
            error.group = group
            raise error from None
        request_id = response.headers.get("x-line-request-id", "")
        status = response.status_code
        if status == 200:
            return SendResult(key, detail=f"200 request {request_id}")
        if status == 409:
            accepted = response.headers.get("x-line-accepted-request-id", "")
            return SendResult(key, detail=f"409 retry key accepted before (request {accepted})")
        try:
            message = str(response.json().get("message", ""))[:300]
        except ValueError:
            message = response.text[:300]
        text = f"LINE {status}: {message}"
        if status == 400:
            raise PermanentDeliveryError(text, code="400", group=group)
        if status in (401, 403):
            raise TemporaryDeliveryError(
                f"{text} (check TOKUI_LINE_CHANNEL_ACCESS_TOKEN and the plan)",
                code=f"config-{status}",
                group=group,
            )
        if status == 429 or status >= 500:
            raise TemporaryDeliveryError(text, code=str(status), group=group)
        raise PermanentDeliveryError(text, code=str(status), group=group)

    def _push_body(self, to: str, messages: Any) -> dict[str, Any]:
        body: dict[str, Any] = {"to": to, "messages": messages}
        if self.settings.notification_disabled:
            body["notificationDisabled"] = True
        return body

    async def send(self, message: OutgoingMessage) -> SendResult:
        key = retry_key(message.idempotency_key)
        body = self._push_body(message.recipient, message.payload["messages"])
        return await self._post("/v2/bot/message/push", body, key, "")

    async def send_batch(
        self, messages: Sequence[OutgoingMessage], take: Callable[[], Awaitable[None]]
    ) -> list[SendResult | DeliveryError]:
        """Rows with the same message objects go as multicasts of up to 500 recipients;
        a row alone goes as a push (with its own retry key, as when sent singly)."""
        groups: dict[str, list[int]] = {}
        for i, m in enumerate(messages):
            groups.setdefault(json.dumps(m.payload["messages"], sort_keys=True), []).append(i)
        results: list[SendResult | DeliveryError | None] = [None] * len(messages)
        for indexes in groups.values():
            for start in range(0, len(indexes), MULTICAST_MAX):
                chunk = indexes[start : start + MULTICAST_MAX]
                await take()
                try:
                    if len(chunk) == 1:
                        result = await self.send(messages[chunk[0]])
                    else:
                        result = await self._multicast([messages[i] for i in chunk])
                    for i in chunk:
                        results[i] = result
                except DeliveryError as exc:
                    for i in chunk:
                        results[i] = exc
        return [r if r is not None else TemporaryDeliveryError("not sent") for r in results]

    async def _multicast(self, chunk: Sequence[OutgoingMessage]) -> SendResult:
        key = multicast_retry_key([m.idempotency_key for m in chunk])
        body: dict[str, Any] = {
            "to": [m.recipient for m in chunk],
            "messages": chunk[0].payload["messages"],
        }
        if self.settings.notification_disabled:
            body["notificationDisabled"] = True
        return await self._post("/v2/bot/message/multicast", body, key, group=key)

    def classify(self, exc: BaseException) -> DeliveryError:
        if isinstance(exc, DeliveryError):
            return exc
        if isinstance(exc, httpx.TimeoutException | TimeoutError):
            return TemporaryDeliveryError(f"LINE timeout: {type(exc).__name__}", code="timeout")
        if isinstance(exc, httpx.TransportError | OSError):
            return TemporaryDeliveryError(f"LINE unreachable: {type(exc).__name__}", code="network")
        return TemporaryDeliveryError(f"{type(exc).__name__}", code="unexpected")

    async def aclose(self) -> None:
        await self._client.aclose()

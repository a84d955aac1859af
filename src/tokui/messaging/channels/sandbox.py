"""The sandbox: renders like the real channel, then captures instead of sending.

The demo's default, so nothing leaves the machine. Captured messages land in the
`sandbox_inbox` table (one row per outbox row, unique), shown on /messages/inbox. The
unique outbox id makes a capture idempotent: a retry after a crash finds the row and
reports success, so the sandbox delivers exactly once.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from tokui.clock import Clock, utc_naive
from tokui.messaging.channel import (
    Capabilities,
    Channel,
    DeliveryError,
    OutgoingMessage,
    RenderRequest,
    SendResult,
    TemporaryDeliveryError,
)
from tokui.state.db import session_scope
from tokui.state.messages import SandboxInboxMessage


class SandboxChannel:
    """Wraps a real channel: its rendering and configuration, none of its sending."""

    def __init__(self, inner: Channel, sessions: sessionmaker[Session], clock: Clock) -> None:
        self.inner = inner
        self.name = inner.name
        self.capabilities = Capabilities(
            idempotent_send=True,
            address_kind=inner.capabilities.address_kind,
            default_rate_per_second=1_000_000.0,
        )
        self.sessions = sessions
        self.clock = clock

    def validate_config(self) -> list[str]:
        return []  # nothing is sent, so a half-configured channel is fine here

    def render(self, request: RenderRequest) -> dict[str, Any]:
        return self.inner.render(request)

    def provider_message_id(self, outbox_id: int, idempotency_key: str) -> str | None:
        return self.inner.provider_message_id(outbox_id, idempotency_key)

    async def send(self, message: OutgoingMessage) -> SendResult:
        payload = message.payload
        headers = {
            "Message-ID": message.provider_message_id or "",
            "List-Unsubscribe": payload.get("list_unsubscribe", ""),
        }
        row = SandboxInboxMessage(
            outbox_id=message.outbox_id,
            channel=message.channel,
            recipient=message.recipient,
            subject=str(payload.get("subject", "")),
            html=str(payload.get("html", "")),
            # Channels without a text part (LINE, webhook, push) show their payload.
            text=str(payload.get("text", payload.get("line_text", "")))
            or json.dumps(dict(payload), ensure_ascii=False, indent=2),
            headers=json.dumps(headers, ensure_ascii=False),
            captured_at=utc_naive(self.clock.now()),
        )
        try:
            with session_scope(self.sessions) as db:
                db.add(row)
        except IntegrityError:
            with session_scope(self.sessions) as db:
                found = db.scalar(
                    select(SandboxInboxMessage.id).where(
                        SandboxInboxMessage.outbox_id == message.outbox_id
                    )
                )
            if found is None:
                raise
        return SendResult(message.provider_message_id, detail="captured in the sandbox inbox")

    def classify(self, exc: BaseException) -> DeliveryError:
        if isinstance(exc, DeliveryError):
            return exc
        return TemporaryDeliveryError(f"{type(exc).__name__}: {exc}", code="sandbox")

    async def aclose(self) -> None:
        await self.inner.aclose()

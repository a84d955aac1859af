"""The call center channel: a message becomes a task on the in-app call list (/calls).

Sending creates the task in the state DB, unique per outbox row, so a retry after a
crash finds it and succeeds: exactly once. With [call_center] mirror_webhook the task is
also POSTed, signed, to the [webhook] url (the shop's call center system), with the
outbox idempotency key as Idempotency-Key; a failing mirror retries the whole send, and
the task, already there, is not duplicated.
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
    DeliveryError,
    OutgoingMessage,
    PermanentDeliveryError,
    RenderRequest,
    SendResult,
    TemporaryDeliveryError,
)
from tokui.messaging.channels.webhook import WebhookChannel
from tokui.messaging.templates import TemplateRenderError, render_part
from tokui.state.channels import CallTask
from tokui.state.db import session_scope


class CallCenterChannel:
    name = "call_center"
    capabilities = Capabilities(
        idempotent_send=True, address_kind="customer", default_rate_per_second=1000.0
    )

    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock,
        mirror: WebhookChannel | None = None,
        mirror_url: str = "",
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.mirror = mirror
        self.mirror_url = mirror_url

    def validate_config(self) -> list[str]:
        if self.mirror is not None and not self.mirror_url:
            return ["[call_center] mirror_webhook is on but [webhook] url is empty"]
        return []

    def render(self, request: RenderRequest) -> dict[str, Any]:
        source = request.source
        offer = render_part(source, "subject", request.context).strip()
        note = render_part(source, "text", request.context).strip() if source.text else ""
        if not offer:
            raise TemplateRenderError(source.label, "subject", None, "the offer is empty")
        customer = request.context.get("customer") or {}
        return {
            "offer": offer,
            "note": note,
            "customer_name": str(customer.get("name") or ""),
        }

    def provider_message_id(self, outbox_id: int, idempotency_key: str) -> str | None:
        return None

    async def send(self, message: OutgoingMessage) -> SendResult:
        if not message.customer_id:
            raise PermanentDeliveryError("a call task needs a customer", code="no-customer")
        now = utc_naive(self.clock.now())
        task = CallTask(
            outbox_id=message.outbox_id,
            customer_id=message.customer_id,
            payload=json.dumps(dict(message.payload), ensure_ascii=False),
            status="open",
            note="",
            created_at=now,
        )
        try:
            with session_scope(self.sessions) as db:
                db.add(task)
        except IntegrityError:
            with session_scope(self.sessions) as db:
                found = db.scalar(
                    select(CallTask.id).where(CallTask.outbox_id == message.outbox_id)
                )
            if found is None:
                raise
        detail = "added to the call list"
        if self.mirror is not None and self.mirror_url:
            body = {
                "type": "call_task",
                "message_id": message.outbox_id,
                "customer_id": message.customer_id,
                **dict(message.payload),
            }
            detail += "; mirrored: " + await self.mirror.post_json(
                self.mirror_url, body, message.idempotency_key
            )
        return SendResult(None, detail=detail)

    def classify(self, exc: BaseException) -> DeliveryError:
        if isinstance(exc, DeliveryError):
            return exc
        return TemporaryDeliveryError(f"{type(exc).__name__}: {exc}", code="call_center")

    async def aclose(self) -> None:
        if self.mirror is not None:
            await self.mirror.aclose()

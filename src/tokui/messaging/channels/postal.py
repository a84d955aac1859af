"""Postal DM: messages queued like any other, handed to a print vendor as a CSV batch.

Nothing is sent by the worker (`delivered_by_worker=False`); `tokui dm export` or the
download on /messages/dm takes the queued rows (tokui.messaging.postal). The template's
`text` is a JSON object of the personalised fields the vendor prints (a coupon code, a
message line), rendered in the JSON sandbox; the address is read from the warehouse at
export time, so the batch carries the address the customer has when it is printed.
"""

from __future__ import annotations

from typing import Any

from tokui.messaging.channel import (
    Capabilities,
    DeliveryError,
    OutgoingMessage,
    PermanentDeliveryError,
    RenderRequest,
    SendResult,
)
from tokui.messaging.json_templates import render_json
from tokui.messaging.templates import TemplateRenderError

FIELD_NAME_MAX = 40


class PostalDMChannel:
    name = "postal_dm"
    capabilities = Capabilities(
        idempotent_send=True, address_kind="customer", delivered_by_worker=False
    )

    def validate_config(self) -> list[str]:
        return []

    def render(self, request: RenderRequest) -> dict[str, Any]:
        source = request.source
        fields = render_json(source, "text", request.context) if source.text else {}
        if not isinstance(fields, dict):
            raise TemplateRenderError(source.label, "text", None, "must be a JSON object")
        out: dict[str, str] = {}
        for name, value in fields.items():
            if not name or len(name) > FIELD_NAME_MAX:
                raise TemplateRenderError(
                    source.label, "text", None, f"field name {name!r}: 1 to 40 characters"
                )
            if isinstance(value, dict | list):
                raise TemplateRenderError(
                    source.label, "text", None, f"field {name!r}: a text or a number"
                )
            out[name] = "" if value is None else str(value)
        return {"fields": out}

    def provider_message_id(self, outbox_id: int, idempotency_key: str) -> str | None:
        return None

    async def send(self, message: OutgoingMessage) -> SendResult:
        # Only the sandbox's "send test" reaches here (it captures, never calls this).
        raise PermanentDeliveryError("postal DM is exported in batches, not sent", code="dm")

    def classify(self, exc: BaseException) -> DeliveryError:
        if isinstance(exc, DeliveryError):
            return exc
        return PermanentDeliveryError(f"{type(exc).__name__}: {exc}", code="dm")

    async def aclose(self) -> None:
        return None

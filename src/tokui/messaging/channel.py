"""The interface every channel implements, and the errors a send may raise.

A channel does four things: check its configuration, render a template version into a
payload (JSON-serialisable, stored in the outbox as sent), send one payload with an
idempotency key, and classify what went wrong as temporary (retry with backoff) or
permanent (record, and suppress the address when the provider says it is dead).

What a channel declares in `Capabilities` decides how the outbox recovers from a
worker that died mid-send (tokui.messaging.outbox.recover_expired):

- `idempotent_send`: the provider deduplicates by our key (LINE's X-Line-Retry-Key, an
  HTTP API with an Idempotency-Key) or the send is local and transactional (sandbox):
  a row left in `sending` can simply be sent again: exactly once.
- otherwise (SMTP): the provider may have accepted the message before the worker died.
  Sending again could deliver it twice, so the row is held as failed_perm with
  "outcome unknown" for a person to check against the provider's log (at most once).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from tokui.messaging.context import ShopInfo
from tokui.messaging.templates import TemplateSource
from tokui.messaging.tracking import LinkSigner


class DeliveryError(Exception):
    """A send failed. `temporary`: retry later; otherwise final for this message."""

    temporary: bool = True

    def __init__(
        self,
        message: str,
        *,
        code: str = "",
        suppress: str | None = None,
        group: str = "",
        status: str = "",
    ) -> None:
        super().__init__(message)
        self.code = code
        # The RFC 3463 status of an email refusal (5.1.1), which decides how a bounce
        # is treated (tokui.messaging.bounces).
        self.status = status
        # When set (complaint, blocked), the address goes on the suppression list; "bounce"
        # hands the decision to the bounce policy (hard, soft or block by `status`).
        self.suppress = suppress
        # Messages sent in one provider request (a LINE multicast) share the group: they
        # retry at the same moment, together, so the request and its retry key repeat.
        self.group = group


class TemporaryDeliveryError(DeliveryError):
    temporary = True


class PermanentDeliveryError(DeliveryError):
    temporary = False


@dataclass(frozen=True)
class Capabilities:
    idempotent_send: bool
    # Which contact value the channel sends to, for suppression: email, line, phone,
    # postal, device, url.
    address_kind: str
    default_rate_per_second: float = 10.0
    # False for channels whose messages leave by another way than the worker (postal DM:
    # a batch export handed to a print vendor).
    delivered_by_worker: bool = True


@dataclass(frozen=True)
class RenderRequest:
    """What a channel needs to turn a template into a payload for one message."""

    outbox_id: int
    source: TemplateSource
    context: Mapping[str, Any]
    recipient: str
    is_marketing: bool
    shop: ShopInfo
    signer: LinkSigner
    idempotency_key: str


@dataclass(frozen=True)
class OutgoingMessage:
    outbox_id: int
    idempotency_key: str
    channel: str
    recipient: str
    customer_id: str | None
    payload: Mapping[str, Any]
    provider_message_id: str | None


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str | None
    detail: str = ""


@runtime_checkable
class Channel(Protocol):
    name: str
    capabilities: Capabilities

    def validate_config(self) -> list[str]:
        """Problems with the configuration, in words an operator can act on."""
        ...

    def render(self, request: RenderRequest) -> dict[str, Any]:
        """The payload to store and send; raises TemplateRenderError."""
        ...

    def provider_message_id(self, outbox_id: int, idempotency_key: str) -> str | None:
        """An id fixed before the first attempt (email: the Message-ID), or None."""
        ...

    async def send(self, message: OutgoingMessage) -> SendResult:
        """Send once; raises DeliveryError (already classified)."""
        ...

    def classify(self, exc: BaseException) -> DeliveryError:
        """Turn a provider or network exception into a DeliveryError."""
        ...

    async def aclose(self) -> None: ...


@runtime_checkable
class BatchChannel(Protocol):
    """A channel that sends several outbox rows in one provider request (LINE multicast).
    The worker hands it all due rows of the channel; it returns one result per row, in
    order."""

    async def send_batch(
        self, messages: Sequence[OutgoingMessage], take: Callable[[], Awaitable[None]]
    ) -> list[SendResult | DeliveryError]:
        """`take()` before each provider request: the channel's rate limit."""
        ...

"""Email over SMTP, to any provider (SES, SendGrid, a shop's own server).

Error classes follow the reply codes (RFC 5321): 4xx is temporary and retried; 5xx to
RCPT TO fails the message for good as a bounce, and the bounce policy
(tokui.messaging.bounces) reads its enhanced status code: 5.1.1 (no such user) suppresses
the address, 5.2.2 (mailbox full) counts as a soft bounce, 5.7.1 (a policy block)
suppresses nothing. Other 5xx replies (content rejected, sender refused) fail the
message without blaming the recipient.

The envelope sender (MAIL FROM) is the message's own signed VERP address
(tokui.messaging.verp) unless `[bounces] verp = false`, so a bounce that arrives later
names its message. Connection problems,
timeouts and authentication failures are temporary: they are the sender's problem and
the message should go once it is fixed.

SMTP has no idempotency key. Each message has a Message-ID fixed before the first try,
so a retry after an ambiguous failure carries the same id, and a worker that dies after
handing over a message leaves it in `sending`, which the outbox holds for review instead
of resending (see tokui.messaging.channel).

The worker hands the channel a whole batch (`send_batch`): each of the pool's
connections takes the next message of the batch as soon as it is free and carries many
transactions, pipelined when the server offers PIPELINING (tokui.messaging.smtp_pipeline).
A refusal fails its own message and the connection goes on; a connection that breaks is
replaced and the batch goes on over the others.
"""

from __future__ import annotations

import asyncio
import re
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import aiosmtplib

from tokui.clock import Clock
from tokui.config import Settings
from tokui.messaging.channel import (
    Capabilities,
    DeliveryError,
    OutgoingMessage,
    PermanentDeliveryError,
    RenderRequest,
    SendResult,
    TemporaryDeliveryError,
)
from tokui.messaging.email_render import render_email
from tokui.messaging.mime import AddressError, DKIMKey, build_email, check_address, message_id
from tokui.messaging.settings import MessagingSettings, dkim_key
from tokui.messaging.smtp_pipeline import Envelope, Outcome, deliver, transaction
from tokui.messaging.smtp_pool import SMTPPool
from tokui.messaging.verp import VERPSigner

SUPPRESS_BOUNCE = "bounce"
_ENHANCED = re.compile(r"^\s*([245]\.\d{1,3}\.\d{1,3})(?![\d.])")


def reply_status(code: int, message: str) -> str:
    """The RFC 3463 status of an SMTP reply: its enhanced code, else class.0.0."""
    found = _ENHANCED.match(message)
    return found.group(1) if found else f"{code // 100}.0.0"


class EmailChannel:
    name = "email"
    capabilities = Capabilities(
        idempotent_send=False, address_kind="email", default_rate_per_second=50.0
    )

    def __init__(
        self,
        settings: MessagingSettings,
        clock: Clock,
        workspace: Settings | None = None,
        secret: str | None = None,
    ) -> None:
        self.settings = settings
        self.email = settings.email
        self.clock = clock
        key = dkim_key(workspace, self.email) if workspace is not None else None
        self.dkim = DKIMKey(self.email.dkim_domain, self.email.dkim_selector, key) if key else None
        self._pool: SMTPPool | None = None
        if secret is None and workspace is not None:
            secret = workspace.secret_key
        bounces = settings.bounces
        self.verp = (
            VERPSigner(secret, bounces.local_part, settings.bounce_domain)
            if bounces.verp and secret
            else None
        )

    def envelope_sender(self, outbox_id: int) -> str:
        if self.verp is None:
            return self.email.from_address
        return self.verp.envelope_sender(outbox_id)

    @property
    def pool(self) -> SMTPPool:
        if self._pool is None:
            self._pool = SMTPPool(self.email)
        return self._pool

    def validate_config(self) -> list[str]:
        problems = []
        try:
            check_address(self.email.from_address, "[email] from_address")
        except AddressError as exc:
            problems.append(str(exc))
        if self.email.reply_to:
            try:
                check_address(self.email.reply_to, "[email] reply_to")
            except AddressError as exc:
                problems.append(str(exc))
        if self.verp is not None:
            try:
                check_address(self.envelope_sender(1), "[bounces] envelope sender")
            except AddressError as exc:
                problems.append(str(exc))
        if not self.email.host:
            problems.append("[email] host is empty")
        if self.email.username and not self.email.password:
            problems.append("[email] username is set but TOKUI_SMTP_PASSWORD is not")
        for field in ("sender_name", "sender_address", "contact"):
            if not getattr(self.settings, field):
                problems.append(
                    f"[messaging] {field} is empty: marketing mail must name the sender, "
                    "its address and a contact (特定電子メール法)"
                )
        if not self.settings.tracking_base_url.startswith("https://"):
            problems.append(
                "[messaging] tracking_base_url is not https: mailbox providers only honour "
                "one-click unsubscribe (RFC 8058) over HTTPS"
            )
        return problems

    def render(self, request: RenderRequest) -> dict[str, Any]:
        check_address(request.recipient, "recipient")
        return render_email(request, self.settings)

    def provider_message_id(self, outbox_id: int, idempotency_key: str) -> str | None:
        return message_id(outbox_id, idempotency_key, self.email.from_domain)

    def to_bytes(self, message: OutgoingMessage) -> bytes:
        mid = message.provider_message_id or message_id(
            message.outbox_id, message.idempotency_key, self.email.from_domain
        )
        return build_email(
            message.payload,
            from_address=self.email.from_address,
            from_name=self.email.from_name,
            to=message.recipient,
            message_id=mid,
            date=self.clock.now(),
            reply_to=self.email.reply_to,
            dkim_key=self.dkim,
        )

    async def send(self, message: OutgoingMessage) -> SendResult:
        try:
            data = self.to_bytes(message)
        except AddressError as exc:
            raise PermanentDeliveryError(str(exc), code="address") from None
        try:
            async with self.pool.connection() as smtp:
                response = await transaction(
                    smtp, self.envelope_sender(message.outbox_id), message.recipient, data
                )
        except Exception as exc:  # classified below; nothing escapes unclassified
            raise self.classify(exc) from exc
        return SendResult(message.provider_message_id, detail=response[:200])

    async def send_batch(
        self, messages: Sequence[OutgoingMessage], take: Callable[[], Awaitable[None]]
    ) -> list[SendResult | DeliveryError]:
        """One result per message, in order; `take()` before each message (the rate)."""
        results: list[SendResult | DeliveryError | None] = [None] * len(messages)
        todo = deque(range(len(messages)))
        timeout = self.email.timeout_seconds

        async def next_job() -> tuple[int, Envelope] | None:
            while todo:
                i = todo.popleft()
                message = messages[i]
                try:
                    data = self.to_bytes(message)
                except AddressError as exc:
                    results[i] = PermanentDeliveryError(str(exc), code="address")
                    continue
                await take()
                sender = self.envelope_sender(message.outbox_id)
                return i, Envelope(sender, message.recipient, data, crlf=True)
            return None

        def done(i: int, outcome: Outcome) -> None:
            if isinstance(outcome, str):
                results[i] = SendResult(messages[i].provider_message_id, detail=outcome[:200])
            else:
                results[i] = self.classify(outcome)

        failures: list[BaseException] = []

        async def lane() -> None:
            # A connection that broke after taking messages is replaced; one that took
            # none (the server is down, or refuses us) ends this lane.
            while todo:
                taken = 0

                async def take_next() -> tuple[int, Envelope] | None:
                    nonlocal taken
                    job = await next_job()
                    taken += job is not None
                    return job

                try:
                    async with self.pool.connection() as smtp:
                        await deliver(smtp, take_next, done, timeout)
                except Exception as exc:  # each message it took has its outcome already
                    if not taken:
                        failures.append(exc)
                        return

        await asyncio.gather(*(lane() for _ in range(min(self.email.pool_size, len(messages)))))
        unsent = self.classify(failures[-1]) if failures else TemporaryDeliveryError("not sent")
        return [r if r is not None else unsent for r in results]

    def classify(self, exc: BaseException) -> DeliveryError:
        if isinstance(exc, DeliveryError):
            return exc
        if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
            refused = exc.recipients[0] if exc.recipients else None
            if refused is not None:
                return self.classify(refused)
            return TemporaryDeliveryError("recipient refused", code="rcpt")
        if isinstance(exc, aiosmtplib.SMTPRecipientRefused):
            text = f"{exc.code} {exc.message} (RCPT TO)"
            status = reply_status(exc.code, exc.message)
            if 500 <= exc.code < 600:
                return PermanentDeliveryError(
                    text, code=str(exc.code), suppress=SUPPRESS_BOUNCE, status=status
                )
            return TemporaryDeliveryError(text, code=str(exc.code), status=status)
        if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
            return TemporaryDeliveryError(
                f"SMTP authentication failed ({exc.code}); check [email] username and "
                "TOKUI_SMTP_PASSWORD",
                code=str(exc.code),
            )
        if isinstance(exc, aiosmtplib.SMTPResponseException):
            text = f"{exc.code} {exc.message}"
            if 500 <= exc.code < 600:
                return PermanentDeliveryError(text, code=str(exc.code))
            return TemporaryDeliveryError(text, code=str(exc.code))
        if isinstance(exc, aiosmtplib.SMTPException | OSError | TimeoutError):
            return TemporaryDeliveryError(f"{type(exc).__name__}: {exc}", code="network")
        return TemporaryDeliveryError(f"{type(exc).__name__}: {exc}", code="unexpected")

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

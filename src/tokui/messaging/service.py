"""What the CLI, the web pages and the scenario engine call: queue messages from a
template for customers, send a test, build the channels and the delivery worker.

Queuing renders every message inside the caller's transaction: a template that fails
for one customer raises TemplateRenderError naming the template, part and line, and
nothing of the batch is queued.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from tokui.clock import Clock, utc_naive
from tokui.messaging.channel import Channel, RenderRequest
from tokui.messaging.channel_settings import ChannelSettings, load_channel_settings
from tokui.messaging.channels.call_center import CallCenterChannel
from tokui.messaging.channels.email import EmailChannel
from tokui.messaging.channels.line import LineChannel
from tokui.messaging.channels.postal import PostalDMChannel
from tokui.messaging.channels.push import PushChannel
from tokui.messaging.channels.sandbox import SandboxChannel
from tokui.messaging.channels.webhook import WebhookChannel
from tokui.messaging.context import (
    CustomerData,
    ShopInfo,
    load_customers,
    sample_context,
    template_context,
)
from tokui.messaging.deferred import RenderPass, load_contexts, render_pending
from tokui.messaging.outbox import NewMessage, enqueue_many
from tokui.messaging.settings import MessagingSettings, load_messaging_settings
from tokui.messaging.store import get_template, get_version, source_of
from tokui.messaging.templates import TemplateSource
from tokui.messaging.tracking import LinkSigner
from tokui.messaging.worker import DeliveryWorker
from tokui.state.messages import MessageTemplate, MessageTemplateVersion, OutboxMessage
from tokui.workspace import Workspace

# Ids per SELECT ... IN (...) when reading back what was queued.
IDS_PER_QUERY = 900


class MessagingError(ValueError):
    """A request the messaging layer cannot carry out; the message says why."""


@dataclass(frozen=True)
class Recipient:
    customer_id: str | None
    address: str
    data: CustomerData
    recommendations: Sequence[Mapping[str, Any]] | None = None
    # Part of the idempotency key when a customer gets several messages of one send
    # (push: one per device); else the customer id (or the address).
    key_part: str | None = None


class Messaging:
    """The messaging layer of one workspace."""

    def __init__(
        self, ws: Workspace, clock: Clock, settings: MessagingSettings | None = None
    ) -> None:
        self.ws = ws
        self.clock = clock
        self.settings = settings or load_messaging_settings(ws.settings)
        self.tz = ZoneInfo(ws.settings.timezone)
        self.signer = LinkSigner(ws.settings.secret_key, self.settings.tracking_base_url)
        self.shop = ShopInfo(
            name=ws.settings.shop_name,
            url=self.settings.shop_url,
            sender_name=self.settings.sender_name,
            postal_address=self.settings.sender_address,
            contact=self.settings.contact,
        )
        self._channels: dict[str, Channel] | None = None
        self._channel_settings: ChannelSettings | None = None

    # channels
    @property
    def channel_settings(self) -> ChannelSettings:
        if self._channel_settings is None:
            self._channel_settings = load_channel_settings(self.ws.settings)
        return self._channel_settings

    def real_channel(self, name: str) -> Channel:
        """The channel as configured, never wrapped in the sandbox (settings pages)."""
        channel = self.channel(name)
        return channel.inner if isinstance(channel, SandboxChannel) else channel

    @property
    def channels(self) -> dict[str, Channel]:
        if self._channels is None:
            cs = self.channel_settings
            webhook = WebhookChannel(cs.webhook, self.clock)
            outgoing: dict[str, Channel] = {
                "email": EmailChannel(self.settings, self.clock, self.ws.settings),
                "line": LineChannel(cs.line),
                "webhook": webhook,
                "push": PushChannel(cs.push, self.ws.sessions, self.clock),
            }
            if self.settings.sandbox:
                outgoing = {
                    name: SandboxChannel(ch, self.ws.sessions, self.clock)
                    for name, ch in outgoing.items()
                }
            # Both stay on the machine (a task list, a file download); only the call
            # center's optional mirror leaves it, and not in sandbox mode.
            mirror = cs.call_center.mirror_webhook and not self.settings.sandbox
            local: dict[str, Channel] = {
                "postal_dm": PostalDMChannel(),
                "call_center": CallCenterChannel(
                    self.ws.sessions,
                    self.clock,
                    mirror=webhook if mirror else None,
                    mirror_url=cs.webhook.url,
                ),
            }
            self._channels = {**outgoing, **local}
        return self._channels

    def channel(self, name: str) -> Channel:
        try:
            return self.channels[name]
        except KeyError:
            raise MessagingError(f"channel {name!r} is not available") from None

    def worker(self) -> DeliveryWorker:
        def renderer(
            db: Session, now: datetime, limit: int, ids: Sequence[int] | None
        ) -> RenderPass:
            return render_pending(self, db, now, limit, ids)

        return DeliveryWorker(
            self.ws.sessions,
            self.channels,
            self.clock,
            self.ws.settings.secret_key,
            self.settings,
            renderer=renderer,
        )

    # contexts
    def sample_context(self) -> dict[str, Any]:
        return sample_context(self.shop)

    def customers(self, customer_ids: Sequence[str]) -> dict[str, CustomerData]:
        return load_customers(self.ws.warehouse, customer_ids, self.clock.now(), self.tz)

    def contexts(self, customer_ids: Sequence[str]) -> dict[str, str]:
        """encode_customer(data) of `customers(customer_ids)`, built in bulk (the
        contexts of messages the delivery worker renders; tokui.messaging.deferred)."""
        return load_contexts(self.ws.warehouse, customer_ids, self.clock.now(), self.tz)

    def context_for(self, recipient: Recipient) -> dict[str, Any]:
        return template_context(recipient.data, self.shop, self.tz, recipient.recommendations)

    # rendering and queuing
    def render(
        self,
        source: TemplateSource,
        channel: str,
        context: Mapping[str, Any],
        recipient: str,
        is_marketing: bool,
        outbox_id: int = 0,
        idempotency_key: str = "preview",
    ) -> dict[str, Any]:
        return self.channel(channel).render(
            RenderRequest(
                outbox_id=outbox_id,
                source=source,
                context=context,
                recipient=recipient,
                is_marketing=is_marketing,
                shop=self.shop,
                signer=self.signer,
                idempotency_key=idempotency_key,
            )
        )

    def queue(
        self,
        db: Session,
        template: MessageTemplate,
        version: MessageTemplateVersion,
        recipients: Iterable[Recipient],
        key_prefix: str,
    ) -> list[OutboxMessage]:
        """Queue one message per recipient with the key `{key_prefix}:{customer}`; keys
        already queued are skipped (that is what makes a rerun safe)."""
        self.channel(template.channel)  # MessagingError when it is not available
        source = source_of(template, version)
        now = utc_naive(self.clock.now())
        items: list[NewMessage] = []
        contexts: dict[str, dict[str, Any]] = {}
        for r in recipients:
            item = self.new_message(template, version, r, key_prefix)
            items.append(item)
            contexts[item.idempotency_key] = self.context_for(r)

        def render(outbox_id: int, m: NewMessage) -> tuple[dict[str, Any], str | None]:
            return self.render_new(template, source, contexts[m.idempotency_key], outbox_id, m)

        created = enqueue_many(db, items, now, render)
        ids = [row_id for row_id, _ in created]
        rows: list[OutboxMessage] = []
        # One bound parameter per id: SQLite builds before 3.32 (and some distributions'
        # builds) allow no more than 999 or 32,766 of them in one statement.
        for start in range(0, len(ids), IDS_PER_QUERY):
            chunk = ids[start : start + IDS_PER_QUERY]
            rows.extend(db.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(chunk))))
        return sorted(rows, key=lambda row: row.id)

    def new_message(
        self,
        template: MessageTemplate,
        version: MessageTemplateVersion,
        recipient: Recipient,
        key_prefix: str,
    ) -> NewMessage:
        """The outbox row of one recipient, before rendering (see `queue`)."""
        r = recipient
        return NewMessage(
            idempotency_key=f"{key_prefix}:{r.key_part or r.customer_id or r.address}",
            channel=template.channel,
            recipient=r.address,
            customer_id=r.customer_id,
            template_version_id=version.id,
            is_marketing=template.is_marketing,
        )

    def render_new(
        self,
        template: MessageTemplate,
        source: TemplateSource,
        context: Mapping[str, Any],
        outbox_id: int,
        m: NewMessage,
    ) -> tuple[dict[str, Any], str | None]:
        """The payload and provider message id of a row inserted by `queue` (or by a
        caller that inserts a batch itself: tokui.scenarios.engine)."""
        payload = self.render(
            source,
            template.channel,
            context,
            m.recipient,
            template.is_marketing,
            outbox_id,
            m.idempotency_key,
        )
        return payload, self.channel(template.channel).provider_message_id(
            outbox_id, m.idempotency_key
        )

    def send_test(
        self,
        db: Session,
        template_key: str,
        to: str,
        customer_id: str | None = None,
        version: int | None = None,
    ) -> OutboxMessage:
        """Queue one test message of a template to `to`, with a real customer's data when
        `customer_id` is given (else a made-up customer). The subject starts with [TEST]."""
        template = get_template(db, template_key)
        if template is None:
            raise MessagingError(f"no template {template_key!r}")
        ver = get_version(db, template, version)
        if customer_id:
            found = self.customers([customer_id]).get(customer_id)
            if found is None:
                raise MessagingError(f"no customer {customer_id!r} in the warehouse")
            data = found
        else:
            data = CustomerData(customer=dict(self.sample_context()["customer"]))
        if template.channel == "email":
            ver_subject = "[TEST] " + ver.subject
            source_override = MessageTemplateVersion(
                id=ver.id,
                template_id=ver.template_id,
                version=ver.version,
                subject=ver_subject,
                html=ver.html,
                text=ver.text,
                line_text=ver.line_text,
            )
        else:
            source_override = ver
        key = f"test:{template.key}:v{ver.version}:{secrets.token_hex(6)}"
        rows = self.queue(
            db, template, source_override, [Recipient(customer_id, to, data)], key_prefix=key
        )
        return rows[0]

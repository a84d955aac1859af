"""Messaging state: templates and their versions, the outbox, the sandbox inbox,
the contact suppression list, the consent log and the message event log.

The outbox is the single source of truth of what was (or will be) sent: a row is written
in the same transaction as whatever decided to send it, and delivery workers move it
through its states (tokui.messaging.outbox). Events are appended here first, in the same
transaction as the state change they describe, and copied to the warehouse table
`message_events` by the refresh step (tokui.messaging.events).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from tokui.state.models import Base

KEY_LENGTH = 64
IDEMPOTENCY_KEY_LENGTH = 200
ADDRESS_LENGTH = 320


class MessageTemplate(Base):
    """A named template; its content lives in versions, the newest being current."""

    __tablename__ = "message_templates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(KEY_LENGTH), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(20))
    # Marketing mail carries the 特定電子メール法 footer and needs consent; transactional
    # mail (order confirmations) does not.
    is_marketing: Mapped[bool] = mapped_column(Boolean, default=True)
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class MessageTemplateVersion(Base):
    """One saved state of a template; never changed once written, so a sent message can
    always be traced to exactly what it was rendered from."""

    __tablename__ = "message_template_versions"
    __table_args__ = (UniqueConstraint("template_id", "version", name="uq_template_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("message_templates.id"))
    version: Mapped[int] = mapped_column(Integer)
    subject: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
    line_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class OutboxMessage(Base):
    """One message to one recipient on one channel, from queued to a final state."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(IDEMPOTENCY_KEY_LENGTH), unique=True)
    channel: Mapped[str] = mapped_column(String(20))
    customer_id: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    recipient: Mapped[str] = mapped_column(String(ADDRESS_LENGTH))
    template_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("message_template_versions.id"), nullable=True
    )
    is_marketing: Mapped[bool] = mapped_column(Boolean, default=True)
    # The rendered message as JSON (subject, html, text, ...): what was sent is kept
    # exactly, independent of later template or customer changes.
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime)
    # While `sending`, the worker holding the row owns it until lease_until; claim_token
    # fences a worker whose lease expired from marking a row another worker reclaimed.
    lease_until: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    claim_token: Mapped[str | None] = mapped_column(String(40), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Assigned before the first attempt (the email Message-ID) or given by the provider.
    provider_message_id: Mapped[str | None] = mapped_column(String(400), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class SandboxInboxMessage(Base):
    """A message the sandbox channel captured instead of sending."""

    __tablename__ = "sandbox_inbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"), unique=True)
    channel: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str] = mapped_column(String(ADDRESS_LENGTH))
    subject: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    headers: Mapped[str] = mapped_column(Text, default="{}")
    captured_at: Mapped[datetime] = mapped_column(DateTime)


class ContactSuppression(Base):
    """An address that must not receive marketing on a channel: unsubscribed, bounced,
    complained, or blocked by hand. Clear text, unlike the hashed erasure list
    (tokui.state.suppressions), because the shop must be able to show and lift it."""

    __tablename__ = "contact_suppressions"
    __table_args__ = (UniqueConstraint("channel", "address", name="uq_contact_suppression"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(ADDRESS_LENGTH))
    reason: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(Text, default="")
    customer_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class ConsentRecord(Base):
    """A consent given or withdrawn: who, which channel, when and how.

    Append-only: 特定電子メール法 requires keeping the record of how consent was
    obtained; the current state is the newest record per customer and channel.
    """

    __tablename__ = "consent_log"
    __table_args__ = (Index("ix_consent_log_customer_channel", "customer_id", "channel"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(20))
    granted: Mapped[bool] = mapped_column(Boolean)
    method: Mapped[str] = mapped_column(String(40))
    evidence: Mapped[str] = mapped_column(Text, default="")
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"), nullable=True)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    at: Mapped[datetime] = mapped_column(DateTime)


class MessageEventRecord(Base):
    """sent, delivered, opened, clicked, bounced, complained, unsubscribed, failed,
    suppressed: appended with the state change, exported to the warehouse."""

    __tablename__ = "message_event_log"
    __table_args__ = (Index("ix_message_event_log_event_at", "event", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    outbox_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox.id"), nullable=True, index=True
    )
    customer_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    channel: Mapped[str] = mapped_column(String(20))
    event: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime)

"""State of the channels beyond email: which are switched on, LINE links, app push
device tokens, postal DM batches and the call center's call tasks.

Everything a channel needs to remember between sends lives here, in the state DB, so
the outbox row stays the single record of a message and these tables only point at it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tokui.state.models import Base


class ChannelSwitch(Base):
    """A channel switched on or off by an admin; without a row the configuration decides
    (a configured channel is on)."""

    __tablename__ = "channel_switches"

    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class LineLink(Base):
    """A LINE user of the shop's official account and the customer it belongs to.

    Written by the follow/unfollow webhook; `customer_id` is known when the cart's
    import carried the LINE user id (customers.line_user_id) or an admin linked it.
    """

    __tablename__ = "line_links"

    line_user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    following: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class PushDevice(Base):
    """An FCM registration token of one app install of a customer."""

    __tablename__ = "push_devices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(200), index=True)
    token: Mapped[str] = mapped_column(String(4096))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    platform: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    # Why the token stopped working (FCM UNREGISTERED), kept for the operator.
    deactivated_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class DMBatch(Base):
    """One postal DM export handed to a print vendor; its messages point back here."""

    __tablename__ = "dm_batches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    encoding: Mapped[str] = mapped_column(String(20))
    row_count: Mapped[int] = mapped_column(Integer)
    excluded_count: Mapped[int] = mapped_column(Integer)
    # The queued messages left out of this batch, with why (JSON list of message_id,
    # customer_id, reason): no consent, no usable address, suppressed.
    skipped: Mapped[str] = mapped_column(Text, default="[]", server_default="[]")
    # The exact bytes handed over, so a re-export gives the vendor the same file.
    content: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class DMBatchItem(Base):
    __tablename__ = "dm_batch_items"
    __table_args__ = (UniqueConstraint("outbox_id", name="uq_dm_batch_items_outbox_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("dm_batches.id"), index=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"))


class CallTask(Base):
    """A customer the call center should phone (解約見込み), created by the call_center
    channel from an outbox row, closed by recording the outcome."""

    __tablename__ = "call_tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"), unique=True)
    customer_id: Mapped[str] = mapped_column(String(200), index=True)
    # What the caller sees, as queued: name, phone, offer, note for the caller (JSON).
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))  # open, done
    outcome: Mapped[str | None] = mapped_column(String(20), nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    outcome_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    outcome_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)

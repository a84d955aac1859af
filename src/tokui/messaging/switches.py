"""Channels switched on and off by an admin (/messages/channels).

A switched-off channel keeps its queued messages: the worker simply does not claim them
until the channel is switched on again, so nothing is lost and nothing goes while an
admin fixes a token. Without a row a channel is on. The worker reads the switches every
cycle, so a change takes effect within one cycle, in every worker process.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tokui.state.channels import ChannelSwitch

CHANNEL_NAMES = ("email", "line", "webhook", "push", "postal_dm", "call_center")


def disabled_channels(db: Session) -> set[str]:
    return set(db.scalars(select(ChannelSwitch.channel).where(ChannelSwitch.enabled.is_(False))))


def set_enabled(
    db: Session, channel: str, enabled: bool, user_id: int | None, at: datetime
) -> None:
    if channel not in CHANNEL_NAMES:
        raise ValueError(f"unknown channel {channel!r}; one of {', '.join(CHANNEL_NAMES)}")
    row = db.get(ChannelSwitch, channel)
    if row is None:
        db.add(ChannelSwitch(channel=channel, enabled=enabled, updated_by=user_id, updated_at=at))
    else:
        row.enabled = enabled
        row.updated_by = user_id
        row.updated_at = at
    db.flush()

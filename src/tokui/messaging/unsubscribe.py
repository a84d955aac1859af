"""Unsubscribing from a message: the footer link, the RFC 8058 one-click POST, the
mailto reply. One function for all, so each records the same three things in one
transaction: the address on the suppression list, a consent withdrawal in the consent
log (with how it was given), and an `unsubscribed` event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from tokui.messaging.consent import record_consent
from tokui.messaging.events import add_event
from tokui.messaging.suppression import suppress
from tokui.state.messages import OutboxMessage

ADDRESS_KINDS = {"email": "email", "line": "line", "sms": "phone", "push": "device"}


@dataclass(frozen=True)
class Unsubscribed:
    outbox_id: int
    channel: str
    recipient: str
    already: bool


def unsubscribe(
    db: Session, outbox_id: int, at: datetime, method: str, evidence: str = ""
) -> Unsubscribed | None:
    """Stop marketing on the message's channel to its recipient; None if no such
    message. Repeating it is harmless (already=True, nothing new recorded)."""
    row = db.get(OutboxMessage, outbox_id)
    if row is None:
        return None
    kind = ADDRESS_KINDS.get(row.channel, row.channel)
    _, created = suppress(
        db,
        channel=row.channel,
        address_kind=kind,
        address=row.recipient,
        reason="unsubscribe",
        at=at,
        detail=method,
        customer_id=row.customer_id,
        outbox_id=row.id,
    )
    if not created:
        return Unsubscribed(row.id, row.channel, row.recipient, True)
    if row.customer_id:
        record_consent(
            db,
            customer_id=row.customer_id,
            channel=row.channel,
            granted=False,
            method=method,
            at=at,
            evidence=evidence or f"message {row.id}",
            outbox_id=row.id,
        )
    add_event(
        db,
        event="unsubscribed",
        channel=row.channel,
        at=at,
        outbox_id=row.id,
        customer_id=row.customer_id,
        detail=method,
    )
    return Unsubscribed(row.id, row.channel, row.recipient, False)

"""Who must not be messaged: the contact suppression list and the erasure list.

Two lists, checked together at send time:
- `contact_suppressions` (this module): unsubscribes, bounces, complaints and manual
  blocks, per channel and address, in clear so the shop can show and lift them;
- the erasure list (tokui.privacy.suppression): people deleted on request, as keyed
  hashes, which must never be messaged again on any channel.
Consent withdrawn in the consent log (tokui.messaging.consent) blocks marketing too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tokui.privacy.identity import normalise_email
from tokui.privacy.suppression import SuppressionChecker, load_checker
from tokui.state.messages import ContactSuppression

REASONS = ("unsubscribe", "bounce", "complaint", "manual")


def normalise_address(address_kind: str, address: str) -> str:
    if address_kind == "email":
        return normalise_email(address) or ""
    return address.strip()


def suppress(
    db: Session,
    *,
    channel: str,
    address_kind: str,
    address: str,
    reason: str,
    at: datetime,
    detail: str = "",
    customer_id: str | None = None,
    outbox_id: int | None = None,
) -> tuple[ContactSuppression, bool]:
    """Add (or keep) an address on the list; the first reason recorded stays.
    Returns the entry and whether it is new."""
    if reason not in REASONS:
        raise ValueError(f"unknown suppression reason {reason!r}; one of {', '.join(REASONS)}")
    value = normalise_address(address_kind, address)
    existing = db.scalar(
        select(ContactSuppression).where(
            ContactSuppression.channel == channel, ContactSuppression.address == value
        )
    )
    if existing is not None:
        return existing, False
    entry = ContactSuppression(
        channel=channel,
        address=value,
        reason=reason,
        detail=detail[:2000],
        customer_id=customer_id,
        outbox_id=outbox_id,
        created_at=at,
    )
    db.add(entry)
    db.flush()
    return entry, True


def lift(db: Session, suppression_id: int) -> bool:
    entry = db.get(ContactSuppression, suppression_id)
    if entry is None:
        return False
    db.delete(entry)
    return True


@dataclass
class SendGate:
    """The suppression state for a batch of recipients, loaded once."""

    contact: dict[tuple[str, str], str]
    erased: SuppressionChecker

    def reason(
        self,
        channel: str,
        address_kind: str,
        address: str,
        customer_id: str | None,
        marketing: bool = True,
    ) -> str | None:
        """Why this message must not go, or None.

        An unsubscribe stops marketing only: an order confirmation still goes. Bounces,
        complaints, manual blocks and erasures stop everything.
        """
        value = normalise_address(address_kind, address)
        listed = self.contact.get((channel, value))
        if listed is not None and (marketing or listed != "unsubscribe"):
            return f"on the suppression list ({channel}, {listed})"
        kinds: dict[str, Any] = {"customer_id": customer_id}
        if address_kind == "email":
            kinds["email"] = address
        elif address_kind == "phone":
            kinds["phone"] = address
        elif address_kind == "line":
            kinds["line_user_id"] = address
        if self.erased.is_suppressed(**kinds):
            return "deleted on request (erasure list)"
        return None


def load_gate(db: Session, secret: str, recipients: Iterable[tuple[str, str, str]]) -> SendGate:
    """recipients: (channel, address_kind, address) of the batch."""
    wanted = {(ch, normalise_address(kind, addr)) for ch, kind, addr in recipients}
    contact: dict[tuple[str, str], str] = {}
    addresses = sorted({addr for _, addr in wanted})
    for start in range(0, len(addresses), 500):
        chunk = addresses[start : start + 500]
        rows = db.execute(
            select(
                ContactSuppression.channel, ContactSuppression.address, ContactSuppression.reason
            ).where(ContactSuppression.address.in_(chunk))
        )
        contact.update({(ch, addr): why for ch, addr, why in rows if (ch, addr) in wanted})
    return SendGate(contact=contact, erased=load_checker(db, secret))


def list_suppressions(
    db: Session, channel: str | None = None, reason: str | None = None, limit: int = 500
) -> list[ContactSuppression]:
    query = select(ContactSuppression).order_by(ContactSuppression.id.desc()).limit(limit)
    if channel:
        query = query.where(ContactSuppression.channel == channel)
    if reason:
        query = query.where(ContactSuppression.reason == reason)
    return list(db.scalars(query))

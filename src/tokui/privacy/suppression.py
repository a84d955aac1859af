"""The suppression list: who must never be messaged (or silently re-imported) again.

Senders call `is_suppressed` (one person) or `load_checker` (a batch) at send time;
imports call the checker to flag rows that bring a deleted person back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tokui.privacy.identity import keyed_hash
from tokui.state.suppressions import Suppression

SOURCE_ERASURE = "erasure"


def add_suppression(
    db: Session,
    secret: str,
    at: datetime,
    *,
    reason: str,
    created_by: int | None,
    customer_id: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    line_user_id: str | None = None,
    source: str = SOURCE_ERASURE,
) -> Suppression:
    entry = Suppression(
        created_at=at,
        created_by=created_by,
        reason=reason,
        source=source,
        customer_hash=keyed_hash(secret, "customer", customer_id),
        email_hash=keyed_hash(secret, "email", email),
        phone_hash=keyed_hash(secret, "phone", phone),
        line_hash=keyed_hash(secret, "line", line_user_id),
    )
    db.add(entry)
    db.flush()
    return entry


def _hashes(
    secret: str,
    email: str | None,
    phone: str | None,
    line_user_id: str | None,
    customer_id: str | None,
) -> dict[str, str]:
    values = {
        "email": keyed_hash(secret, "email", email),
        "phone": keyed_hash(secret, "phone", phone),
        "line": keyed_hash(secret, "line", line_user_id),
        "customer": keyed_hash(secret, "customer", customer_id),
    }
    return {k: v for k, v in values.items() if v is not None}


_COLUMNS = {
    "email": Suppression.email_hash,
    "phone": Suppression.phone_hash,
    "line": Suppression.line_hash,
    "customer": Suppression.customer_hash,
}


def is_suppressed(
    db: Session,
    secret: str,
    *,
    email: str | None = None,
    phone: str | None = None,
    line_user_id: str | None = None,
    customer_id: str | None = None,
) -> bool:
    """True when any given value belongs to a person on the suppression list."""
    hashes = _hashes(secret, email, phone, line_user_id, customer_id)
    if not hashes:
        return False
    conditions = [_COLUMNS[kind] == value for kind, value in hashes.items()]
    return db.scalar(select(Suppression.id).where(or_(*conditions)).limit(1)) is not None


@dataclass
class SuppressionChecker:
    """Every suppressed hash in memory, for checking many people at once."""

    secret: str
    known: dict[str, set[str]] = field(default_factory=dict)

    def matches(
        self,
        *,
        email: str | None = None,
        phone: str | None = None,
        line_user_id: str | None = None,
        customer_id: str | None = None,
    ) -> list[str]:
        """Which of the given values (email, phone, line, customer) are suppressed."""
        hashes = _hashes(self.secret, email, phone, line_user_id, customer_id)
        return [kind for kind, value in hashes.items() if value in self.known.get(kind, set())]

    def is_suppressed(self, **values: str | None) -> bool:
        return bool(self.matches(**values))

    def __len__(self) -> int:
        return sum(len(v) for v in self.known.values())


def load_checker(db: Session, secret: str) -> SuppressionChecker:
    checker = SuppressionChecker(secret, {kind: set() for kind in _COLUMNS})
    rows = db.execute(
        select(
            Suppression.email_hash,
            Suppression.phone_hash,
            Suppression.line_hash,
            Suppression.customer_hash,
        )
    )
    for email, phone, line, customer in rows:
        for kind, value in (("email", email), ("phone", phone), ("line", line)):
            if value:
                checker.known[kind].add(value)
        if customer:
            checker.known["customer"].add(customer)
    return checker


def list_suppressions(db: Session) -> list[dict[str, Any]]:
    """Entries newest first; which identifiers each covers, never the hashes themselves."""
    entries = db.scalars(select(Suppression).order_by(Suppression.id.desc())).all()
    return [
        {
            "id": e.id,
            "created_at": e.created_at,
            "source": e.source,
            "reason": e.reason,
            "created_by": e.created_by,
            "covers": ",".join(
                kind
                for kind, value in (
                    ("customer", e.customer_hash),
                    ("email", e.email_hash),
                    ("phone", e.phone_hash),
                    ("line", e.line_hash),
                )
                if value
            ),
        }
        for e in entries
    ]

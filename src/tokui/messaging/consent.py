"""The consent log: per customer and channel, when and how consent was given or withdrawn.

特定電子メール法 requires a sender of marketing mail to keep a record showing that
each recipient agreed. Records are only appended; the current state is the newest one.
Without any record the cart's opt-in flag (customers.email_opt_in, ...) decides, and
that import is itself the evidence (method "import").
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tokui.state.bulk import among
from tokui.state.messages import ConsentRecord

METHODS = (
    "signup_form",  # the shop's registration or newsletter form
    "import",  # opt-in flag brought in from the cart
    "admin",  # changed by a user of Tokui
    "unsubscribe_page",  # the confirm form behind the footer link
    "one_click",  # RFC 8058 POST from the mailbox provider
    "mailto",  # reply to the List-Unsubscribe mailto
    "line_follow",
    "line_unfollow",
    "complaint",  # marked as spam: treated as withdrawal
)


def record_consent(
    db: Session,
    *,
    customer_id: str,
    channel: str,
    granted: bool,
    method: str,
    at: datetime,
    evidence: str = "",
    outbox_id: int | None = None,
    recorded_by: int | None = None,
) -> ConsentRecord:
    if method not in METHODS:
        raise ValueError(f"unknown consent method {method!r}; one of {', '.join(METHODS)}")
    record = ConsentRecord(
        customer_id=customer_id,
        channel=channel,
        granted=granted,
        method=method,
        evidence=evidence[:2000],
        outbox_id=outbox_id,
        recorded_by=recorded_by,
        at=at,
    )
    db.add(record)
    db.flush()
    return record


def current_consent(db: Session, customer_ids: Iterable[str], channel: str) -> dict[str, bool]:
    """The newest record's answer per customer that has any record on this channel."""
    ids = sorted(set(customer_ids))
    state: dict[str, bool] = {}
    for among_ids in among(db, ConsentRecord.customer_id, ids, 500):
        rows = db.execute(
            select(ConsentRecord.customer_id, ConsentRecord.granted)
            .where(ConsentRecord.channel == channel, among_ids)
            .order_by(ConsentRecord.at, ConsentRecord.id)
        )
        for cid, granted in rows:
            state[cid] = bool(granted)
    return state


def history(db: Session, customer_id: str) -> list[ConsentRecord]:
    return list(
        db.scalars(
            select(ConsentRecord)
            .where(ConsentRecord.customer_id == customer_id)
            .order_by(ConsentRecord.at.desc(), ConsentRecord.id.desc())
        )
    )

"""Bounces and complaints lead to suppression: the policy and its records.

Policy (the same for a refusal during the SMTP session and for a report that arrives
later at the bounce address):

- hard bounce (5.1.x unknown user, 5.4.x no such domain, ...): the address goes on the
  suppression list at once, reason `bounce`, with the status and the message id;
- soft bounce (4.x.x, 5.2.2 mailbox full): recorded; the address is suppressed when it
  reaches `soft_limit` soft bounces (different messages) within `soft_days` days;
- block (5.7.x policy or spam block, content, a bad sender): recorded, never suppressed;
  it says something about the shop's mail, not about the recipient;
- complaint (ARF abuse or fraud): the address is suppressed (reason `complaint`) and the
  customer's email consent is withdrawn with a consent_log record (method `complaint`).

Every result is a `bounced` (detail "hard|soft|block <status>: <diagnostic>") or
`complained` event in message_event_log, in the transaction that applies it, and so
reaches the warehouse's message_events like any other event: bounce rate = bounced /
sent, hard bounce rate = bounced with detail "hard ..." / sent.

A message bounces at most once and is complained about at most once: a report whose
message already has that event changes nothing, which makes processing the same mailbox
again harmless.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tokui.messaging.consent import record_consent
from tokui.messaging.dsn import Kind, Report
from tokui.messaging.events import add_event
from tokui.messaging.suppression import normalise_address, suppress
from tokui.state.messages import MessageEventRecord, OutboxMessage

CHANNEL = "email"
COMPLAINT_TYPES = ("abuse", "fraud")
# The Message-ID tokui.messaging.mime.message_id gives: <outbox id.16 hex@domain>.
_OUR_MESSAGE_ID = re.compile(r"^<(\d{1,18})\.[0-9a-f]{16}@[^<>\s]+>$")

Result = Literal["hard", "soft", "block", "complaint", "ignored", "unmatched", "duplicate"]


@dataclass(frozen=True)
class BouncePolicy:
    soft_limit: int = 3
    soft_days: int = 30


@dataclass(frozen=True)
class Outcome:
    result: Result
    outbox_id: int | None = None
    suppressed: bool = False
    detail: str = ""


def bounce_detail(kind: Kind, status: str, diagnostic: str) -> str:
    return f"{kind} {status}: {diagnostic}"[:2000]


def soft_bounce_count(db: Session, recipient: str, at: datetime, days: int) -> int:
    """Soft bounces of email messages to `recipient` in the `days` days up to `at`."""
    address = normalise_address("email", recipient)
    rows = db.execute(
        select(OutboxMessage.recipient, func.count())
        .join(MessageEventRecord, MessageEventRecord.outbox_id == OutboxMessage.id)
        .where(
            OutboxMessage.channel == CHANNEL,
            func.lower(OutboxMessage.recipient) == address.lower(),
            MessageEventRecord.event == "bounced",
            MessageEventRecord.detail.like("soft %"),
            MessageEventRecord.at > at - timedelta(days=days),
            MessageEventRecord.at <= at,
        )
        .group_by(OutboxMessage.recipient)
    )
    return sum(int(n) for r, n in rows if normalise_address("email", r) == address)


def apply_bounce(
    db: Session,
    *,
    recipient: str,
    customer_id: str | None,
    outbox_id: int,
    kind: Kind,
    detail: str,
    at: datetime,
    policy: BouncePolicy,
) -> bool:
    """Suppress the address if the policy says so (the `bounced` event must already be
    recorded); True when it was newly suppressed."""
    if kind == "block":
        return False
    if kind == "soft":
        count = soft_bounce_count(db, recipient, at, policy.soft_days)
        if count < policy.soft_limit:
            return False
        detail = f"{count} soft bounces within {policy.soft_days} days; last: {detail}"
    _, created = suppress(
        db,
        channel=CHANNEL,
        address_kind="email",
        address=recipient,
        reason="bounce",
        at=at,
        detail=f"message {outbox_id}: {detail}",
        customer_id=customer_id,
        outbox_id=outbox_id,
    )
    return created


def _has_event(db: Session, outbox_id: int, event: str) -> bool:
    found = db.scalar(
        select(MessageEventRecord.id)
        .where(MessageEventRecord.outbox_id == outbox_id, MessageEventRecord.event == event)
        .limit(1)
    )
    return found is not None


def attribute(db: Session, report: Report) -> OutboxMessage | None:
    """The email message a report is about: by its signed VERP address, else by the
    returned original's Message-ID (which must be exactly the one we stored)."""
    row: OutboxMessage | None = None
    if report.verp_outbox_id is not None:
        row = db.get(OutboxMessage, report.verp_outbox_id)
    elif report.original_message_id:
        match = _OUR_MESSAGE_ID.match(report.original_message_id)
        if match:
            row = db.get(OutboxMessage, int(match.group(1)))
            if row is not None and row.provider_message_id != report.original_message_id:
                row = None
    if row is None or row.channel != CHANNEL:
        return None
    return row


def _when(report: Report, row: OutboxMessage, now: datetime) -> datetime:
    """The report's own date, within [sent, now] (clocks differ; a report may be old)."""
    at = report.date or now
    if row.sent_at is not None and at < row.sent_at:
        at = row.sent_at
    return min(at, now)


def record_report(db: Session, report: Report, now: datetime, policy: BouncePolicy) -> Outcome:
    """Apply one parsed report in the caller's transaction."""
    if report.format == "none":
        return Outcome("ignored", detail="not a bounce or a complaint report")
    row = attribute(db, report)
    found = row.id if row is not None else None
    if report.format == "arf" and report.feedback_type not in COMPLAINT_TYPES:
        return Outcome("ignored", found, detail=f"feedback type {report.feedback_type!r}")
    failure = report.failure
    if report.format != "arf" and failure is None:
        # A delay warning or a success notice: the message may still arrive.
        actions = ", ".join(sorted({f.action for f in report.failures})) or "none"
        return Outcome("ignored", found, detail=f"no failure reported (action: {actions})")
    if row is None:
        return Outcome("unmatched", detail="no message of ours could be identified")
    at = _when(report, row, now)
    if report.format == "arf":
        return _complaint(db, row, report, at)
    assert failure is not None
    if _has_event(db, row.id, "bounced"):
        return Outcome("duplicate", row.id, detail="this message's bounce is already recorded")
    kind = failure.kind
    detail = bounce_detail(kind, failure.status, failure.diagnostic or report.subject)
    add_event(
        db,
        event="bounced",
        channel=CHANNEL,
        at=at,
        outbox_id=row.id,
        customer_id=row.customer_id,
        detail=detail,
    )
    if row.status == "sent":
        row.last_error = f"bounced after it was sent: {detail}"
    db.flush()
    suppressed = apply_bounce(
        db,
        recipient=row.recipient,
        customer_id=row.customer_id,
        outbox_id=row.id,
        kind=kind,
        detail=detail,
        at=at,
        policy=policy,
    )
    return Outcome(kind, row.id, suppressed, detail)


def _complaint(db: Session, row: OutboxMessage, report: Report, at: datetime) -> Outcome:
    if _has_event(db, row.id, "complained"):
        return Outcome("duplicate", row.id, detail="this message's complaint is already recorded")
    source = report.user_agent or "a mailbox provider"
    detail = f"{report.feedback_type} report from {source}"
    add_event(
        db,
        event="complained",
        channel=CHANNEL,
        at=at,
        outbox_id=row.id,
        customer_id=row.customer_id,
        detail=detail,
    )
    _, created = suppress(
        db,
        channel=CHANNEL,
        address_kind="email",
        address=row.recipient,
        reason="complaint",
        at=at,
        detail=f"message {row.id}: {detail}",
        customer_id=row.customer_id,
        outbox_id=row.id,
    )
    if row.customer_id:
        record_consent(
            db,
            customer_id=row.customer_id,
            channel=CHANNEL,
            granted=False,
            method="complaint",
            at=at,
            evidence=f"marked as spam: ARF {detail}, message {row.id}",
            outbox_id=row.id,
        )
    return Outcome("complaint", row.id, created, detail)

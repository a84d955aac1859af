"""LINE's webhook (/hooks/line): follow and unfollow events update consent.

LINE signs each request: `X-Line-Signature` is base64(HMAC-SHA256(channel secret, raw
body)). Anyone can POST to the public URL, so nothing is read from a body whose signature
does not match (compared in constant time); a missing or wrong signature is a 401 and
changes nothing.

A follow (adding the account as a friend, or unblocking it) is consent to receive LINE
messages; an unfollow (blocking) withdraws it. Each is appended to the consent log with
the method `line_follow` / `line_unfollow` and the event id and time as evidence, and the
LINE user id is linked to the customer: by an earlier link, or by the cart's
customers.line_user_id. LINE redelivers events it is unsure we received
(`deliveryContext.isRedelivery`): the event id makes handling one twice a no-op.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tokui.messaging.consent import record_consent
from tokui.state.channels import LineLink
from tokui.state.messages import ConsentRecord

SIGNATURE_HEADER = "x-line-signature"


class LineWebhookError(ValueError):
    """The request is not a valid LINE webhook call; `status` is the HTTP answer."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def signature(channel_secret: str, body: bytes) -> str:
    mac = hmac.new(channel_secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def verify_signature(channel_secret: str, body: bytes, given: str | None) -> None:
    if not channel_secret:
        raise LineWebhookError("the LINE channel secret is not configured", 503)
    if not given:
        raise LineWebhookError("missing X-Line-Signature", 401)
    if not hmac.compare_digest(signature(channel_secret, body).encode(), given.encode()):
        raise LineWebhookError("X-Line-Signature does not match", 401)


@dataclass
class WebhookOutcome:
    followed: list[str] = field(default_factory=list)
    unfollowed: list[str] = field(default_factory=list)
    duplicates: int = 0
    ignored: int = 0


def parse_events(body: bytes) -> list[dict[str, Any]]:
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise LineWebhookError(f"body is not JSON: {exc}", 400) from None
    events = data.get("events") if isinstance(data, dict) else None
    if not isinstance(events, list):
        raise LineWebhookError("body has no events list", 400)
    return [e for e in events if isinstance(e, dict)]


def _evidence(event: dict[str, Any]) -> str:
    return f"LINE webhookEventId={event.get('webhookEventId', '')}"


def handle_events(
    db: Session,
    events: Iterable[dict[str, Any]],
    now: datetime,
    customer_for: Callable[[str], str | None],
) -> WebhookOutcome:
    """Apply follow/unfollow events in the caller's transaction. `customer_for(user_id)`
    finds the customer of a LINE user id not linked yet (the warehouse lookup)."""
    outcome = WebhookOutcome()
    for event in events:
        kind = event.get("type")
        source = event.get("source") or {}
        user_id = source.get("userId") if isinstance(source, dict) else None
        if kind not in ("follow", "unfollow") or not isinstance(user_id, str) or not user_id:
            outcome.ignored += 1
            continue
        evidence = _evidence(event)
        seen = db.scalar(
            select(ConsentRecord.id).where(
                ConsentRecord.channel == "line", ConsentRecord.evidence == evidence
            )
        )
        if seen is not None and event.get("webhookEventId"):
            outcome.duplicates += 1
            continue
        following = kind == "follow"
        at = now
        if isinstance(event.get("timestamp"), int):
            at = datetime.fromtimestamp(event["timestamp"] / 1000, UTC).replace(tzinfo=None)
        link = db.get(LineLink, user_id)
        if link is None:
            link = LineLink(line_user_id=user_id, customer_id=customer_for(user_id))
            db.add(link)
        link.following = following
        link.updated_at = now
        if link.customer_id:
            record_consent(
                db,
                customer_id=link.customer_id,
                channel="line",
                granted=following,
                method="line_follow" if following else "line_unfollow",
                at=at,
                evidence=evidence,
            )
        (outcome.followed if following else outcome.unfollowed).append(user_id)
    db.flush()
    return outcome

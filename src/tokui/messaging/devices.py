"""App push device tokens per customer: where they come from and how they are kept.

The shop's app (or its backend) knows each install's FCM registration token. Tokui takes
them from a CSV import (`tokui push devices import devices.csv`, columns customer_id,
token, platform): minimal on purpose, because apps differ in how they report tokens. A
token is unique (by its SHA-256), so importing the same file twice changes nothing; a
token moving to another customer (a shared phone) follows the newest import. FCM's
UNREGISTERED answer switches a token off (tokui.messaging.channels.push).
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tokui.state.bulk import among
from tokui.state.channels import PushDevice

PLATFORMS = ("ios", "android", "web")
COLUMNS = ("customer_id", "token", "platform")
TOKEN_MAX = 4096


class DeviceImportError(ValueError):
    """A bad row in a device file; names the row and column. Nothing was imported."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class DeviceRow:
    customer_id: str
    token: str
    platform: str


def parse_devices(text: str, source: str = "devices.csv") -> list[DeviceRow]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise DeviceImportError(f"{source}: missing column(s) {', '.join(missing)}")
    rows = []
    for number, raw in enumerate(reader, start=2):
        customer = (raw.get("customer_id") or "").strip()
        token = (raw.get("token") or "").strip()
        platform = (raw.get("platform") or "").strip().lower()
        if not customer:
            raise DeviceImportError(f"{source}, row {number}, column customer_id: empty")
        if not token or len(token) > TOKEN_MAX or any(c.isspace() for c in token):
            raise DeviceImportError(
                f"{source}, row {number}, column token: 1 to {TOKEN_MAX} characters, no spaces"
            )
        if platform not in PLATFORMS:
            raise DeviceImportError(
                f"{source}, row {number}, column platform: one of {', '.join(PLATFORMS)}"
            )
        rows.append(DeviceRow(customer, token, platform))
    return rows


def import_devices(db: Session, rows: Sequence[DeviceRow], now: datetime) -> tuple[int, int]:
    """Insert new tokens, update moved or revived ones: (added, updated)."""
    added = updated = 0
    for row in rows:
        digest = token_hash(row.token)
        found = db.scalar(select(PushDevice).where(PushDevice.token_hash == digest))
        if found is None:
            db.add(
                PushDevice(
                    customer_id=row.customer_id,
                    token=row.token,
                    token_hash=digest,
                    platform=row.platform,
                    active=True,
                    created_at=now,
                    updated_at=now,
                )
            )
            db.flush()
            added += 1
        elif (found.customer_id, found.platform, found.active) != (
            row.customer_id,
            row.platform,
            True,
        ):
            found.customer_id = row.customer_id
            found.platform = row.platform
            found.active = True
            found.deactivated_reason = None
            found.updated_at = now
            updated += 1
    return added, updated


def active_tokens(db: Session, customer_ids: Sequence[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for among_ids in among(db, PushDevice.customer_id, list(customer_ids)):
        rows = db.execute(
            select(PushDevice.customer_id, PushDevice.token)
            .where(among_ids, PushDevice.active.is_(True))
            .order_by(PushDevice.customer_id, PushDevice.id)
        )
        for customer_id, token in rows:
            out.setdefault(customer_id, []).append(token)
    return out

"""The postal DM export: queued DMs become one CSV batch for the print vendor.

In one transaction: the queued postal_dm rows are locked, the ones without DM consent or
without a complete address (郵便番号 of 7 digits, 都道府県, a street line) are marked
`suppressed` with the reason, the others are written to the CSV, linked to the batch and
marked `handed_over` with a `handed_over` event. A failure (say a name that Shift_JIS
cannot encode) raises naming the row and column, and nothing changes.

The batch keeps the exact text it produced under its key, so exporting the same key
again returns the same file without touching any message: a vendor whose download broke
gets the same list, not a second one.

Columns: 郵便番号 (123-4567), 住所1 (都道府県 + address1), 住所2 (address2), 氏名, 敬称 (様),
顧客ID, メッセージID, then the personalised fields of the template in their order. The
warehouse's canonical customers table carries postal_code and prefecture; the street lines
are read from its optional `address1` / `address2` columns when the import brought them.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ibis.backends import BaseBackend
from sqlalchemy import select
from sqlalchemy.orm import Session

from tokui.messaging.consent import current_consent
from tokui.messaging.events import add_event
from tokui.messaging.outbox import Status
from tokui.messaging.suppression import load_gate
from tokui.state.channels import DMBatch, DMBatchItem
from tokui.state.messages import OutboxMessage

CHANNEL = "postal_dm"
ENCODINGS = ("utf-8-sig", "cp932")
BASE_COLUMNS = ("郵便番号", "住所1", "住所2", "氏名", "敬称", "顧客ID", "メッセージID")
HONORIFIC = "様"
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_POSTAL = re.compile(r"^\d{7}$")


class DMExportError(ValueError):
    """The export cannot be made; names the row and column. Nothing was changed."""


@dataclass(frozen=True)
class PostalAddress:
    customer_id: str
    name: str
    postal_code: str
    prefecture: str
    address1: str
    address2: str
    dm_opt_in: bool

    @property
    def complete(self) -> bool:
        return bool(
            _POSTAL.match(self.postal_code) and self.prefecture and self.address1 and self.name
        )


def _clean_postal(value: Any) -> str:
    text = str(value or "").translate(str.maketrans("０１２３４５６７８９－", "0123456789-"))
    return text.replace("-", "").replace("〒", "").strip()


def load_addresses(con: BaseBackend, customer_ids: Sequence[str]) -> dict[str, PostalAddress]:
    if not customer_ids:
        return {}
    customers = con.table("customers")
    columns = set(customers.columns)
    wanted = ["customer_id", "name", "postal_code", "prefecture", "dm_opt_in"]
    wanted += [c for c in ("address1", "address2") if c in columns]
    rows = (
        customers.filter(customers.customer_id.isin(list(customer_ids)))
        .select(*wanted)
        .to_pyarrow()
        .to_pylist()
    )
    return {
        str(r["customer_id"]): PostalAddress(
            customer_id=str(r["customer_id"]),
            name=str(r.get("name") or "").strip(),
            postal_code=_clean_postal(r.get("postal_code")),
            prefecture=str(r.get("prefecture") or "").strip(),
            address1=str(r.get("address1") or "").strip(),
            address2=str(r.get("address2") or "").strip(),
            dm_opt_in=bool(r.get("dm_opt_in")),
        )
        for r in rows
    }


def batch_bytes(batch: DMBatch) -> bytes:
    return batch.content.encode(batch.encoding)


def export_batch(
    db: Session,
    con: BaseBackend,
    *,
    key: str,
    encoding: str,
    now: datetime,
    secret: str,
    user_id: int | None = None,
) -> DMBatch:
    """Export every queued DM as batch `key`, or return the batch already made."""
    if not _KEY.match(key):
        raise DMExportError("batch key: letters, digits, '.', '_' and '-', up to 100")
    if encoding not in ENCODINGS:
        raise DMExportError(f"encoding: one of {', '.join(ENCODINGS)}")
    found = db.scalar(select(DMBatch).where(DMBatch.key == key))
    if found is not None:
        if found.encoding != encoding:
            raise DMExportError(
                f"batch {key!r} was exported as {found.encoding}; ask for that encoding"
            )
        return found
    rows = list(
        db.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.channel == CHANNEL, OutboxMessage.status == Status.queued.value)
            .order_by(OutboxMessage.id)
            .with_for_update()
        )
    )
    ids = sorted({r.customer_id for r in rows if r.customer_id})
    addresses = load_addresses(con, ids)
    consent = current_consent(db, ids, CHANNEL)
    gate = load_gate(db, secret, [(CHANNEL, "customer", r.recipient) for r in rows])
    lines: list[tuple[OutboxMessage, PostalAddress, dict[str, str]]] = []
    field_names: list[str] = []
    excluded = 0
    for row in rows:
        address = addresses.get(row.customer_id or "")
        why = gate.reason(CHANNEL, "customer", row.recipient, row.customer_id, row.is_marketing)
        if why is None and address is None:
            why = "customer not in the warehouse"
        if why is None and address is not None and row.is_marketing:
            agreed = consent.get(address.customer_id, address.dm_opt_in)
            if not agreed:
                why = "no consent to postal DM"
        if why is None and address is not None and not address.complete:
            why = "incomplete address (郵便番号 7 digits, 都道府県, address1, 氏名)"
        if why is not None or address is None:
            row.status = Status.suppressed.value
            row.last_error = why
            row.updated_at = now
            add_event(
                db,
                event="suppressed",
                channel=CHANNEL,
                at=now,
                outbox_id=row.id,
                customer_id=row.customer_id,
                detail=why or "",
            )
            excluded += 1
            continue
        fields = dict(json.loads(row.payload).get("fields") or {})
        for name in fields:
            if name not in field_names and name not in BASE_COLUMNS:
                field_names.append(name)
        lines.append((row, address, fields))
    text = _csv(lines, field_names)
    _check_encoding(text, encoding, field_names)
    batch = DMBatch(
        key=key,
        encoding=encoding,
        row_count=len(lines),
        excluded_count=excluded,
        content=text,
        created_by=user_id,
        created_at=now,
    )
    db.add(batch)
    db.flush()
    for row, _, _ in lines:
        db.add(DMBatchItem(batch_id=batch.id, outbox_id=row.id))
        row.status = Status.handed_over.value
        row.sent_at = now
        row.updated_at = now
        row.provider_message_id = f"dm:{key}"
        add_event(
            db,
            event="handed_over",
            channel=CHANNEL,
            at=now,
            outbox_id=row.id,
            customer_id=row.customer_id,
            detail=key,
        )
    db.flush()
    return batch


def _csv(
    lines: list[tuple[OutboxMessage, PostalAddress, dict[str, str]]], field_names: list[str]
) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*BASE_COLUMNS, *field_names])
    for row, a, fields in lines:
        writer.writerow(
            [
                f"{a.postal_code[:3]}-{a.postal_code[3:]}",
                a.prefecture + a.address1,
                a.address2,
                a.name,
                HONORIFIC,
                a.customer_id,
                str(row.id),
                *[fields.get(n, "") for n in field_names],
            ]
        )
    return out.getvalue()


def _check_encoding(text: str, encoding: str, field_names: list[str]) -> None:
    if encoding == "utf-8-sig":
        return
    columns = [*BASE_COLUMNS, *field_names]
    for number, record in enumerate(csv.reader(io.StringIO(text)), start=1):
        for column, value in zip(columns, record, strict=False):
            try:
                value.encode(encoding)
            except UnicodeEncodeError as exc:
                raise DMExportError(
                    f"row {number}, column {column}: {value[exc.start : exc.end]!r} cannot be "
                    f"written in {encoding} (Shift_JIS); export as utf-8-sig or fix the data"
                ) from None


def list_batches(db: Session, limit: int = 50) -> list[DMBatch]:
    return list(db.scalars(select(DMBatch).order_by(DMBatch.id.desc()).limit(limit)))

"""The postal DM export: queued DMs become one CSV batch for the print vendor.

In one transaction: the queued postal_dm rows are locked, the ones without DM consent or
without a usable address (郵便番号 of 7 digits, 都道府県, a street line, a name) are
marked `suppressed` with the reason and listed with it in the batch (`skipped`), the
others are written to the CSV, linked to the batch and marked `handed_over` with a
`handed_over` event. A failure (say a name that Shift_JIS cannot encode) raises naming
the customer and the column, and nothing changes.

The batch keeps the exact text it produced under its key, so exporting the same key
again returns the same file without touching any message: a vendor whose download broke
gets the same list, not a second one.

Columns: 郵便番号 (123-4567), 住所1 (都道府県 + address1), 住所2 (address2), 氏名, 敬称 (様),
顧客ID, メッセージID, then the personalised fields of the template in their order: the
layout print vendors' address-label and 宛名印字 services take. The address comes from
the canonical customers table (postal_code, prefecture, address1, address2), read at
export time. For cp932 a few characters Shift_JIS lacks but that mean the same as one it
has are written as that one (an en dash in "1–2–3" as "-", a no-break space as a space);
anything else it cannot hold stops the export.
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
    def problem(self) -> str | None:
        """Why this address cannot be printed, or None."""
        if not self.postal_code:
            return "no postal code (郵便番号)"
        if not _POSTAL.match(self.postal_code):
            return f"postal code {self.postal_code!r} is not 7 digits (郵便番号)"
        if not self.prefecture:
            return "no prefecture (都道府県)"
        if not self.address1:
            return "no street address (住所1 / address1)"
        if not self.name:
            return "no name (氏名)"
        return None

    @property
    def line1(self) -> str:
        """都道府県 + address1, unless the import already put the prefecture in it."""
        if self.address1.startswith(self.prefecture):
            return self.address1
        return self.prefecture + self.address1


def _clean_postal(value: Any) -> str:
    text = str(value or "").translate(str.maketrans("０１２３４５６７８９－", "0123456789-"))
    return text.replace("-", "").replace("〒", "").strip()


def load_addresses(con: BaseBackend, customer_ids: Sequence[str]) -> dict[str, PostalAddress]:
    if not customer_ids:
        return {}
    customers = con.table("customers")
    columns = set(customers.columns)
    wanted = ["customer_id", "name", "postal_code", "prefecture", "dm_opt_in"]
    # A warehouse made before the address columns existed has none until `tokui init`
    # adds them; its customers then all lack a street line.
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
    skipped: list[dict[str, Any]] = []
    for row in rows:
        address = addresses.get(row.customer_id or "")
        why = gate.reason(CHANNEL, "customer", row.recipient, row.customer_id, row.is_marketing)
        if why is None and address is None:
            why = "customer not in the warehouse"
        if why is None and address is not None and row.is_marketing:
            agreed = consent.get(address.customer_id, address.dm_opt_in)
            if not agreed:
                why = "no consent to postal DM"
        if why is None and address is not None and address.problem is not None:
            why = f"unusable address: {address.problem}"
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
            skipped.append(
                {"message_id": row.id, "customer_id": row.customer_id or "", "reason": why or ""}
            )
            continue
        fields = dict(json.loads(row.payload).get("fields") or {})
        for name in fields:
            if name not in field_names and name not in BASE_COLUMNS:
                field_names.append(name)
        lines.append((row, address, fields))
    records = _records(lines, field_names)
    if encoding == "cp932":
        records = [[value.translate(_CP932_SAME) for value in r] for r in records]
        _check_encoding(records, encoding, [*BASE_COLUMNS, *field_names])
    batch = DMBatch(
        key=key,
        encoding=encoding,
        row_count=len(lines),
        excluded_count=len(skipped),
        skipped=json.dumps(skipped, ensure_ascii=False),
        content=_csv([[*BASE_COLUMNS, *field_names], *records]),
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


def _records(
    lines: list[tuple[OutboxMessage, PostalAddress, dict[str, str]]], field_names: list[str]
) -> list[list[str]]:
    return [
        [
            f"{a.postal_code[:3]}-{a.postal_code[3:]}",
            a.line1,
            a.address2,
            a.name,
            HONORIFIC,
            a.customer_id,
            str(row.id),
            *[fields.get(n, "") for n in field_names],
        ]
        for row, a, fields in lines
    ]


def _csv(records: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows(records)
    return out.getvalue()


# Characters Shift_JIS (cp932) lacks that stand for one it has, as typed on some
# systems: en and em dashes in house numbers, a no-break space, invisible marks.
_CP932_SAME = str.maketrans(
    {"\u2013": "-", "\u2014": "\u2015", "\u00a0": " ", "\u200b": None, "\ufeff": None}
)


def _check_encoding(records: list[list[str]], encoding: str, columns: list[str]) -> None:
    for record in records:
        for column, value in zip(columns, record, strict=False):
            try:
                value.encode(encoding)
            except UnicodeEncodeError as exc:
                customer = record[BASE_COLUMNS.index("顧客ID")]
                raise DMExportError(
                    f"customer {customer}, {column}: {value[exc.start : exc.end]!r} cannot be "
                    f"written in {encoding} (Shift_JIS); export as utf-8-sig or fix the data"
                ) from None


def skipped_of(batch: DMBatch) -> list[dict[str, Any]]:
    """The messages the export left out, with why: message_id, customer_id, reason."""
    return list(json.loads(batch.skipped or "[]"))


def list_batches(db: Session, limit: int = 50) -> list[DMBatch]:
    return list(db.scalars(select(DMBatch).order_by(DMBatch.id.desc()).limit(limit)))

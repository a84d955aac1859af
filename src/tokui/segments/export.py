"""Exporting a segment's members with contact fields, for postal DM or ad audiences."""

from __future__ import annotations

from pathlib import Path

from ibis.backends import BaseBackend

from tokui.segments.compile import SegmentError, members
from tokui.segments.dsl import SegmentDefinition
from tokui.segments.preview import make_context

CONSENT = {"email": "email_opt_in", "line": "line_opt_in", "dm": "dm_opt_in"}
CONTACT_COLUMNS = (
    "customer_id",
    "name",
    "name_kana",
    "email",
    "postal_code",
    "prefecture",
    "phone",
)


def export_members(
    con: BaseBackend,
    definitions: dict[str, SegmentDefinition],
    key: str,
    output: Path,
    channel: str | None = None,
) -> int:
    ctx = make_context(con, resolve=definitions.get)
    m = members(ctx, definitions[key]).select("customer_id")
    customers = con.table("customers")
    if channel is not None:
        if channel not in CONSENT:
            raise SegmentError(f"unknown channel {channel!r}; use {', '.join(CONSENT)}")
        # Consent is checked at export time, like at send time: an opt-out never leaks out.
        customers = customers.filter(customers[CONSENT[channel]])
    rows = m.join(customers, "customer_id").select(*CONTACT_COLUMNS).order_by("customer_id")
    df = rows.execute()
    output.write_bytes(df.to_csv(index=False).encode("utf-8-sig"))
    return len(df)

"""Exporting a segment's members with contact fields, for postal DM or ad audiences.

Consent is checked at export time, like at send time: a customer who opted out of the
channel never leaves in a file. The CSV is safe to open in a spreadsheet: text starting
with = + - @ (or a tab or carriage return) would be run as a formula, so such cells get
a leading apostrophe. Two encodings: UTF-8 with BOM (Excel in Japan opens it without
garbling) and Shift_JIS, which many DM printing vendors still require; we write its
Windows variant (cp932), which also holds the NEC and IBM extended kanji such as 髙 and
﨑 that appear in real names, and refuse a file with a character it cannot hold rather
than change a name or an address silently.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
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
# Columns that identify or reach a person; roles below marketer export without them.
PII_COLUMNS = frozenset({"name", "name_kana", "email", "postal_code", "phone"})
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

ENCODINGS: dict[str, str] = {"utf-8": "utf-8-sig", "shift_jis": "cp932"}


class ExportEncodingError(SegmentError):
    """A value the chosen encoding cannot hold."""


def member_rows(
    con: BaseBackend,
    definitions: dict[str, SegmentDefinition],
    key: str,
    channel: str | None = None,
    columns: tuple[str, ...] = CONTACT_COLUMNS,
) -> pd.DataFrame:
    """The members of segment `key` with the given customer columns, by customer id."""
    unknown = [c for c in columns if c not in CONTACT_COLUMNS]
    if unknown:
        raise SegmentError(f"columns not exportable: {', '.join(unknown)}")
    if key not in definitions:
        raise SegmentError(f"no segment {key!r}")
    ctx = make_context(con, resolve=definitions.get)
    m = members(ctx, definitions[key]).select("customer_id")
    customers = con.table("customers")
    if channel is not None:
        if channel not in CONSENT:
            raise SegmentError(f"unknown channel {channel!r}; use {', '.join(CONSENT)}")
        customers = customers.filter(customers[CONSENT[channel]])
    rows = m.join(customers, "customer_id").select(*columns).order_by("customer_id")
    return rows.execute()


def neutralise(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def to_csv(df: pd.DataFrame, encoding: str = "utf-8") -> bytes:
    """CSV bytes (CRLF lines, header first), formula-like text neutralised."""
    if encoding not in ENCODINGS:
        raise SegmentError(f"unknown encoding {encoding!r}; use {', '.join(ENCODINGS)}")
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([neutralise(str(c)) for c in df.columns])
    for row in df.itertuples(index=False, name=None):
        writer.writerow(["" if pd.isna(v) else neutralise(str(v)) for v in row])
    text = buf.getvalue()
    codec = ENCODINGS[encoding]
    try:
        return text.encode(codec)
    except UnicodeEncodeError as exc:
        raise ExportEncodingError(_encoding_problem(df, codec, exc)) from exc


def _encoding_problem(df: pd.DataFrame, codec: str, exc: UnicodeEncodeError) -> str:
    bad = exc.object[exc.start : exc.end]
    for column in df.columns:
        for position, value in enumerate(df[column]):
            if isinstance(value, str) and bad in value:
                who = df["customer_id"].iloc[position] if "customer_id" in df else position
                return (
                    f"customer {who}, column {column}: {bad!r} cannot be written in Shift_JIS; "
                    "export as UTF-8 instead"
                )
    return f"{bad!r} cannot be written in {codec}; export as UTF-8 instead"  # pragma: no cover


def export_members(
    con: BaseBackend,
    definitions: dict[str, SegmentDefinition],
    key: str,
    output: Path,
    channel: str | None = None,
    encoding: str = "utf-8",
) -> int:
    df = member_rows(con, definitions, key, channel)
    output.write_bytes(to_csv(df, encoding))
    return len(df)

"""Membership snapshots with entry and exit events, taken at each refresh.

Three warehouse tables: `segment_memberships` (the current members of every segment),
`segment_events` (who entered or left which segment at which refresh; the scenario
engine triggers on these) and `segment_sizes` (members per segment per refresh, for the
size-over-time chart). Re-running a refresh for the same date adds no duplicate events.
"""

from __future__ import annotations

from datetime import date

import ibis
from ibis.backends import BaseBackend

from tokui.segments.compile import Context, members
from tokui.segments.dsl import SegmentDefinition

MEMBERSHIPS = "segment_memberships"
EVENTS = "segment_events"
SIZES = "segment_sizes"

MEMBERSHIP_SCHEMA = ibis.schema(
    {"segment_key": "!string", "customer_id": "!string", "as_of": "!date"}
)
EVENT_SCHEMA = ibis.schema(
    {"segment_key": "!string", "customer_id": "!string", "as_of": "!date", "event": "!string"}
)
SIZE_SCHEMA = ibis.schema({"segment_key": "!string", "as_of": "!date", "members": "!int64"})


def _ensure(con: BaseBackend) -> None:
    existing = set(con.list_tables())
    for name, schema in (
        (MEMBERSHIPS, MEMBERSHIP_SCHEMA),
        (EVENTS, EVENT_SCHEMA),
        (SIZES, SIZE_SCHEMA),
    ):
        if name not in existing:
            con.create_table(name, schema=schema)


def snapshot(ctx: Context, definitions: list[SegmentDefinition]) -> dict[str, int]:
    """Recompute every segment's members; record entries, exits and sizes."""
    con = ctx.con
    _ensure(con)
    as_of = ctx.as_of
    if not definitions:
        return {}
    parts = []
    for d in definitions:
        m = members(ctx, d).select("customer_id")
        parts.append(
            m.mutate(segment_key=ibis.literal(d.key), as_of=ibis.literal(as_of)).select(
                "segment_key", "customer_id", "as_of"
            )
        )
    current = ibis.union(*parts, distinct=False) if len(parts) > 1 else parts[0]
    new = con.create_table(f"_tokui_seg_new_{as_of:%Y%m%d}", current, temp=True, overwrite=True)
    old = con.table(MEMBERSHIPS)
    keys = ["segment_key", "customer_id"]
    entered = new.anti_join(old, keys).mutate(event=ibis.literal("entered"))
    exited = old.anti_join(new, keys).mutate(
        as_of=ibis.literal(as_of), event=ibis.literal("exited")
    )
    changes = ibis.union(
        entered.select(*EVENT_SCHEMA.names), exited.select(*EVENT_SCHEMA.names), distinct=False
    )
    events = con.table(EVENTS)
    changes = changes.anti_join(events, [*keys, "as_of", "event"])
    con.insert(EVENTS, changes)
    sizes = new.group_by("segment_key").aggregate(members=new.customer_id.count())
    counts = {r.segment_key: int(r.members) for r in sizes.execute().itertuples()}
    size_rows = ibis.memtable(
        {
            "segment_key": [d.key for d in definitions],
            "as_of": [as_of] * len(definitions),
            "members": [counts.get(d.key, 0) for d in definitions],
        },
        schema=SIZE_SCHEMA,
    )
    existing_sizes = con.table(SIZES)
    con.insert(SIZES, size_rows.anti_join(existing_sizes, ["segment_key", "as_of"]))
    con.create_table(MEMBERSHIPS, new.select(*MEMBERSHIP_SCHEMA.names), overwrite=True)
    con.drop_table(new.get_name(), force=True)
    return {d.key: counts.get(d.key, 0) for d in definitions}


def events_between(con: BaseBackend, since: date) -> ibis.Table:
    e = con.table(EVENTS)
    return e.filter(e.as_of >= since)

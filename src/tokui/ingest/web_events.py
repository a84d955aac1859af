"""Writing batches of web events: deduplication by event id and identity stitching.

A batch is written whole or not at all. Its new events, the browser-to-customer links it
creates and the back-fill of earlier anonymous events go in one transaction.

Identity stitching. A `login` event (anonymous_id and customer_id together) links a
browser to a customer; the first login of each pair is kept in `web_identities`
(anonymous_id, customer_id, linked_at), a small table, so attributing an event is a
lookup there instead of a scan of every web event. When a batch is written:

- An event sent with a customer_id keeps it.
- An event sent without one, from a browser with links (stored, or made by a login in
  the same batch), gets the customer of the latest link made at or before the event,
  or, for an event older than every link, of the browser's first link.

Events written before their browser's first login stay anonymous until the refresh
step in tokui.ingest.stitch gives them that first customer. Attribution never moves an
event that already has a customer.
"""

from __future__ import annotations

import bisect
import contextlib
import uuid
import weakref
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyarrow as pa
import sqlglot.expressions as sge
from ibis.backends import BaseBackend

from tokui.ingest.api_models import WebEventIn
from tokui.warehouse.load import _drop, _stage, conform
from tokui.warehouse.schema import WEB_EVENTS, Column, TableSpec, create_table_sql, dialect_of
from tokui.warehouse.sql import table_ref, transaction

WEB_IDENTITIES = TableSpec(
    "web_identities",
    "Web訪問者と顧客の紐付け",
    "Browser-to-customer links",
    (
        Column("anonymous_id", "string", False, "匿名ID (Cookie)", "Anonymous (cookie) id"),
        Column("customer_id", "string", False, "顧客ID", "Customer id"),
        Column("linked_at", "timestamp", False, "最初のログイン日時 (UTC)", "First login (UTC)"),
    ),
    ("anonymous_id", "customer_id"),
    {"customer_id": "customers.customer_id"},
)

# A throwaway spec for staging the batch's anonymous ids.
_ANONYMOUS = TableSpec(
    "web_anonymous_ids",
    "",
    "",
    (Column("anonymous_id", "string", False, "", ""),),
    ("anonymous_id",),
)

_ready: weakref.WeakSet[BaseBackend] = weakref.WeakSet()


@dataclass
class EventWrite:
    received: int
    accepted: int
    duplicates: int
    linked: int  # new browser-to-customer links
    stitched: int  # events of the batch given a customer from a link
    # (event_type, customer_id, occurred_at) of the batch's events with a customer, for
    # the scenario timers (tokui.scenarios.timers).
    attributed: list[tuple[str, str, datetime]] = field(default_factory=list)


def ensure_identity_table(con: BaseBackend) -> None:
    """Create web_identities on first use; it is not part of the file-import schema."""
    if con in _ready:
        return
    if WEB_IDENTITIES.name not in con.list_tables():
        with transaction(con) as execute:
            execute(create_table_sql(WEB_IDENTITIES, dialect_of(con)))
    _ready.add(con)


@contextlib.contextmanager
def _staged(con: BaseBackend, spec: TableSpec, table: pa.Table) -> Iterator[str]:
    """A batch as a table the warehouse can join with, for as long as the block runs.

    DuckDB reads the Arrow data in place (a registered view, no copy); PostgreSQL gets a
    temporary table filled by COPY. Saves DuckDB two statements per batch.
    """
    if con.name == "duckdb":
        name = f"_tokui_view_{spec.name}_{uuid.uuid4().hex[:12]}"
        con.con.register(name, table)
        try:
            yield name
        finally:
            con.con.unregister(name)
        return
    name = _stage(con, spec, table)
    try:
        yield name
    finally:
        _drop(con, name)


def _unique(events: Sequence[WebEventIn]) -> list[WebEventIn]:
    seen: set[str] = set()
    kept = []
    for event in events:
        if event.event_id not in seen:
            seen.add(event.event_id)
            kept.append(event)
    return kept


Links = dict[str, list[tuple[datetime, str]]]  # anonymous_id -> sorted (linked_at, customer)


def _known_links(con: BaseBackend, anonymous_ids: list[str]) -> Links:
    links: Links = defaultdict(list)
    if not anonymous_ids:
        return links
    # A staged table to join with: an isin() of a thousand literals costs Ibis more to
    # compile than DuckDB takes to run the query.
    anonymous = pa.table({"anonymous_id": pa.array(anonymous_ids, pa.string())})
    with _staged(con, _ANONYMOUS, anonymous) as stage:
        ids = con.table(WEB_IDENTITIES.name)
        found = ids.semi_join(con.table(stage), "anonymous_id").to_pyarrow()
    for row in found.to_pylist():
        links[row["anonymous_id"]].append((row["linked_at"], row["customer_id"]))
    return links


def _customer_at(entries: list[tuple[datetime, str]], when: datetime) -> str:
    i = bisect.bisect_right(entries, (when, "\uffff"))
    return entries[i - 1][1] if i else entries[0][1]


def write_events(con: BaseBackend, events: Sequence[WebEventIn], source: str) -> EventWrite:
    """Insert the events not stored yet and stitch identities, in one transaction."""
    ensure_identity_table(con)
    kept = _unique(events)
    anonymous = sorted({e.anonymous_id for e in kept if e.anonymous_id is not None})
    links = _known_links(con, anonymous)
    pairs = {(a, c) for a, entries in links.items() for _, c in entries}
    new_links: dict[tuple[str, str], datetime] = {}
    for e in kept:
        if e.event_type == "login" and e.anonymous_id and e.customer_id:
            pair = (e.anonymous_id, e.customer_id)
            if pair not in pairs and (pair not in new_links or e.occurred_at < new_links[pair]):
                new_links[pair] = e.occurred_at
    for (anon, linked), at in new_links.items():
        links[anon].append((at, linked))
    for entries in links.values():
        entries.sort()

    customers: list[str | None] = []
    stitched = 0
    for e in kept:
        customer: str | None = e.customer_id
        if customer is None and e.anonymous_id in links:
            customer = _customer_at(links[e.anonymous_id], e.occurred_at)
            stitched += 1
        customers.append(customer)
    arrow = _events_arrow(kept, customers, source)
    identities = pa.table(
        {
            "anonymous_id": pa.array([a for a, _ in new_links], pa.string()),
            "customer_id": pa.array([c for _, c in new_links], pa.string()),
            "linked_at": pa.array(list(new_links.values()), pa.timestamp("us")),
        }
    )
    with (
        _staged(con, WEB_EVENTS, arrow) as events_stage,
        _staged(con, WEB_IDENTITIES, identities) as links_stage,
        transaction(con) as execute,
    ):
        run = _counting(con, execute)
        accepted = run(_insert_sql(con, WEB_EVENTS, events_stage, ("event_id",)))
        if new_links:
            run(_insert_sql(con, WEB_IDENTITIES, links_stage, WEB_IDENTITIES.primary_key))
    attributed = [
        (e.event_type, c, e.occurred_at) for e, c in zip(kept, customers, strict=True) if c
    ]
    return EventWrite(
        len(events), accepted, len(events) - accepted, len(new_links), stitched, attributed
    )


def _events_arrow(kept: list[WebEventIn], customers: list[str | None], source: str) -> pa.Table:
    data: dict[str, list[Any]] = {
        c.name: [getattr(e, c.name) for e in kept]
        for c in WEB_EVENTS.columns
        if c.name not in ("customer_id", "source")
    }
    data["customer_id"] = customers
    data["source"] = [source] * len(kept)
    schema = WEB_EVENTS.schema.to_pyarrow()
    arrow = pa.table({f.name: pa.array(data[f.name], type=f.type) for f in schema})
    return conform(WEB_EVENTS, arrow)


def _counting(con: BaseBackend, execute: Callable[[str], Any]) -> Callable[[str], int]:
    """Run a statement and return how many rows it wrote."""

    def run(statement: str) -> int:
        result = execute(statement)
        if con.name == "duckdb":
            row = result.fetchone()
            return int(row[0]) if row else 0
        return int(result.rowcount)

    return run


def _insert_sql(con: BaseBackend, spec: TableSpec, stage: str, keys: Sequence[str]) -> str:
    """INSERT the staged rows ON CONFLICT DO NOTHING: the first copy of a key wins."""
    names = spec.column_names
    insert = sge.Insert(
        this=sge.Schema(
            this=table_ref(spec.name),
            expressions=[sge.to_identifier(c, quoted=True) for c in names],
        ),
        expression=sge.select(*[sge.column(c, quoted=True) for c in names]).from_(table_ref(stage)),
        conflict=sge.OnConflict(
            conflict_keys=[sge.column(k, quoted=True) for k in keys],
            action=sge.var("DO NOTHING"),
        ),
    )
    return str(insert.sql(dialect_of(con)))

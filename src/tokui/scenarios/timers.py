"""Event timers: a cart add (or product view) that arrives through the events API sets
the abandonment timer of every enabled scenario waiting for one, at once, rather than
at the first tick after the delay has run out.

A timer is an enrollment in status `pending`, due when the delay ends, with the
(scenario, customer, occurrence) the tick would give the same cart
(tokui.scenarios.triggers.abandoned_occurrence): whichever of the two paths writes
second finds the row taken, so a cart never enrolls a customer twice. When the timer
comes due the engine asks `still_abandoned` (no order within the delay; for a view, no
cart add either) and applies the entry segment and re-entry rules, exactly what the tick
would have decided; only then does the customer enter, else the timer is deleted.

The tick's own trigger evaluation stays the safety net: events that come by file import,
or whose hook failed, enroll at the first tick after their delay, as they always did.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from ibis.backends import BaseBackend
from sqlalchemy import Table, and_, select
from sqlalchemy.orm import Session, sessionmaker

from tokui.analytics.base import purchases
from tokui.clock import utc_naive
from tokui.scenarios import store
from tokui.scenarios.definition import ScenarioDefinition
from tokui.scenarios.triggers import abandoned_occurrence
from tokui.scenarios.triggers_def import BrowseAbandoned, CartAbandoned, Trigger
from tokui.state.bulk import insert_rows
from tokui.state.db import session_scope
from tokui.state.scenarios import Enrollment, Scenario, ScenarioVersion
from tokui.warehouse.subset import only

log = logging.getLogger("tokui.scenarios")

ENROLLMENTS: Table = Enrollment.__table__  # type: ignore[assignment]
KINDS = ("cart_add", "product_view")
# Parsed definitions by their stored JSON (ids repeat across workspaces; the text does
# not lie): the hook runs on every batch of events.
_definitions: dict[str, ScenarioDefinition] = {}


@dataclass(frozen=True)
class SeenEvent:
    """A web event as written to the warehouse, with its customer (stitched or sent)."""

    event_type: str
    customer_id: str
    occurred_at: datetime  # naive UTC


def timer_kind(trigger: Trigger) -> tuple[str, int] | None:
    """The event type a trigger sets a timer on, and the delay in hours."""
    if isinstance(trigger, CartAbandoned):
        return "cart_add", trigger.hours
    if isinstance(trigger, BrowseAbandoned):
        return "product_view", trigger.hours
    return None


def _definition(version: ScenarioVersion) -> ScenarioDefinition:
    found = _definitions.get(version.definition)
    if found is None:
        if len(_definitions) > 1000:
            _definitions.clear()
        found = _definitions[version.definition] = store.load_version(version)
    return found


def set_timers(db: Session, events: Sequence[SeenEvent], now: datetime) -> int:
    """Pending enrollments for the events' abandonment timers; how many were new."""
    wanted = [e for e in events if e.event_type in KINDS and e.customer_id]
    if not wanted:
        return 0
    current = and_(
        ScenarioVersion.scenario_id == Scenario.id,
        ScenarioVersion.version == Scenario.current_version,
    )
    scenarios = db.execute(
        select(Scenario.id, Scenario.trigger_checked_at, ScenarioVersion)
        .join(ScenarioVersion, current)
        .where(Scenario.status == "enabled")
    ).all()
    naive = utc_naive(now)
    rows: list[dict[str, Any]] = []
    for scenario_id, checked, version in scenarios:
        definition = _definition(version)
        kind = timer_kind(definition.trigger)
        if kind is None:
            continue
        event_type, hours = kind
        for e in wanted:
            due = e.occurred_at + timedelta(hours=hours)
            # A delay that ended before the trigger's last check was the tick's to decide
            # (an old event posted late): no timer, as the tick never looks back.
            if e.event_type != event_type or (checked is not None and due <= checked):
                continue
            rows.append(
                {
                    "scenario_id": scenario_id,
                    "version_id": version.id,
                    "customer_id": e.customer_id,
                    "occurrence": abandoned_occurrence(event_type, e.occurred_at)[:80],
                    "status": "pending",
                    "step_id": definition.steps[0].id,
                    "step_started_at": due,
                    "due_at": due,
                    "arm": None,
                    "entered_at": naive,
                    "updated_at": naive,
                    "finished_at": None,
                    "note": "",
                }
            )
    if not rows:
        return 0
    unique = ["scenario_id", "customer_id", "occurrence"]
    return len(insert_rows(db, ENROLLMENTS, rows, conflict=unique, returning=[ENROLLMENTS.c.id]))


def notify(sessions: sessionmaker[Session], events: Sequence[SeenEvent], now: datetime) -> int:
    """set_timers in its own transaction, for the ingest path. A failure is logged and
    swallowed: the events are stored, and the tick enrolls them after their delay."""
    try:
        with session_scope(sessions) as db:
            return set_timers(db, events, now)
    except Exception:
        log.exception("setting scenario timers for %d events failed", len(events))
        return 0


def _parse(occurrence: str, tag: str) -> datetime | None:
    head, _, rest = occurrence.partition(":")
    if head != tag or not rest:
        return None
    try:
        value: datetime = pd.Timestamp(rest).to_pydatetime()
    except ValueError:
        return None
    return value


def still_abandoned(
    con: BaseBackend, trigger: Trigger, timers: Sequence[tuple[str, str]]
) -> set[tuple[str, str]]:
    """Which (customer, occurrence) timers the trigger fires for: the event is in the
    warehouse and no order (for a view, no cart add either) followed within the delay,
    the rule tokui.scenarios.triggers applies to a window. Set-based: one query per table
    for the whole batch of timers."""
    kind = timer_kind(trigger)
    if kind is None or not timers or "web_events" not in con.list_tables():
        return set()
    event_type, hours = kind
    tag = "cart" if event_type == "cart_add" else "view"
    delay = timedelta(hours=hours)
    parsed = {(cid, occ): _parse(occ, tag) for cid, occ in timers}
    times = {k: v for k, v in parsed.items() if v is not None}
    if not times:
        return set()
    ids = sorted({cid for cid, _ in times})
    lo, hi = min(times.values()), max(times.values()) + delay
    w = only(con.table("web_events"), "customer_id", ids)
    w = w.filter((w.occurred_at >= lo) & (w.occurred_at <= hi))
    rows = (
        w.filter(w.event_type.isin(["cart_add", event_type]))
        .select("customer_id", "event_type", "occurred_at")
        .to_pyarrow()
        .to_pylist()
    )
    seen = {(r["customer_id"], r["occurred_at"]) for r in rows if r["event_type"] == event_type}
    carts: dict[str, list[datetime]] = {}
    for r in rows:
        if r["event_type"] == "cart_add":
            carts.setdefault(r["customer_id"], []).append(r["occurred_at"])
    o = only(purchases(con), "customer_id", ids)
    o = o.filter((o.ordered_at > lo) & (o.ordered_at <= hi))
    orders: dict[str, list[datetime]] = {}
    for r in o.select("customer_id", "ordered_at").to_pyarrow().to_pylist():
        orders.setdefault(str(r["customer_id"]), []).append(r["ordered_at"])
    out: set[tuple[str, str]] = set()
    for (cid, occ), at in times.items():
        if (cid, at) not in seen:
            continue
        if any(at < t <= at + delay for t in orders.get(cid, [])):
            continue
        if event_type == "product_view" and any(at < t <= at + delay for t in carts.get(cid, [])):
            continue
        out.add((cid, occ))
    return out

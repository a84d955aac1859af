"""The scenario engine: a tick enrolls customers whose trigger fired and advances due
enrollments through their steps.

Guarantees (docs/scenarios.md):
- Enrollment is unique per (scenario, customer, occurrence); the trigger window and the
  enrollments commit in one transaction.
- A batch of due enrollments is claimed with `FOR UPDATE SKIP LOCKED` on PostgreSQL (any
  number of workers), and processed in one transaction: the step state, the journal and
  every outbox row or grant commit together or not at all. A worker killed mid-batch
  leaves the batch as it was; the next tick redoes it.
- Each message's idempotency key is (scenario, version, step, occurrence, customer), and
  a step runs at most once per enrollment (the step graph has no cycle), so a replayed
  tick finds the key taken and queues nothing twice.
- Quiet hours and frequency caps hold a send (the enrollment comes due when allowed);
  consent and suppression are checked when the send step runs, and again by the
  delivery worker.

How a batch is processed (the work is set-based so that a tick over a million customers
stays within a minute): everything the steps read is loaded once per batch (customers,
orders for goals, events for waits, consent, the caps' recent messages, condition
results); each enrollment is walked through its steps in memory, its effects (journal
lines, grants, messages) collected; then the template data of the customers who got a
message is loaded, the batch's messages are inserted in bulk (`ON CONFLICT
(idempotency_key) DO NOTHING`) with their template context, for the delivery worker to
render (tokui.messaging.deferred; postal DM is rendered here), the grants, journal and
enrollment states written in bulk, and all of it committed at once. One enrollment
whose step fails (a condition naming a feature that no longer exists, a postal DM that
cannot render) gets none of its effects: it stops with the reason, and the rest of the
batch goes on. A message the worker cannot render fails alone, with a `render_failed`
line in its enrollment's journal. A batch's writes are committed by a thread of their
own while the next batch runs (Engine.advance).

Pending enrollments are timers set by the event hook (tokui.scenarios.timers): when one
comes due the engine checks that its trigger still holds (the cart was not ordered in
time) and the entry rules, then the customer enters; otherwise the timer is deleted.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from operator import attrgetter
from typing import Any

from sqlalchemy import Table, delete, select
from sqlalchemy.orm import Session

from tokui.analytics.base import purchases
from tokui.clock import Clock, utc_naive
from tokui.features.hashing import HASH_SPACE, stable_hash
from tokui.measure.abtest import promote_winners
from tokui.measure.sendtime import (
    BestHours,
    best_hours,
    channel_preference,
    hour_counts,
    next_at_hour,
    shop_curve,
)
from tokui.messaging.consent import current_consent
from tokui.messaging.context import CustomerData
from tokui.messaging.deferred import insert_to_render
from tokui.messaging.outbox import NewMessage, complete_rendered, discard, insert_unrendered
from tokui.messaging.recipients import LOOKED_UP, recipients_of, resolve
from tokui.messaging.service import Messaging, MessagingError, Recipient
from tokui.messaging.store import get_template, get_version, source_of
from tokui.messaging.templates import TemplateRenderError, TemplateSource
from tokui.privacy.suppression import SuppressionChecker, load_checker
from tokui.scenarios import store
from tokui.scenarios.conditions import definitions, matching, segment_members
from tokui.scenarios.control import in_global_control
from tokui.scenarios.definition import (
    Branch,
    CallCenterTask,
    End,
    GrantPoints,
    Holdout,
    IssueCoupon,
    ScenarioDefinition,
    Send,
    Split,
    Step,
    Tag,
    Wait,
    WaitUntil,
    Webhook,
)
from tokui.scenarios.policy import SendPolicy, free_at, quiet_until, recent_marketing, zone
from tokui.scenarios.timers import still_abandoned
from tokui.scenarios.timing import wait_target
from tokui.scenarios.triggers import Fired, fire
from tokui.segments.compile import SegmentError
from tokui.segments.dsl import SegmentDefinition
from tokui.state.bulk import among, insert_columns, insert_rows, update_columns
from tokui.state.db import session_scope
from tokui.state.messages import MessageTemplate, MessageTemplateVersion
from tokui.state.scenarios import Enrollment, Grant, JourneyEntry, Scenario, ScenarioVersion
from tokui.warehouse.subset import only

log = logging.getLogger("tokui.scenarios")

OPT_IN = {"email": "email_opt_in", "line": "line_opt_in", "postal_dm": "dm_opt_in"}
OPT_IN |= {"push": "push_opt_in"}
MAX_STEPS_PER_RUN = 100
RECHECK = timedelta(hours=1)  # how often a wait_until looks for its event
# Enrollments per claimed batch (one transaction). Each batch reads the warehouse a few
# times over (customers, orders, template data), whatever its size: at 10,000 those
# reads were a sixth of a tick over a million customers.
BATCH_SIZE = 50_000
INSERT_CHUNK = 5000  # rows per executemany when enrolling
IN_CHUNK = 5000  # ids per IN (...) list in the state DB
WHOLE_HISTORY = 50_000  # more fired customers than this: read the scenario's whole history

# Core tables, for executemany statements that skip the ORM's per-row work.
ENROLLMENTS: Table = Enrollment.__table__  # type: ignore[assignment]
JOURNAL: Table = JourneyEntry.__table__  # type: ignore[assignment]
GRANTS: Table = Grant.__table__  # type: ignore[assignment]
FIELDS = (
    "id",
    "scenario_id",
    "version_id",
    "customer_id",
    "occurrence",
    "status",
    "step_id",
    "step_started_at",
    "due_at",
    "arm",
    "entered_at",
    "updated_at",
    "finished_at",
    "note",
)
STATE = FIELDS[2:3] + FIELDS[5:]  # what a run may change (the version: a confirmed timer)
STATE_OF = attrgetter(*STATE)
FINAL = ("converted", "completed", "holdout", "stopped")
UNIQUE = ("scenario_id", "customer_id", "occurrence")


@dataclass
class TickStats:
    enrolled: int = 0
    advanced: int = 0
    queued: int = 0
    held: int = 0
    skipped: int = 0
    finished: dict[str, int] = field(default_factory=dict)
    dropped: int = 0  # event timers whose trigger no longer held when they came due
    # A/B winners promoted by this tick: (scenario, step, arm, new version).
    promoted: list[tuple[str, str, str, int]] = field(default_factory=list)

    def finish(self, status: str) -> None:
        self.finished[status] = self.finished.get(status, 0) + 1

    def add(self, other: TickStats) -> None:
        for name in ("enrolled", "advanced", "queued", "held", "skipped", "dropped"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for status, n in other.finished.items():
            self.finished[status] = self.finished.get(status, 0) + n
        self.promoted += other.promoted


@dataclass(slots=True)
class Row:
    """One enrollment as a batch reads and changes it: plain values, written back in one
    executemany UPDATE (the ORM's per-object bookkeeping costs more than the steps)."""

    id: int
    scenario_id: int
    version_id: int
    customer_id: str
    occurrence: str
    status: str
    step_id: str | None
    step_started_at: datetime | None
    due_at: datetime
    arm: str | None
    entered_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    note: str


@dataclass(frozen=True)
class _Template:
    template: MessageTemplate
    version: MessageTemplateVersion
    source: TemplateSource
    # The template's, read once: an ORM attribute costs more than a step's decision.
    channel: str
    is_marketing: bool


@dataclass(frozen=True)
class _Planned:
    """A message an enrollment's step queues, inserted and rendered with the batch."""

    enrollment_id: int
    item: NewMessage
    template: _Template
    recipient: Recipient


@dataclass
class _Prepared:
    """A batch's messages ready to be written (see _Run._prepare_messages)."""

    planned: list[_Planned]
    later: list[tuple[_Planned, str]] = field(default_factory=list)  # (message, context)
    now: list[tuple[_Planned, dict[str, Any]]] = field(default_factory=list)
    failed: dict[int, Exception] = field(default_factory=dict)  # by enrollment


@dataclass
class _Effects:
    """What one enrollment's run writes, kept apart until the batch is written so that a
    failing step drops all of it. Journal lines refer to messages and grants by key:
    a message whose key was queued before is journaled as already_queued, a grant whose
    key exists is not journaled (as before: each happens at most once)."""

    journal: list[tuple[str, str, str, tuple[str, Any] | None]] = field(default_factory=list)
    grants: list[dict[str, Any]] = field(default_factory=list)
    messages: list[_Planned] = field(default_factory=list)
    held: int = 0
    skipped: int = 0
    finished: str | None = None


def bucket(salt: str, scenario_key: str, customer_id: str) -> float:
    """A stable number in [0, 1) per (salt, scenario, customer)."""
    return stable_hash(f"{salt}:{scenario_key}:{customer_id}") / HASH_SPACE


def message_key(key: str, version: int, step_id: str, occurrence: str, customer_id: str) -> str:
    """The outbox key prefix; the messaging layer appends `:{customer}`."""
    prefix = f"sc:{key}:v{version}:{step_id}:{occurrence}"
    if len(prefix) + 1 + len(customer_id) > 200:
        digest = hashlib.sha256(occurrence.encode()).hexdigest()[:24]
        prefix = f"sc:{key}:v{version}:{step_id}:{digest}"
    return prefix


class Engine:
    def __init__(
        self,
        messaging: Messaging,
        clock: Clock,
        policy: SendPolicy | None = None,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self.messaging = messaging
        self.ws = messaging.ws
        self.clock = clock
        self.policy = policy or SendPolicy()
        self.batch_size = batch_size
        self._definitions: dict[int, ScenarioDefinition] = {}
        self._steps: dict[tuple[int, str], tuple[Step, str | None]] = {}
        # The shop's hour-of-day curve for best-hour sends, recomputed daily.
        self._hour_prior: tuple[datetime, Any] | None = None

    @property
    def con(self) -> Any:
        return self.ws.warehouse

    def _now(self) -> datetime:
        return self.clock.now().astimezone(UTC)

    def tick(self) -> TickStats:
        stats = TickStats()
        self.promote(stats)
        self.enroll(stats)
        self.advance(stats)
        return stats

    def promote(self, stats: TickStats) -> None:
        """Promote the significant winners of splits that ask for it (Split.promote), first,
        so that this tick already sends everyone to them. Measurement failing must not stop
        the sends: it is logged and tried again next tick."""
        at = utc_naive(self._now())
        try:
            with session_scope(self.ws.sessions) as db:
                stats.promoted += promote_winners(self.con, db, at, at)
        except Exception:
            log.exception("promoting A/B winners failed; the tick goes on")

    # enrollment -----------------------------------------------------------------
    def enroll(self, stats: TickStats) -> None:
        with session_scope(self.ws.sessions) as db:
            ids = list(db.scalars(select(Scenario.id).where(Scenario.status == "enabled")))
        for sid in ids:
            with session_scope(self.ws.sessions) as db:
                stats.enrolled += self._enroll_one(db, sid)

    def _enroll_one(self, db: Session, scenario_id: int) -> int:
        q = select(Scenario).where(Scenario.id == scenario_id, Scenario.status == "enabled")
        if db.get_bind().dialect.name == "postgresql":
            q = q.with_for_update(skip_locked=True)  # another worker is enrolling it
        scenario = db.scalar(q)
        if scenario is None:
            return 0
        now = self._now()
        version = store.version_row(db, scenario)
        definition = self._definition(version)
        since = (scenario.trigger_checked_at or utc_naive(now)).replace(tzinfo=UTC)
        fired = fire(self.con, definition.trigger, since, now, self.messaging.tz)
        scenario.trigger_checked_at = utc_naive(now)
        if definition.entry.segment and fired:
            allowed = self._members(definition.entry.segment, [f.customer_id for f in fired])
            fired = [f for f in fired if f.customer_id in allowed]
        if definition.entry.condition is not None and fired:
            allowed = self._meets_entry(definition, [f.customer_id for f in fired])
            fired = [f for f in fired if f.customer_id in allowed]
        fired = self._apply_reentry(db, scenario.id, definition, fired, now)
        if not fired:
            return 0
        at = utc_naive(now)
        first = definition.steps[0].id
        entered = 0
        # Chunks keep memory flat; they all commit together with the trigger window.
        for start in range(0, len(fired), INSERT_CHUNK):
            rows = [
                {
                    "scenario_id": scenario.id,
                    "version_id": version.id,
                    "customer_id": f.customer_id,
                    "occurrence": f.occurrence[:80],
                    "status": "active",
                    "step_id": first,
                    "step_started_at": at,
                    "due_at": at,
                    "arm": None,
                    "entered_at": at,
                    "updated_at": at,
                    "finished_at": None,
                    "note": "",
                }
                for f in fired[start : start + INSERT_CHUNK]
            ]
            entered += len(
                insert_rows(db, ENROLLMENTS, rows, conflict=UNIQUE, returning=[ENROLLMENTS.c.id])
            )
        return entered

    def _history(
        self, db: Session, scenario_id: int, ids: list[str]
    ) -> dict[str, list[tuple[datetime, datetime | None, str]]]:
        """Each customer's past enrollments in the scenario (timers not yet confirmed are
        not entries)."""
        cols = (Enrollment.customer_id, Enrollment.entered_at, Enrollment.finished_at)
        base = select(*cols, Enrollment.status).where(
            Enrollment.scenario_id == scenario_id, Enrollment.status != "pending"
        )
        wanted = set(ids)
        if len(ids) > WHOLE_HISTORY:
            queries = [base]  # one scan beats hundreds of IN lists
        else:
            queries = [base.where(c) for c in among(db, Enrollment.customer_id, ids, IN_CHUNK)]
        past: dict[str, list[tuple[datetime, datetime | None, str]]] = {}
        for q in queries:
            for cid, entered, finished, status in db.execute(q):
                if cid in wanted:
                    past.setdefault(cid, []).append((entered, finished, status))
        return past

    def _apply_reentry(
        self,
        db: Session,
        scenario_id: int,
        definition: ScenarioDefinition,
        fired: list[Fired],
        now: datetime,
    ) -> list[Fired]:
        if not fired:
            return fired
        rules = definition.entry
        past = self._history(db, scenario_id, sorted({f.customer_id for f in fired}))
        out = []
        taken: dict[str, int] = {}
        naive = utc_naive(now)
        for f in fired:
            history = past.get(f.customer_id, [])
            count = len(history) + taken.get(f.customer_id, 0)
            if not count:
                taken[f.customer_id] = 1
                out.append(f)
                continue
            if rules.max_entries is not None and count >= rules.max_entries:
                continue
            if any(status == "active" for _, _, status in history):
                continue  # one journey at a time per scenario
            if rules.reentry == "never":
                continue
            if history and rules.reentry == "after_days":
                last = max(entered for entered, _, _ in history)
                if naive - last < timedelta(days=rules.reentry_days):
                    continue
            if taken.get(f.customer_id) and rules.reentry != "always":
                continue
            taken[f.customer_id] = taken.get(f.customer_id, 0) + 1
            out.append(f)
        return out

    def _members(self, segment: str, ids: Sequence[str]) -> set[str]:
        return segment_members(self.con, definitions(self.ws.sessions), segment, ids)

    def _meets_entry(self, definition: ScenarioDefinition, ids: Sequence[str]) -> set[str]:
        """Who of `ids` the entry condition holds for (one query for all of them)."""
        assert definition.entry.condition is not None
        segs = definitions(self.ws.sessions)
        return matching(self.con, segs, definition.entry.condition, sorted(set(ids)), "entry")

    def _step(
        self, version_id: int, definition: ScenarioDefinition, step_id: str
    ) -> tuple[Step, str | None]:
        """A step and the one after it, looked up once per version (a list scan each time
        costs seconds over a quarter of a million enrollments)."""
        key = (version_id, step_id)
        found = self._steps.get(key)
        if found is None:
            step = definition.step(step_id)
            found = self._steps[key] = (step, step.next or definition.following(step.id))
        return found

    def _definition(self, version: ScenarioVersion) -> ScenarioDefinition:
        found = self._definitions.get(version.id)
        if found is None:
            found = self._definitions[version.id] = store.load_version(version)
        return found

    # advancing ------------------------------------------------------------------
    def advance(self, stats: TickStats, max_batches: int = 100_000) -> None:
        """Claim and run due enrollments, batch by batch. Each batch is one transaction,
        written and committed by a thread of its own while the next batch is claimed and
        run on PostgreSQL: the writes wait on the database's process while the next
        batch's steps run in Python, so the two share the cores. At most one batch is in
        flight. Its rows stay locked until it commits, so the next claim skips them (and
        sees them again, in their new state, once committed); the next batch counts its
        marketing messages in the caps, and, when it has event timers to confirm, waits
        for it first, since the entry rules read the enrollments it is changing. On
        SQLite each batch is written before the next: sqlite3's executemany lets go of
        the GIL around every row it steps and must win it back from the steps' thread,
        so overlapping them tripled the writes and slowed the wave (measured: 51 s
        against 44 s)."""
        with self.ws.sessions() as db:
            pipelined = db.get_bind().dialect.name == "postgresql"
        flight: _Flight | None = None
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="tokui-tick") as writer:
            try:
                for _ in range(max_batches):
                    run = self._next_batch(flight)
                    if flight is not None:
                        landing, flight = flight, None
                        try:
                            landing.land(stats)
                        except BaseException:
                            if run is not None:
                                run.abandon()
                            raise
                    if run is None:
                        return
                    flight = _Flight(run, writer.submit(run.commit))
                    if not pipelined:
                        landing, flight = flight, None
                        landing.land(stats)
                    if len(run.batch) < self.batch_size:
                        return
            finally:
                if flight is not None:
                    flight.land(stats)

    def _next_batch(self, flight: _Flight | None) -> _Run | None:
        """The next batch claimed and run, its writes prepared (None: nothing due)."""
        db = self.ws.sessions()
        try:
            now = self._now()
            batch = self._claim(db, now)
            if not batch:
                db.close()
                return None
            if flight is not None and any(x.status == "pending" for x in batch):
                flight.future.result()
            carried = flight.run.marketing if flight is not None else None
            run = _Run(self, db, now, TickStats(), batch, carried)
            run.go()
            return run
        except BaseException:
            db.rollback()
            db.close()
            raise

    def _claim(self, db: Session, now: datetime) -> list[Row]:
        """Due enrollments of enabled scenarios, timers first, in (due_at, id) order. One
        status per query and no join, so that the index (status, due_at, id) yields them
        in order and the LIMIT stops the scan: no sort of every due row. On PostgreSQL
        every row returned is locked: the LIMIT must be exactly what the batch takes, or
        rows locked and left out would be skipped by every later claim of the tick."""
        enabled = list(db.scalars(select(Scenario.id).where(Scenario.status == "enabled")))
        if not enabled:
            return []
        out: list[Row] = []
        for status in ("pending", "active"):
            q = (
                select(*(ENROLLMENTS.c[name] for name in FIELDS))
                .where(
                    ENROLLMENTS.c.status == status,
                    ENROLLMENTS.c.due_at <= utc_naive(now),
                    ENROLLMENTS.c.scenario_id.in_(enabled),
                )
                .order_by(ENROLLMENTS.c.due_at, ENROLLMENTS.c.id)
                .limit(self.batch_size - len(out))
            )
            if db.get_bind().dialect.name == "postgresql":
                q = q.with_for_update(skip_locked=True)
            out += [Row(*r) for r in db.execute(q).all()]
            if len(out) >= self.batch_size:
                break
        return out


@dataclass
class _Flight:
    """A batch whose writes are being committed by the writer thread."""

    run: _Run
    future: Future[None]

    def land(self, stats: TickStats) -> None:
        """Wait for the commit (its error, if any, is raised here); count the batch."""
        self.future.result()
        self.run.stats.advanced += len(self.run.batch)
        stats.add(self.run.stats)


class _Run:
    """One batch in one transaction, with what the steps read loaded once."""

    def __init__(
        self,
        engine: Engine,
        db: Session,
        now: datetime,
        stats: TickStats,
        batch: list[Row],
        carried: Mapping[str, Mapping[str, tuple[str, datetime]]] | None = None,
    ) -> None:
        self.e = engine
        self.db = db
        self.now = now
        self.naive = utc_naive(now)
        self.stats = stats
        self.batch = batch
        # Marketing messages of the batch in flight, not committed yet: the caps count
        # them (customer -> key -> (channel, time)). This batch's own, for the next.
        self.carried = carried
        self.marketing: dict[str, dict[str, tuple[str, datetime]]] = {}
        self.before: dict[int, tuple[Any, ...]] = {}
        self.prepared: _Prepared | None = None
        ids = sorted({x.customer_id for x in batch})
        self.customers = self._customers(ids)
        self.scenarios = {
            s.id: s
            for s in db.scalars(
                select(Scenario).where(Scenario.id.in_({x.scenario_id for x in batch}))
            )
        }
        self.versions = {
            v.id: v
            for v in db.scalars(
                select(ScenarioVersion).where(ScenarioVersion.id.in_({x.version_id for x in batch}))
            )
        }
        self._checker: SuppressionChecker | None = None
        self._anyone_suppressed = False
        self._segments: dict[str, SegmentDefinition] | None = None
        self.ids = ids
        self._waits: dict[tuple[int, datetime], datetime | None] = {}
        self._resolved: dict[str, dict[str, list[Recipient]]] = {}
        self._addresses: dict[str, CustomerData] | None = None
        self._quiet: dict[Any, datetime | None] = {}
        self._matched: dict[tuple[int, str], set[str] | SegmentError] = {}
        self._events: dict[tuple[str, str | None], dict[str, list[Any]]] = {}
        self._consent: dict[str, dict[str, bool]] = {}
        self._recent: dict[str, list[tuple[str, datetime]]] | None = None
        self._templates: dict[str, _Template | None] = {}
        self._best: BestHours | None = None
        self._preferred: dict[tuple[str, str], dict[str, str]] = {}
        self._winners: dict[tuple[int, str], str | None] = {}
        self.fx: dict[int, _Effects] = {}
        self._definitions: dict[int, ScenarioDefinition] = {}
        self.dropped: set[int] = set()
        starts = [x.step_started_at or self.naive for x in batch]
        self.earliest_start = min(starts).replace(tzinfo=UTC)
        self._load_orders(batch)

    def _customers(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        c = self.e.con.table("customers")
        cols = [
            "customer_id",
            "email",
            "phone",
            "line_user_id",
            "time_zone",
            "birth_date",
            "registered_at",
            *OPT_IN.values(),
        ]
        rows = only(c, "customer_id", ids).select(*cols).to_pyarrow().to_pylist()
        return {str(r["customer_id"]): r for r in rows}

    @property
    def checker(self) -> SuppressionChecker:
        if self._checker is None:
            self._checker = load_checker(self.db, self.e.ws.settings.secret_key)
            self._anyone_suppressed = len(self._checker) > 0
        return self._checker

    # the batch ------------------------------------------------------------------
    def go(self) -> None:
        """Every enrollment runs until it waits, finishes or has queued its messages;
        the steps decide on the customer fields read for the batch (addresses, time
        zone, consent flags). The template data of the customers who got a message
        (features, coupons, recommendations) is loaded once, for those only, when the
        batch is written: most enrollments of a tick wait or branch."""
        pending = [x for x in self.batch if x.status == "pending"]
        if pending:
            self._confirm(pending)
        before = self.before
        for e in self.batch:
            if e.id in self.dropped:
                continue
            before[e.id] = STATE_OF(e)
            self._run_one(e, before[e.id])
        planned = [m for x in self.batch if x.id in self.fx for m in self.fx[x.id].messages]
        self.prepared = self._prepare_messages(planned)

    def commit(self) -> None:
        """Write the batch's effects and commit (the writer thread; see Engine.advance).
        Reads nothing from the warehouse: everything it writes was prepared by `go`."""
        try:
            self._write(self.before)
            self.db.commit()
        except BaseException:
            self.db.rollback()
            raise
        finally:
            self.db.close()

    def abandon(self) -> None:
        self.db.rollback()
        self.db.close()

    def _run_one(self, e: Row, before: tuple[Any, ...]) -> None:
        """Advance one enrollment."""
        fx = self.fx[e.id] = _Effects()
        held, skipped = self.stats.held, self.stats.skipped
        try:
            self.advance(e)
        except (TemplateRenderError, MessagingError, SegmentError) as exc:
            # One customer's broken message (or a condition naming a feature that no
            # longer exists) must not hold the whole batch back: that enrollment
            # stops, with the reason, and the rest go on.
            fx.held, fx.skipped = self.stats.held - held, self.stats.skipped - skipped
            self._fail(e, before, exc)
            return
        fx.held, fx.skipped = self.stats.held - held, self.stats.skipped - skipped

    def _undo(self, e: Row, before: tuple[Any, ...]) -> None:
        """Everything the enrollment's run did, taken back: state, effects, counts."""
        fx = self.fx[e.id]
        self.stats.held -= fx.held
        self.stats.skipped -= fx.skipped
        if fx.finished is not None:
            self.stats.finished[fx.finished] -= 1
        for name, value in zip(STATE, before, strict=True):
            setattr(e, name, value)
        self.fx[e.id] = _Effects()

    def _fail(self, e: Row, before: tuple[Any, ...], exc: Exception) -> None:
        """Undo the enrollment's run, then stop it with the reason."""
        self._undo(e, before)
        self.finish(e, "stopped", f"error: {exc}")

    def _confirm(self, pending: list[Row]) -> None:
        """Timers that came due: the customer enters if the trigger still holds and the
        entry rules let them in (as the tick would have decided); else the timer goes."""
        by: dict[int, list[Row]] = {}
        for x in pending:
            by.setdefault(x.scenario_id, []).append(x)
        for sid, rows in by.items():
            scenario = self.scenarios[sid]
            version = store.version_row(self.db, scenario)
            self.versions[version.id] = version
            definition = self.e._definition(version)
            held = still_abandoned(
                self.e.con, definition.trigger, [(x.customer_id, x.occurrence) for x in rows]
            )
            ok = [x for x in rows if (x.customer_id, x.occurrence) in held]
            if definition.entry.segment and ok:
                allowed = self.e._members(definition.entry.segment, [x.customer_id for x in ok])
                ok = [x for x in ok if x.customer_id in allowed]
            if definition.entry.condition is not None and ok:
                allowed = self.e._meets_entry(definition, [x.customer_id for x in ok])
                ok = [x for x in ok if x.customer_id in allowed]
            fired = [Fired(x.customer_id, x.occurrence) for x in ok]
            admitted = set(self.e._apply_reentry(self.db, sid, definition, fired, self.now))
            for x in rows:
                if Fired(x.customer_id, x.occurrence) not in admitted:
                    self.dropped.add(x.id)
                    self.stats.dropped += 1
                    continue
                x.status = "active"
                x.version_id = version.id
                x.step_id = definition.steps[0].id
                x.entered_at = x.step_started_at = x.due_at = x.updated_at = self.naive
                self.stats.enrolled += 1

    def _write(self, before: dict[int, tuple[Any, ...]]) -> None:
        """The batch's effects in a few bulk statements, in the caller's transaction."""
        db, naive = self.db, self.naive
        assert self.prepared is not None
        outbox_ids = self._queue_messages(self.prepared, before)

        grants = [g for x in self.batch if x.id in self.fx for g in self.fx[x.id].grants]
        granted: set[str] = set()
        if grants:
            done = insert_rows(
                db,
                GRANTS,
                grants,
                conflict=["idempotency_key"],
                returning=[GRANTS.c.idempotency_key],
            )
            granted.update(row[0] for row in done)

        # Column by column (tokui.state.bulk.insert_columns): a wave writes a few hundred
        # thousand journal lines and enrollment states.
        enrollment_ids: list[int] = []
        step_ids: list[str] = []
        outcomes: list[str] = []
        details: list[str] = []
        outbox_refs: list[int | None] = []
        for x in self.batch:
            fx = self.fx.get(x.id)
            if fx is None:
                continue
            for step_id, outcome, detail, ref in fx.journal:
                if ref is None or (ref[0] == "grant" and ref[1] in granted):
                    made: list[int | None] = [None]
                elif ref[0] == "grant":
                    continue
                else:  # the messages of one queue call
                    made = [outbox_ids[k] for k in ref[1] if k in outbox_ids]
                    if made:
                        self.stats.queued += len(made)
                    else:
                        outcome, made = "already_queued", [None]
                for row_id in made:
                    enrollment_ids.append(x.id)
                    step_ids.append(step_id)
                    outcomes.append(outcome)
                    details.append(detail)
                    outbox_refs.append(row_id)
        insert_columns(
            db,
            JOURNAL,
            {
                "enrollment_id": enrollment_ids,
                "step_id": step_ids,
                "outcome": outcomes,
                "detail": details,
                "outbox_id": outbox_refs,
            },
            constants={"at": naive},
        )

        live = [x for x in self.batch if x.id not in self.dropped]
        update_columns(
            db,
            ENROLLMENTS,
            "id",
            {name: [getattr(x, name) for x in live] for name in ("id", *STATE)},
        )
        dropped = sorted(self.dropped)
        for start in range(0, len(dropped), IN_CHUNK):
            db.execute(
                delete(ENROLLMENTS).where(ENROLLMENTS.c.id.in_(dropped[start : start + IN_CHUNK]))
            )

    def _prepare_messages(self, planned: list[_Planned]) -> _Prepared:
        """The template data of the customers who got a message, loaded at once (the
        warehouse is read here, in the tick's thread, never by the writer): encoded for
        the delivery worker to render (built in bulk: Messaging.contexts), or as a
        context to render here (see _queue_messages)."""
        out = _Prepared(planned)
        if not planned:
            return out
        m = self.e.messaging
        by_worker = {
            name: m.channel(name).capabilities.delivered_by_worker
            for name in {p.item.channel for p in planned}
        }
        later = [p for p in planned if by_worker[p.item.channel]]
        now = [p for p in planned if not by_worker[p.item.channel]]
        encoded = m.contexts(sorted({str(p.recipient.customer_id) for p in later}))
        data = m.customers(sorted({str(p.recipient.customer_id) for p in now})) if now else {}
        for plan in planned:
            cid = str(plan.recipient.customer_id)
            if by_worker[plan.item.channel]:
                # The context of context_for (the engine's recipients carry no
                # recommendations of their own: the template gets the model's).
                context = encoded.get(cid)
                if context is not None:
                    out.later.append((plan, context))
                    continue
            else:
                found = data.get(cid)
                if found is not None:
                    out.now.append((plan, m.context_for(replace(plan.recipient, data=found))))
                    continue
            out.failed[plan.enrollment_id] = MessagingError(
                f"customer {cid!r} is no longer in the warehouse"
            )
        return out

    def _queue_messages(
        self, prepared: _Prepared, before: dict[int, tuple[Any, ...]]
    ) -> dict[str, int]:
        """The batch's messages into the outbox; the ids of those inserted, by key (a key
        queued before is skipped). Messages the delivery worker sends are queued with
        their template context and rendered by the worker (tokui.messaging.deferred):
        rendering a tick's messages here was most of its time. The others (postal DM,
        exported in batches) are rendered here with their ids, and an enrollment whose
        message cannot render stops, with none of its run written."""
        if not prepared.planned:
            return {}
        m = self.e.messaging
        failed = dict(prepared.failed)
        later, now = prepared.later, prepared.now
        by_key = {p.item.idempotency_key: p for p, _ in now}
        created = insert_unrendered(
            self.db, [p.item for p, _ in now if p.enrollment_id not in failed], self.naive
        )
        contexts = {p.item.idempotency_key: ctx for p, ctx in now}
        rendered: list[tuple[int, NewMessage, dict[str, Any], str | None]] = []
        for row_id, item in created:
            plan = by_key[item.idempotency_key]
            try:
                payload, provider_id = m.render_new(
                    plan.template.template,
                    plan.template.source,
                    contexts[item.idempotency_key],
                    row_id,
                    item,
                )
            except (TemplateRenderError, MessagingError) as exc:
                failed.setdefault(plan.enrollment_id, exc)
                continue
            rendered.append((row_id, item, payload, provider_id))
        gone = [i for i, item in created if by_key[item.idempotency_key].enrollment_id in failed]
        discard(self.db, gone)
        rendered = [r for r in rendered if by_key[r[1].idempotency_key].enrollment_id not in failed]
        complete_rendered(self.db, rendered, self.naive)
        queued = insert_to_render(
            self.db,
            [(p.item, ctx) for p, ctx in later if p.enrollment_id not in failed],
            self.naive,
        )

        rows = {x.id: x for x in self.batch}
        for eid, error in failed.items():
            self._fail(rows[eid], before[eid], error)
        ids = {item.idempotency_key: row_id for row_id, item, _, _ in rendered}
        return ids | {item.idempotency_key: row_id for row_id, item in queued}

    # what steps record ------------------------------------------------------------
    def journal(
        self,
        e: Row,
        outcome: str,
        detail: str = "",
        ref: tuple[str, Any] | None = None,
    ) -> None:
        self.fx[e.id].journal.append((e.step_id or "", outcome, detail[:300], ref))

    def finish(self, e: Row, status: str, note: str = "") -> None:
        e.status = status
        e.finished_at = self.naive
        e.updated_at = self.naive
        e.note = note[:200]
        self.stats.finish(status)
        fx = self.fx.get(e.id)
        if fx is not None:
            fx.finished = status

    def move(self, e: Row, target: str | None) -> None:
        e.step_id = target
        e.step_started_at = self.naive
        e.updated_at = self.naive
        e.due_at = self.naive

    def advance(self, e: Row) -> None:
        definition = self._definitions.get(e.version_id)
        if definition is None:
            definition = self._definitions[e.version_id] = self.e._definition(
                self.versions[e.version_id]
            )
        scenario = self.scenarios[e.scenario_id]
        if e.customer_id not in self.customers:
            self.finish(e, "stopped", "customer no longer in the warehouse")
            return
        if in_global_control(e.customer_id, self.e.ws.settings.global_control_percent):
            # Out of every scenario; the enrollment stays as the record of who would
            # have entered, so measurement can compare them (tokui.measure.uplift).
            self.journal(e, "global_control")
            self.finish(e, "holdout", "global control group")
            return
        if definition.goal is not None and self._goal_reached(e, definition):
            self.journal(e, "goal")
            self.finish(e, "converted")
            return
        for _ in range(MAX_STEPS_PER_RUN):
            if e.step_id is None:
                self.finish(e, "completed")
                return
            step, follow = self.e._step(e.version_id, definition, e.step_id)
            outcome = self.run_step(e, scenario, definition, step, follow)
            if outcome == "stay":
                return
            if e.status != "active":
                return

    def _load_orders(self, batch: list[Row]) -> None:
        """The batch's orders since its earliest entry, read once (goal checks)."""
        with_goal = [
            x
            for x in batch
            if x.version_id in self.versions
            and self.e._definition(self.versions[x.version_id]).goal is not None
        ]
        self.orders: dict[str, list[tuple[datetime, str]]] = {}
        self.items: dict[str, set[tuple[str | None, str | None]]] = {}
        if not with_goal:
            return
        since = min(x.entered_at for x in with_goal)
        ids = sorted({x.customer_id for x in with_goal})
        o = purchases(self.e.con)
        o = only(o, "customer_id", ids)
        o = o.filter(o.ordered_at > since)
        rows = o.select("customer_id", "ordered_at", "order_id").to_pyarrow().to_pylist()
        for r in rows:
            self.orders.setdefault(str(r["customer_id"]), []).append(
                (r["ordered_at"], str(r["order_id"]))
            )
        if rows:
            items = self.e.con.table("order_items")
            order_ids = sorted({str(r["order_id"]) for r in rows})
            found = (
                only(items, "order_id", order_ids)
                .select("order_id", "product_id", "category")
                .to_pyarrow()
                .to_pylist()
            )
            for r in found:
                self.items.setdefault(str(r["order_id"]), set()).add(
                    (r["product_id"], r["category"])
                )

    def _goal_reached(self, e: Row, definition: ScenarioDefinition) -> bool:
        goal = definition.goal
        assert goal is not None
        end = min(self.naive, e.entered_at + timedelta(days=goal.within_days))
        for at, order_id in self.orders.get(e.customer_id, []):
            if not e.entered_at < at <= end:
                continue
            if not (goal.product_id or goal.category):
                return True
            for product, category in self.items.get(order_id, set()):
                if (goal.product_id is None or product == goal.product_id) and (
                    goal.category is None or category == goal.category
                ):
                    return True
        return False

    def _best_hours(self) -> BestHours:
        """The batch's best hours, from their own opens, clicks and orders."""
        if self._best is None:
            prior = self.e._hour_prior
            tz = self.e.messaging.tz
            if prior is None or self.now - prior[0] > timedelta(days=1):
                curve = shop_curve(hour_counts(self.e.con, self.db, self.now, tz))
                prior = self.e._hour_prior = (self.now, curve)
            self._best = best_hours(
                self.e.con, self.db, self.now, tz, self.e.policy, self.ids, prior=prior[1]
            )
        return self._best

    def _preferred_channel(self, pair: tuple[str, str], customer_id: str) -> str | None:
        """The channel of `pair` the customer responded to more (None without history),
        read once per batch (tokui.measure.sendtime.channel_preference)."""
        if pair not in self._preferred:
            table = channel_preference(self.db, self.now, self.ids, channels=pair)
            self._preferred[pair] = dict(
                zip(table["customer_id"].astype(str), table["preferred"], strict=True)
            )
        return self._preferred[pair].get(customer_id)

    def _winner(self, scenario: Scenario, step_id: str) -> str | None:
        """The winner promoted on the scenario's current version of the split, for
        enrollments still on an older version."""
        key = (scenario.id, step_id)
        if key not in self._winners:
            current = self.e._definition(store.version_row(self.db, scenario))
            split = next((s for s in current.steps if s.id == step_id), None)
            self._winners[key] = split.winner if isinstance(split, Split) else None
        return self._winners[key]

    def _recipients(self, channel: str, customer_id: str) -> list[Recipient]:
        """The customer's addresses on the channel: from the customer fields the batch
        read (email), or, for the channels looked up in the state DB (LINE links, push
        devices), resolved once per channel for the whole batch. Their `data` holds
        only those fields: the template data is loaded when the batch is written (see
        `_prepare_messages`)."""
        if channel not in LOOKED_UP:
            # Nothing to look up: this customer's alone (most of a batch never sends).
            row = self.customers[customer_id]
            return recipients_of(
                self.e.messaging, channel, customer_id, CustomerData(customer=row), {}, {}
            )
        if channel not in self._resolved:
            by: dict[str, list[Recipient]] = {}
            rows = self.customers
            if self._addresses is None:
                self._addresses = {cid: CustomerData(customer=row) for cid, row in rows.items()}
            line_ids = (
                {cid: row.get("line_user_id") for cid, row in rows.items()}
                if channel == "line"
                else None
            )
            found = resolve(
                self.e.messaging,
                self.db,
                channel,
                self.ids,
                data=self._addresses,
                line_user_ids=line_ids,
            )
            for r in found.recipients:
                by.setdefault(str(r.customer_id), []).append(r)
            self._resolved[channel] = by
        return self._resolved[channel].get(customer_id, [])

    def _template(self, key: str) -> _Template | None:
        if key not in self._templates:
            template = get_template(self.db, key)
            found = None
            if template is not None:
                version = get_version(self.db, template, None)
                found = _Template(
                    template,
                    version,
                    source_of(template, version),
                    template.channel,
                    template.is_marketing,
                )
            self._templates[key] = found
        return self._templates[key]

    # steps ----------------------------------------------------------------------
    def run_step(
        self,
        e: Row,
        scenario: Scenario,
        definition: ScenarioDefinition,
        step: Step,
        follow: str | None,
    ) -> str:
        """Carry out one step; "stay" when the enrollment waits, else "next"."""
        customer = self.customers[e.customer_id]
        if isinstance(step, Send):  # most steps of a send wave
            return self._send(e, scenario, definition, step, follow, customer)
        started = (e.step_started_at or self.naive).replace(tzinfo=UTC)
        if isinstance(step, Wait):
            if step.until_field is None:
                # Depends on the step and its start only, shared by most of a batch.
                key = (id(step), started)
                if key not in self._waits:
                    self._waits[key] = wait_target(step, started, customer, self.e.messaging.tz)
                target = self._waits[key]
            else:
                target = wait_target(step, started, customer, self.e.messaging.tz)
            if target is None:
                self.journal(e, "skipped", "no date to wait for")
            elif target > self.now:
                e.due_at = utc_naive(target)
                return "stay"
            self.move(e, follow)
        elif isinstance(step, WaitUntil):
            happened = self._happened(e, step, started)
            timeout = started + timedelta(days=step.timeout_days, hours=step.timeout_hours)
            if happened:
                self.journal(e, "event", step.event)
                self.move(e, step.on_event or follow)
            elif self.now >= timeout:
                self.journal(e, "timeout")
                self.move(e, step.on_timeout or follow)
            else:
                e.due_at = utc_naive(min(timeout, self.now + RECHECK))
                return "stay"
        elif isinstance(step, Branch):
            ok = self._matches(e, step)
            self.journal(e, "true" if ok else "false")
            self.move(e, (step.if_true if ok else step.if_false) or follow)
        elif isinstance(step, Split):
            point = bucket("split:" + step.id, definition.key, e.customer_id)
            total = sum(a.weight for a in step.arms)
            acc = 0.0
            arm = step.arms[-1]
            for candidate in step.arms:
                acc += candidate.weight / total
                if point < acc:
                    arm = candidate
                    break
            # A promoted winner takes everyone, also enrollments of older versions.
            winner = step.winner or self._winner(scenario, step.id)
            arm = next((a for a in step.arms if a.name == winner), arm)
            e.arm = arm.name
            self.journal(e, "arm", arm.name)
            self.move(e, arm.next or follow)
        elif isinstance(step, Holdout):
            if bucket("holdout:" + step.id, definition.key, e.customer_id) * 100 < step.percent:
                self.journal(e, "holdout")
                self.finish(e, "holdout")
                return "stay"
            # The other side of the comparison, stamped at the same moment.
            self.journal(e, "treated")
            self.move(e, follow)
        elif isinstance(step, CallCenterTask | Webhook):
            channel = "call_center" if isinstance(step, CallCenterTask) else "webhook"
            self._queue(e, definition, step.id, channel, step.template, customer, marketing=False)
            self.move(e, follow)
        elif isinstance(step, GrantPoints | IssueCoupon | Tag):
            self._grant(e, definition, step)
            self.move(e, follow)
        elif isinstance(step, End):
            self.move(e, None)
        return "next"

    def _happened(self, e: Row, step: WaitUntil, started: datetime) -> bool:
        """Whether the event happened after the step began. The batch's events of that
        kind since its earliest step start are read once and kept."""
        key = (step.event, step.segment)
        if key not in self._events:
            self._events[key] = self._load_events(step)
        times = self._events[key].get(e.customer_id, [])
        if step.event in ("segment_entry", "segment_exit"):
            local_start = started.astimezone(self.e.messaging.tz).date()
            return any(day >= local_start for day in times)
        since = utc_naive(started)
        return any(at > since for at in times)

    def _load_events(self, step: WaitUntil) -> dict[str, list[Any]]:
        con = self.e.con
        since = utc_naive(self.earliest_start)
        if step.event == "order":
            o = only(purchases(con), "customer_id", self.ids)
            hit = o.filter(o.ordered_at > since)
            rows = hit.select("customer_id", at=hit.ordered_at)
        elif step.event in ("cart_add", "product_view"):
            if "web_events" not in con.list_tables():
                return {}
            w = only(con.table("web_events"), "customer_id", self.ids)
            hit = w.filter((w.event_type == step.event) & (w.occurred_at > since))
            rows = hit.select("customer_id", at=hit.occurred_at)
        else:
            if "segment_events" not in con.list_tables():
                return {}
            seg = only(con.table("segment_events"), "customer_id", self.ids)
            kind = "entered" if step.event == "segment_entry" else "exited"
            local_start = self.earliest_start.astimezone(self.e.messaging.tz).date()
            hit = seg.filter(
                (seg.segment_key == step.segment) & (seg.event == kind) & (seg.as_of >= local_start)
            )
            rows = hit.select("customer_id", at=hit.as_of)
        out: dict[str, list[Any]] = {}
        for r in rows.to_pyarrow().to_pylist():
            out.setdefault(str(r["customer_id"]), []).append(r["at"])
        return out

    def _matches(self, e: Row, step: Branch) -> bool:
        """Evaluated once per step for the whole batch: features do not change within it."""
        key = (e.version_id, step.id)
        if key not in self._matched:
            if self._segments is None:
                self._segments = definitions(self.e.ws.sessions)
            where = f"steps ({step.id}).condition"
            try:
                self._matched[key] = matching(
                    self.e.con, self._segments, step.condition, self.ids, where
                )
            except SegmentError as exc:
                self._matched[key] = exc  # every enrollment at this step stops with it
        found = self._matched[key]
        if isinstance(found, SegmentError):
            raise found
        return e.customer_id in found

    def _allowed(self, customer: dict[str, Any], channel: str, marketing: bool) -> str | None:
        """Why the customer may not get this message now (None: they may)."""
        cid = str(customer["customer_id"])
        # An empty list needs no hashing (four keyed hashes per customer otherwise).
        checker = self.checker
        if self._anyone_suppressed and checker.is_suppressed(
            email=customer.get("email"),
            phone=customer.get("phone"),
            line_user_id=customer.get("line_user_id"),
            customer_id=cid,
        ):
            return "suppressed"
        if marketing and channel in OPT_IN:
            if channel not in self._consent:
                self._consent[channel] = current_consent(self.db, self.ids, channel)
            consent = self._consent[channel].get(cid)
            if consent is None:
                consent = bool(customer.get(OPT_IN[channel]))
            if not consent:
                return f"no consent to {channel}"
        return None

    def _cap_until(self, customer_id: str, channel: str) -> datetime | None:
        """The frequency caps over the customer's recent marketing messages: those in the
        outbox when the batch began, and those this batch has planned since."""
        sent = self._recents().get(customer_id)
        if not sent:
            return None  # most customers: nothing recent
        return free_at(sent, channel, self.now, self.e.policy)

    def _recents(self) -> dict[str, list[tuple[str, datetime]]]:
        if self._recent is None:
            self._recent = recent_marketing(
                self.db, self.ids, self.now, self.e.policy, planned=self.carried
            )
        return self._recent

    def _send(
        self,
        e: Row,
        scenario: Scenario,
        definition: ScenarioDefinition,
        step: Send,
        follow: str | None,
        customer: dict[str, Any],
    ) -> str:
        if step.at_best_hour:
            started = (e.step_started_at or self.naive).replace(tzinfo=UTC)
            hour = self._best_hours().hour(e.customer_id)
            target = next_at_hour(started, hour, self.e.messaging.tz)
            if target > self.now:
                e.due_at = utc_naive(target)
                self.journal(e, "held_best_hour", f"{hour:02d}:00")
                self.stats.held += 1
                return "stay"
        name = customer.get("time_zone")
        if name not in self._quiet:  # the same few zones for the whole batch
            self._quiet[name] = quiet_until(self.now, zone(name), self.e.policy)
        quiet = self._quiet[name]
        if quiet is not None:
            e.due_at = utc_naive(quiet)
            self.journal(e, "held_quiet_hours")
            self.stats.held += 1
            return "stay"
        options = [(step.channel, step.template)]
        if step.fallback_channel and step.fallback_template:
            options.append((step.fallback_channel, step.fallback_template))
            if step.channel_preference:
                pair = (step.channel, step.fallback_channel)
                if self._preferred_channel(pair, e.customer_id) == step.fallback_channel:
                    options.reverse()
                    self.journal(e, "preferred_channel", step.fallback_channel)
        reasons = []
        for channel, template_key in options:
            found = self._template(template_key)
            if found is None:
                reasons.append(f"{channel}: no template {template_key!r}")
                continue
            why = self._allowed(customer, channel, found.is_marketing)
            if why is not None:
                reasons.append(f"{channel}: {why}")
                continue
            if found.is_marketing:
                free = self._cap_until(e.customer_id, channel)
                if free is not None:
                    e.due_at = utc_naive(free)
                    self.journal(e, "held_cap", channel)
                    self.stats.held += 1
                    return "stay"
            if self._queue(e, definition, step.id, channel, template_key, customer, True):
                self.move(e, follow)
                return "next"
            reasons.append(f"{channel}: no address")
        self.journal(e, "skipped", "; ".join(reasons))
        self.stats.skipped += 1
        self.move(e, follow)
        return "next"

    def _queue(
        self,
        e: Row,
        definition: ScenarioDefinition,
        step_id: str,
        channel: str,
        template_key: str,
        customer: dict[str, Any],
        marketing: bool,
    ) -> bool:
        """Plan one message through the outbox; False when the customer has no address
        on the channel. A key queued before (a replayed tick) is not queued again: the
        batch's insert skips it and the journal says already_queued."""
        found = self._template(template_key)
        if found is None:
            self.journal(e, "skipped", f"no template {template_key!r}")
            return False
        if found.channel != channel:
            self.journal(e, "skipped", f"template {template_key!r} is for {found.channel}")
            return False
        self.e.messaging.channel(channel)  # MessagingError when it is not available
        recipients = self._recipients(channel, e.customer_id)
        if not recipients:
            return False
        number = self.versions[e.version_id].version
        prefix = message_key(definition.key, number, step_id, e.occurrence, e.customer_id)
        keys = []
        for r in recipients:
            item = self.e.messaging.new_message(found.template, found.version, r, prefix)
            self.fx[e.id].messages.append(_Planned(e.id, item, found, r))
            keys.append(item.idempotency_key)
            if item.is_marketing:
                # Counted by the caps from now on, for this batch's later sends.
                self._recents().setdefault(e.customer_id, []).append((channel, self.naive))
                mine = self.marketing.setdefault(e.customer_id, {})
                mine[item.idempotency_key] = (channel, self.naive)
        self.journal(e, "queued", channel, ("messages", keys))
        return True

    def _grant(
        self, e: Row, definition: ScenarioDefinition, step: GrantPoints | IssueCoupon | Tag
    ) -> None:
        number = self.versions[e.version_id].version
        key = message_key(definition.key, number, step.id, e.occurrence, e.customer_id)
        key = f"{key}:{e.customer_id}"
        grant: dict[str, Any] = {
            "idempotency_key": key,
            "enrollment_id": e.id,
            "customer_id": e.customer_id,
            "kind": "",
            "points": None,
            "coupon_id": None,
            "code": None,
            "tag": None,
            "reason": definition.key,
            "expires_at": None,
            "created_at": self.naive,
            "exported_at": None,
        }
        if isinstance(step, GrantPoints):
            grant["kind"] = "points"
            grant["points"] = step.points
            grant["reason"] = step.reason or definition.key
            grant["expires_at"] = self.naive + timedelta(days=step.expires_days)
        elif isinstance(step, IssueCoupon):
            grant["kind"] = "coupon"
            grant["coupon_id"] = step.coupon_id
            # 80 random bits: unguessable, and only letters A-F and digits to type.
            grant["code"] = secrets.token_hex(10).upper()
            grant["expires_at"] = self.naive + timedelta(days=step.expires_days)
        else:
            grant["kind"] = "tag_add" if step.add else "tag_remove"
            grant["tag"] = step.add or step.remove
        self.fx[e.id].grants.append(grant)
        detail = grant["tag"] or grant["coupon_id"] or str(grant["points"])
        self.journal(e, grant["kind"], detail, ("grant", key))

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
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from tokui.analytics.base import purchases
from tokui.clock import Clock, utc_naive
from tokui.features.hashing import HASH_SPACE, stable_hash
from tokui.messaging.consent import current_consent
from tokui.messaging.recipients import resolve
from tokui.messaging.service import Messaging, MessagingError, Recipient
from tokui.messaging.store import get_template, get_version
from tokui.messaging.templates import TemplateRenderError
from tokui.privacy.suppression import SuppressionChecker, load_checker
from tokui.scenarios import store
from tokui.scenarios.conditions import definitions, matching, segment_members
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
from tokui.scenarios.policy import SendPolicy, cap_until, quiet_until, zone
from tokui.scenarios.timing import wait_target
from tokui.scenarios.triggers import fire
from tokui.segments.compile import SegmentError
from tokui.segments.dsl import SegmentDefinition
from tokui.state.db import session_scope
from tokui.state.scenarios import Enrollment, Grant, JourneyEntry, Scenario, ScenarioVersion

OPT_IN = {"email": "email_opt_in", "line": "line_opt_in", "postal_dm": "dm_opt_in"}
OPT_IN |= {"push": "push_opt_in"}
MAX_STEPS_PER_RUN = 100
RECHECK = timedelta(hours=1)  # how often a wait_until looks for its event


@dataclass
class TickStats:
    enrolled: int = 0
    advanced: int = 0
    queued: int = 0
    held: int = 0
    skipped: int = 0
    finished: dict[str, int] = field(default_factory=dict)

    def finish(self, status: str) -> None:
        self.finished[status] = self.finished.get(status, 0) + 1


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
        batch_size: int = 200,
    ) -> None:
        self.messaging = messaging
        self.ws = messaging.ws
        self.clock = clock
        self.policy = policy or SendPolicy()
        self.batch_size = batch_size
        self._definitions: dict[int, ScenarioDefinition] = {}

    @property
    def con(self) -> Any:
        return self.ws.warehouse

    def _now(self) -> datetime:
        return self.clock.now().astimezone(UTC)

    def tick(self) -> TickStats:
        stats = TickStats()
        self.enroll(stats)
        self.advance(stats)
        return stats

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
        fired = self._apply_reentry(db, scenario, definition, fired, now)
        if not fired:
            return 0
        at = utc_naive(now)
        first = definition.steps[0].id
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
                "entered_at": at,
                "updated_at": at,
                "note": "",
            }
            for f in fired
        ]
        ins = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
        stmt = ins(Enrollment).on_conflict_do_nothing(
            index_elements=["scenario_id", "customer_id", "occurrence"]
        )
        result = db.execute(stmt.returning(Enrollment.id), rows)
        return len(result.all())

    def _apply_reentry(
        self,
        db: Session,
        scenario: Scenario,
        definition: ScenarioDefinition,
        fired: list[Any],
        now: datetime,
    ) -> list[Any]:
        if not fired:
            return fired
        rules = definition.entry
        ids = sorted({f.customer_id for f in fired})
        past: dict[str, list[tuple[datetime, str | None, str]]] = {}
        for start in range(0, len(ids), 500):
            for cid, entered, finished, status in db.execute(
                select(
                    Enrollment.customer_id,
                    Enrollment.entered_at,
                    Enrollment.finished_at,
                    Enrollment.status,
                ).where(
                    Enrollment.scenario_id == scenario.id,
                    Enrollment.customer_id.in_(ids[start : start + 500]),
                )
            ):
                past.setdefault(cid, []).append((entered, finished, status))  # type: ignore[arg-type]
        out = []
        taken: dict[str, int] = {}
        naive = utc_naive(now)
        for f in fired:
            history = past.get(f.customer_id, [])
            count = len(history) + taken.get(f.customer_id, 0)
            if rules.max_entries is not None and count >= rules.max_entries:
                continue
            if any(status == "active" for _, _, status in history):
                continue  # one journey at a time per scenario
            if count and rules.reentry == "never":
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

    def _definition(self, version: ScenarioVersion) -> ScenarioDefinition:
        found = self._definitions.get(version.id)
        if found is None:
            found = self._definitions[version.id] = store.load_version(version)
        return found

    # advancing ------------------------------------------------------------------
    def advance(self, stats: TickStats, max_batches: int = 1000) -> None:
        for _ in range(max_batches):
            with session_scope(self.ws.sessions) as db:
                n = self._advance_batch(db, stats)
            if n < self.batch_size:
                return

    def _claim(self, db: Session, now: datetime) -> list[Enrollment]:
        q = (
            select(Enrollment)
            .join(Scenario, Scenario.id == Enrollment.scenario_id)
            .where(
                Enrollment.status == "active",
                Enrollment.due_at <= utc_naive(now),
                Scenario.status == "enabled",
            )
            .order_by(Enrollment.due_at, Enrollment.id)
            .limit(self.batch_size)
        )
        if db.get_bind().dialect.name == "postgresql":
            q = q.with_for_update(of=Enrollment, skip_locked=True)
        return list(db.scalars(q))

    def _advance_batch(self, db: Session, stats: TickStats) -> int:
        now = self._now()
        batch = self._claim(db, now)
        if not batch:
            return 0
        run = _Run(self, db, now, stats, batch)
        for e in batch:
            try:
                with db.begin_nested():
                    run.advance(e)
            except (TemplateRenderError, MessagingError, SegmentError) as exc:
                # One customer's broken message (or a condition naming a feature that no
                # longer exists) must not hold the whole batch back: that enrollment
                # stops, with the reason, and the rest go on.
                db.refresh(e)
                run.finish(e, "stopped", f"error: {exc}")
        stats.advanced += len(batch)
        return len(batch)


class _Run:
    """One batch in one transaction, with what the steps read loaded once."""

    def __init__(
        self,
        engine: Engine,
        db: Session,
        now: datetime,
        stats: TickStats,
        batch: list[Enrollment],
    ) -> None:
        self.e = engine
        self.db = db
        self.now = now
        self.naive = utc_naive(now)
        self.stats = stats
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
        self._segments: dict[str, SegmentDefinition] | None = None
        self.ids = ids
        self._resolved: dict[str, dict[str, list[Recipient]]] = {}
        self._matched: dict[tuple[int, str], set[str]] = {}
        self._events: dict[tuple[str, str | None], dict[str, list[Any]]] = {}
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
        rows = c.filter(c.customer_id.isin(ids)).select(*cols).to_pyarrow().to_pylist()
        return {str(r["customer_id"]): r for r in rows}

    @property
    def checker(self) -> SuppressionChecker:
        if self._checker is None:
            self._checker = load_checker(self.db, self.e.ws.settings.secret_key)
        return self._checker

    def journal(
        self, e: Enrollment, outcome: str, detail: str = "", outbox_id: int | None = None
    ) -> None:
        self.db.add(
            JourneyEntry(
                enrollment_id=e.id,
                step_id=e.step_id or "",
                outcome=outcome,
                detail=detail[:300],
                outbox_id=outbox_id,
                at=self.naive,
            )
        )

    def finish(self, e: Enrollment, status: str, note: str = "") -> None:
        e.status = status
        e.finished_at = self.naive
        e.updated_at = self.naive
        e.note = note[:200]
        self.stats.finish(status)

    def move(self, e: Enrollment, target: str | None) -> None:
        e.step_id = target
        e.step_started_at = self.naive
        e.updated_at = self.naive
        e.due_at = self.naive

    def advance(self, e: Enrollment) -> None:
        definition = self.e._definition(self.versions[e.version_id])
        scenario = self.scenarios[e.scenario_id]
        if e.customer_id not in self.customers:
            self.finish(e, "stopped", "customer no longer in the warehouse")
            return
        if definition.goal is not None and self._goal_reached(e, definition):
            self.journal(e, "goal")
            self.finish(e, "converted")
            return
        for _ in range(MAX_STEPS_PER_RUN):
            if e.step_id is None:
                self.finish(e, "completed")
                return
            step = definition.step(e.step_id)
            follow = step.next or definition.following(step.id)
            outcome = self.run_step(e, scenario, definition, step, follow)
            if outcome == "stay":
                return
            if e.status != "active":
                return

    def _load_orders(self, batch: list[Enrollment]) -> None:
        """The batch's orders since its earliest entry, read once (goal checks)."""
        with_goal = [
            x for x in batch if self.e._definition(self.versions[x.version_id]).goal is not None
        ]
        self.orders: dict[str, list[tuple[datetime, str]]] = {}
        self.items: dict[str, set[tuple[str | None, str | None]]] = {}
        if not with_goal:
            return
        since = min(x.entered_at for x in with_goal)
        ids = sorted({x.customer_id for x in with_goal})
        o = purchases(self.e.con)
        o = o.filter(o.customer_id.isin(ids) & (o.ordered_at > since))
        rows = o.select("customer_id", "ordered_at", "order_id").to_pyarrow().to_pylist()
        for r in rows:
            self.orders.setdefault(str(r["customer_id"]), []).append(
                (r["ordered_at"], str(r["order_id"]))
            )
        if rows:
            items = self.e.con.table("order_items")
            order_ids = sorted({str(r["order_id"]) for r in rows})
            found = (
                items.filter(items.order_id.isin(order_ids))
                .select("order_id", "product_id", "category")
                .to_pyarrow()
                .to_pylist()
            )
            for r in found:
                self.items.setdefault(str(r["order_id"]), set()).add(
                    (r["product_id"], r["category"])
                )

    def _goal_reached(self, e: Enrollment, definition: ScenarioDefinition) -> bool:
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

    def _recipients(self, channel: str, customer_id: str) -> list[Recipient]:
        """The customer's addresses on the channel, resolved for the whole batch at once."""
        if channel not in self._resolved:
            by: dict[str, list[Recipient]] = {}
            for r in resolve(self.e.messaging, self.db, channel, self.ids).recipients:
                by.setdefault(str(r.customer_id), []).append(r)
            self._resolved[channel] = by
        return self._resolved[channel].get(customer_id, [])

    # steps ----------------------------------------------------------------------
    def run_step(
        self,
        e: Enrollment,
        scenario: Scenario,
        definition: ScenarioDefinition,
        step: Step,
        follow: str | None,
    ) -> str:
        """Carry out one step; "stay" when the enrollment waits, else "next"."""
        customer = self.customers[e.customer_id]
        started = (e.step_started_at or self.naive).replace(tzinfo=UTC)
        if isinstance(step, Wait):
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
            e.arm = arm.name
            self.journal(e, "arm", arm.name)
            self.move(e, arm.next or follow)
        elif isinstance(step, Holdout):
            if bucket("holdout:" + step.id, definition.key, e.customer_id) * 100 < step.percent:
                self.journal(e, "holdout")
                self.finish(e, "holdout")
                return "stay"
            self.move(e, follow)
        elif isinstance(step, Send):
            return self._send(e, scenario, definition, step, follow, customer)
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

    def _happened(self, e: Enrollment, step: WaitUntil, started: datetime) -> bool:
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
            o = purchases(con)
            hit = o.filter(o.customer_id.isin(self.ids) & (o.ordered_at > since))
            rows = hit.select("customer_id", at=hit.ordered_at)
        elif step.event in ("cart_add", "product_view"):
            if "web_events" not in con.list_tables():
                return {}
            w = con.table("web_events")
            hit = w.filter(
                w.customer_id.isin(self.ids)
                & (w.event_type == step.event)
                & (w.occurred_at > since)
            )
            rows = hit.select("customer_id", at=hit.occurred_at)
        else:
            if "segment_events" not in con.list_tables():
                return {}
            seg = con.table("segment_events")
            kind = "entered" if step.event == "segment_entry" else "exited"
            local_start = self.earliest_start.astimezone(self.e.messaging.tz).date()
            hit = seg.filter(
                seg.customer_id.isin(self.ids)
                & (seg.segment_key == step.segment)
                & (seg.event == kind)
                & (seg.as_of >= local_start)
            )
            rows = hit.select("customer_id", at=hit.as_of)
        out: dict[str, list[Any]] = {}
        for r in rows.to_pyarrow().to_pylist():
            out.setdefault(str(r["customer_id"]), []).append(r["at"])
        return out

    def _matches(self, e: Enrollment, step: Branch) -> bool:
        """Evaluated once per step for the whole batch: features do not change within it."""
        key = (e.version_id, step.id)
        if key not in self._matched:
            if self._segments is None:
                self._segments = definitions(self.e.ws.sessions)
            where = f"steps ({step.id}).condition"
            self._matched[key] = matching(
                self.e.con, self._segments, step.condition, self.ids, where
            )
        return e.customer_id in self._matched[key]

    def _allowed(self, customer: dict[str, Any], channel: str, marketing: bool) -> str | None:
        """Why the customer may not get this message now (None: they may)."""
        cid = str(customer["customer_id"])
        if self.checker.is_suppressed(
            email=customer.get("email"),
            phone=customer.get("phone"),
            line_user_id=customer.get("line_user_id"),
            customer_id=cid,
        ):
            return "suppressed"
        if marketing and channel in OPT_IN:
            consent = current_consent(self.db, [cid], channel).get(cid)
            if consent is None:
                consent = bool(customer.get(OPT_IN[channel]))
            if not consent:
                return f"no consent to {channel}"
        return None

    def _send(
        self,
        e: Enrollment,
        scenario: Scenario,
        definition: ScenarioDefinition,
        step: Send,
        follow: str | None,
        customer: dict[str, Any],
    ) -> str:
        tz = zone(customer.get("time_zone"))
        quiet = quiet_until(self.now, tz, self.e.policy)
        if quiet is not None:
            e.due_at = utc_naive(quiet)
            self.journal(e, "held_quiet_hours")
            self.stats.held += 1
            return "stay"
        options = [(step.channel, step.template)]
        if step.fallback_channel and step.fallback_template:
            options.append((step.fallback_channel, step.fallback_template))
        reasons = []
        for channel, template_key in options:
            template = get_template(self.db, template_key)
            if template is None:
                reasons.append(f"{channel}: no template {template_key!r}")
                continue
            why = self._allowed(customer, channel, template.is_marketing)
            if why is not None:
                reasons.append(f"{channel}: {why}")
                continue
            if template.is_marketing:
                free = cap_until(self.db, e.customer_id, channel, self.now, self.e.policy)
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
        e: Enrollment,
        definition: ScenarioDefinition,
        step_id: str,
        channel: str,
        template_key: str,
        customer: dict[str, Any],
        marketing: bool,
    ) -> bool:
        """Queue one message through the outbox; False when the customer has no address
        on the channel. A key queued before (a replayed tick) is not queued again."""
        template = get_template(self.db, template_key)
        if template is None:
            self.journal(e, "skipped", f"no template {template_key!r}")
            return False
        if template.channel != channel:
            self.journal(e, "skipped", f"template {template_key!r} is for {template.channel}")
            return False
        version = get_version(self.db, template, None)
        recipients = self._recipients(channel, e.customer_id)
        if not recipients:
            return False
        number = self.versions[e.version_id].version
        prefix = message_key(definition.key, number, step_id, e.occurrence, e.customer_id)
        rows = self.e.messaging.queue(self.db, template, version, recipients, prefix)
        for row in rows:
            self.journal(e, "queued", channel, row.id)
            self.stats.queued += 1
        if not rows:
            self.journal(e, "already_queued", channel)
        return True

    def _grant(
        self, e: Enrollment, definition: ScenarioDefinition, step: GrantPoints | IssueCoupon | Tag
    ) -> None:
        number = self.versions[e.version_id].version
        key = message_key(definition.key, number, step.id, e.occurrence, e.customer_id)
        key = f"{key}:{e.customer_id}"
        if self.db.scalar(select(Grant.id).where(Grant.idempotency_key == key)) is not None:
            return
        grant = Grant(
            idempotency_key=key,
            enrollment_id=e.id,
            customer_id=e.customer_id,
            created_at=self.naive,
            reason=definition.key,
        )
        if isinstance(step, GrantPoints):
            grant.kind = "points"
            grant.points = step.points
            grant.reason = step.reason or definition.key
            grant.expires_at = self.naive + timedelta(days=step.expires_days)
        elif isinstance(step, IssueCoupon):
            grant.kind = "coupon"
            grant.coupon_id = step.coupon_id
            # 80 random bits: unguessable, and only letters A-F and digits to type.
            grant.code = secrets.token_hex(10).upper()
            grant.expires_at = self.naive + timedelta(days=step.expires_days)
        else:
            grant.kind = "tag_add" if step.add else "tag_remove"
            grant.tag = step.add or step.remove
        self.db.add(grant)
        self.journal(e, grant.kind, grant.tag or grant.coupon_id or str(grant.points))

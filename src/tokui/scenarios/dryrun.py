"""Dry run: who would have entered a scenario over the last N days, and which messages
would have gone out, computed from the warehouse without writing anything.

The trigger is evaluated over the whole period at once (triggers give the same entries
for one long window as for many short ones, each with the moment it fired) and the entry
rules are applied in time order; each entrant's path is walked with the real timing
(waits, quiet hours) and the real history (orders reach the goal, events end a
wait_until). The warehouse is read a handful of times per run, not per entrant: the
entrants' orders, addresses, consent and condition results are loaded once. Condition
steps and entry conditions read today's customer_features (the warehouse keeps no history
of them), and frequency caps between scenarios are not simulated; both are stated in the
report. A customer on a journey of the scenario does not enter it again until it ends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from tokui.analytics.base import purchases
from tokui.clock import Clock, utc_naive
from tokui.messaging.consent import current_consent
from tokui.messaging.store import get_template
from tokui.privacy.suppression import load_checker
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
    Tag,
    Wait,
    WaitUntil,
    Webhook,
)
from tokui.scenarios.engine import OPT_IN, bucket
from tokui.scenarios.policy import SendPolicy, quiet_until, zone
from tokui.scenarios.timing import wait_target
from tokui.scenarios.triggers import Fired, fire
from tokui.state.db import session_scope
from tokui.workspace import Workspace

NOTES = (
    "condition steps use today's customer features",
    "frequency caps across scenarios are not simulated",
    "score and segment triggers see only the refreshes kept in the warehouse",
)


@dataclass(frozen=True)
class PlannedMessage:
    customer_id: str
    step_id: str
    channel: str
    template: str
    at: datetime  # aware UTC


@dataclass
class DryRun:
    scenario: str
    since: datetime
    until: datetime
    entered: list[tuple[str, str, datetime]] = field(default_factory=list)
    messages: list[PlannedMessage] = field(default_factory=list)
    actions: list[tuple[str, str, str]] = field(default_factory=list)  # customer, step, kind
    outcomes: dict[str, int] = field(default_factory=dict)
    later: int = 0  # messages that would go out after `until`
    # Sends held (not dropped) per (step, reason): "quiet_hours" or "cap".
    held: dict[tuple[str, str], int] = field(default_factory=dict)
    notes: tuple[str, ...] = NOTES

    def count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    def hold(self, step_id: str, reason: str) -> None:
        self.held[(step_id, reason)] = self.held.get((step_id, reason), 0) + 1


class _Walker:
    def __init__(
        self, ws: Workspace, db: Session, definition: ScenarioDefinition, until: datetime
    ) -> None:
        self.ws = ws
        self.db = db
        self.d = definition
        self.until = until
        self.con = ws.warehouse
        self.tz = zone(ws.settings.timezone)
        self.policy = SendPolicy()
        self.segments = definitions(ws.sessions)
        self.checker = load_checker(db, ws.settings.secret_key)
        # The marketing messages planned so far per customer, for the frequency caps
        # between this scenario's own messages (re-entries included).
        self.planned: dict[str, list[tuple[str, datetime]]] = {}
        self.ids: list[str] = []
        self.orders: dict[str, list[tuple[datetime, str]]] = {}
        self.goal_orders: set[str] = set()
        self.templates: dict[str, Any] = {}
        self.consent: dict[str, dict[str, bool]] = {}
        self.matches: dict[str, set[str]] = {}

    def preload(self, ids: list[str], since: datetime) -> None:
        """The entrants' orders since the period began (goal and wait_until order), read
        once; the goal's product or category narrows a second set."""
        self.ids = ids
        if not ids:
            return
        o = purchases(self.con)
        o = o.filter(o.customer_id.isin(ids) & (o.ordered_at > utc_naive(since)))
        rows = o.select("customer_id", "ordered_at", "order_id").to_pyarrow().to_pylist()
        for r in rows:
            at = r["ordered_at"].replace(tzinfo=UTC)
            self.orders.setdefault(str(r["customer_id"]), []).append((at, str(r["order_id"])))
        goal = self.d.goal
        if goal is not None and (goal.product_id or goal.category) and rows:
            items = self.con.table("order_items")
            items = items.filter(items.order_id.isin(sorted({str(r["order_id"]) for r in rows})))
            if goal.product_id:
                items = items.filter(items.product_id == goal.product_id)
            if goal.category:
                items = items.filter(items.category == goal.category)
            self.goal_orders = {str(x) for x in items.order_id.to_pyarrow().to_pylist()}

    def _template(self, key: str) -> Any:
        if key not in self.templates:
            self.templates[key] = get_template(self.db, key)
        return self.templates[key]

    def _consents(self, channel: str) -> dict[str, bool]:
        if channel not in self.consent:
            self.consent[channel] = current_consent(self.db, self.ids, channel)
        return self.consent[channel]

    def _matches(self, step: Branch) -> set[str]:
        if step.id not in self.matches:
            self.matches[step.id] = matching(
                self.con, self.segments, step.condition, self.ids, step.id
            )
        return self.matches[step.id]

    def _cap_free(self, cid: str, channel: str, now: datetime) -> datetime | None:
        """When the caps let another marketing message go: policy.cap_until's rule over
        the planned messages instead of the outbox."""
        caps = [("*", c) for c in self.policy.caps.get("*", ())]
        caps += [(channel, c) for c in self.policy.caps.get(channel, ())]
        free: datetime | None = None
        for scope, cap in caps:
            times = sorted(
                (
                    at
                    for ch, at in self.planned.get(cid, [])
                    if (scope == "*" or ch == scope) and now - cap.window < at <= now
                ),
                reverse=True,
            )
            if len(times) >= cap.limit:
                at = times[cap.limit - 1] + cap.window
                free = at if free is None or at > free else free
        return free

    def customers(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        c = self.con.table("customers")
        cols = ["customer_id", "email", "phone", "line_user_id", "time_zone", "birth_date"]
        cols += ["registered_at", *OPT_IN.values()]
        rows = c.filter(c.customer_id.isin(ids)).select(*cols).to_pyarrow().to_pylist()
        return {str(r["customer_id"]): r for r in rows}

    def _ordered(self, cid: str, after: datetime, until: datetime, goal: bool) -> bool:
        narrow = (
            goal and self.d.goal is not None and (self.d.goal.product_id or self.d.goal.category)
        )
        return any(
            after < at <= until and (not narrow or order_id in self.goal_orders)
            for at, order_id in self.orders.get(cid, [])
        )

    def _marketing(self, template: str) -> bool:
        t = self._template(template)
        return t is not None and bool(t.is_marketing)

    def _reachable(self, customer: dict[str, Any], channel: str, template: str) -> bool:
        t = self._template(template)
        if t is None or t.channel != channel:
            return False
        cid = str(customer["customer_id"])
        address = {"email": customer.get("email"), "line": customer.get("line_user_id")}
        if channel in address and not address[channel]:
            return False
        if self.checker.is_suppressed(
            email=customer.get("email"),
            phone=customer.get("phone"),
            line_user_id=customer.get("line_user_id"),
            customer_id=cid,
        ):
            return False
        if t.is_marketing and channel in OPT_IN:
            consent = self._consents(channel).get(cid)
            return bool(customer.get(OPT_IN[channel])) if consent is None else consent
        return True

    def walk(
        self, report: DryRun, cid: str, customer: dict[str, Any], entered: datetime
    ) -> datetime:
        """Walk one entry; when the journey ends (`until` or later if it is still on)."""
        now = entered
        step_id: str | None = self.d.steps[0].id
        goal_end = entered + timedelta(days=self.d.goal.within_days) if self.d.goal else None
        while step_id is not None:
            if now > self.until:
                report.count("still_active")
                return now
            if goal_end is not None and self._ordered(cid, entered, min(now, goal_end), True):
                report.count("converted")
                return now
            step = self.d.step(step_id)
            follow = step.next or self.d.following(step.id)
            if isinstance(step, Wait):
                target = wait_target(step, now, customer, self.tz)
                now = max(now, target) if target is not None else now
            elif isinstance(step, WaitUntil):
                timeout = now + timedelta(days=step.timeout_days, hours=step.timeout_hours)
                happened = step.event == "order" and self._ordered(cid, now, timeout, False)
                if happened:
                    follow = step.on_event or follow
                else:
                    now, follow = timeout, step.on_timeout or follow
            elif isinstance(step, Branch):
                ok = cid in self._matches(step)
                follow = (step.if_true if ok else step.if_false) or follow
            elif isinstance(step, Split):
                point, acc = bucket("split:" + step.id, self.d.key, cid), 0.0
                total = sum(a.weight for a in step.arms)
                arm = step.arms[-1]
                for candidate in step.arms:
                    acc += candidate.weight / total
                    if point < acc:
                        arm = candidate
                        break
                follow = arm.next or follow
            elif isinstance(step, Holdout):
                if bucket("holdout:" + step.id, self.d.key, cid) * 100 < step.percent:
                    report.count("holdout")
                    return now
            elif isinstance(step, Send):
                tz = zone(customer.get("time_zone"))
                quiet = quiet_until(now, tz, self.policy)
                if quiet is not None:
                    report.hold(step.id, "quiet_hours")
                now = quiet or now
                options = [(step.channel, step.template)]
                if step.fallback_channel and step.fallback_template:
                    options.append((step.fallback_channel, step.fallback_template))
                for channel, template in options:
                    if self._reachable(customer, channel, template):
                        marketing = self._marketing(template)
                        free = self._cap_free(cid, channel, now) if marketing else None
                        if free is not None:
                            report.hold(step.id, "cap")
                            # The engine holds until the cap frees, then checks quiet hours
                            # again when the enrollment comes due.
                            now = quiet_until(free, tz, self.policy) or free
                        if marketing:
                            self.planned.setdefault(cid, []).append((channel, now))
                        if now > self.until:
                            report.later += 1
                        else:
                            report.messages.append(
                                PlannedMessage(cid, step.id, channel, template, now)
                            )
                        break
            elif isinstance(step, CallCenterTask | Webhook | GrantPoints | IssueCoupon | Tag):
                if now <= self.until:
                    report.actions.append((cid, step.id, step.type))
            elif isinstance(step, End):
                follow = None
            step_id = follow
        report.count("completed")
        return now


CHUNK_DAYS = 365  # a trigger window may not pass tokui.scenarios.triggers.MAX_DAYS


def _fired(
    ws: Workspace, definition: ScenarioDefinition, since: datetime, until: datetime
) -> list[tuple[datetime, Fired]]:
    """Every entry the trigger gives over (since, until], in the order it fired, narrowed
    by the entry segment and condition (which read today's features)."""
    con = ws.warehouse
    tz = zone(ws.settings.timezone)
    out: list[tuple[datetime, Fired]] = []
    start = since
    while start < until:
        end = min(start + timedelta(days=CHUNK_DAYS), until)
        for f in fire(con, definition.trigger, start, end, tz):
            out.append((min(max(f.at or end, start), end), f))
        start = end
    ids = sorted({f.customer_id for _, f in out})
    segments = definitions(ws.sessions)
    if definition.entry.segment and ids:
        allowed = segment_members(con, segments, definition.entry.segment, ids)
        out = [(at, f) for at, f in out if f.customer_id in allowed]
    if definition.entry.condition is not None and ids:
        allowed = matching(con, segments, definition.entry.condition, ids, "entry")
        out = [(at, f) for at, f in out if f.customer_id in allowed]
    out.sort(key=lambda x: (x[0], x[1].customer_id, x[1].occurrence))
    return out


def dry_run(ws: Workspace, definition: ScenarioDefinition, clock: Clock, days: int = 90) -> DryRun:
    """Replay the last `days` days; nothing is written anywhere."""
    until = clock.now().astimezone(UTC)
    since = until - timedelta(days=days)
    report = DryRun(definition.key, since, until)
    rules = definition.entry
    taken: dict[str, list[datetime]] = {}
    busy: dict[str, datetime] = {}  # the end of each customer's journey so far
    with session_scope(ws.sessions) as db:
        walker = _Walker(ws, db, definition, until)
        fired = _fired(ws, definition, since, until)
        ids = sorted({f.customer_id for _, f in fired})
        people = walker.customers(ids)
        walker.preload(ids, since)
        for at, f in fired:
            cid = f.customer_id
            past = taken.get(cid, [])
            if cid not in people or (cid in busy and at < busy[cid]):
                continue  # unknown, or still on a journey of this scenario
            if rules.max_entries is not None and len(past) >= rules.max_entries:
                continue
            if past and rules.reentry == "never":
                continue
            recent = past and at - past[-1] < timedelta(days=rules.reentry_days)
            if rules.reentry == "after_days" and recent:
                continue
            taken.setdefault(cid, []).append(at)
            report.entered.append((cid, f.occurrence, at))
            busy[cid] = walker.walk(report, cid, people[cid], at)
        db.rollback()  # read only: nothing of this session is kept
    report.messages.sort(key=lambda m: (m.at, m.customer_id, m.step_id))
    return report

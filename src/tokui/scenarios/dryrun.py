"""Dry run: who would have entered a scenario over the last N days, and which messages
would have gone out, computed from the warehouse without writing anything.

The trigger is replayed day by day with the entry rules; each entrant's path is walked
with the real timing (waits, quiet hours) and the real history (orders reach the goal,
events end a wait_until). Condition steps read today's customer_features (the warehouse
keeps no history of them), and frequency caps between scenarios are not simulated; both
are stated in the report.
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
from tokui.scenarios.triggers import fire
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
    notes: tuple[str, ...] = NOTES

    def count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


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

    def customers(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        c = self.con.table("customers")
        cols = ["customer_id", "email", "phone", "line_user_id", "time_zone", "birth_date"]
        cols += ["registered_at", *OPT_IN.values()]
        rows = c.filter(c.customer_id.isin(ids)).select(*cols).to_pyarrow().to_pylist()
        return {str(r["customer_id"]): r for r in rows}

    def _ordered(self, cid: str, after: datetime, until: datetime, goal: bool) -> bool:
        o = purchases(self.con)
        o = o.filter(
            (o.customer_id == cid)
            & (o.ordered_at > utc_naive(after))
            & (o.ordered_at <= utc_naive(until))
        )
        if goal and self.d.goal is not None and (self.d.goal.product_id or self.d.goal.category):
            items = self.con.table("order_items")
            if self.d.goal.product_id:
                items = items.filter(items.product_id == self.d.goal.product_id)
            if self.d.goal.category:
                items = items.filter(items.category == self.d.goal.category)
            o = o.semi_join(items, "order_id")
        return int(o.count().to_pyarrow().as_py()) > 0

    def _reachable(self, customer: dict[str, Any], channel: str, template: str) -> bool:
        t = get_template(self.db, template)
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
            consent = current_consent(self.db, [cid], channel).get(cid)
            return bool(customer.get(OPT_IN[channel])) if consent is None else consent
        return True

    def walk(self, report: DryRun, cid: str, customer: dict[str, Any], entered: datetime) -> None:
        now = entered
        step_id: str | None = self.d.steps[0].id
        goal_end = entered + timedelta(days=self.d.goal.within_days) if self.d.goal else None
        while step_id is not None:
            if now > self.until:
                report.count("still_active")
                return
            if goal_end is not None and self._ordered(cid, entered, min(now, goal_end), True):
                report.count("converted")
                return
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
                ok = cid in matching(self.con, self.segments, step.condition, [cid], step.id)
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
                    return
            elif isinstance(step, Send):
                quiet = quiet_until(now, zone(customer.get("time_zone")), self.policy)
                now = quiet or now
                options = [(step.channel, step.template)]
                if step.fallback_channel and step.fallback_template:
                    options.append((step.fallback_channel, step.fallback_template))
                for channel, template in options:
                    if self._reachable(customer, channel, template):
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


def dry_run(ws: Workspace, definition: ScenarioDefinition, clock: Clock, days: int = 90) -> DryRun:
    """Replay the last `days` days; nothing is written anywhere."""
    until = clock.now().astimezone(UTC)
    since = until - timedelta(days=days)
    report = DryRun(definition.key, since, until)
    con = ws.warehouse
    tz = zone(ws.settings.timezone)
    taken: dict[str, list[datetime]] = {}
    with session_scope(ws.sessions) as db:
        walker = _Walker(ws, db, definition, until)
        segments = walker.segments
        day = since
        while day < until:
            end = min(day + timedelta(days=1), until)
            fired = fire(con, definition.trigger, day, end, tz)
            if definition.entry.segment:
                allowed = segment_members(
                    con, segments, definition.entry.segment, [f.customer_id for f in fired]
                )
                fired = [f for f in fired if f.customer_id in allowed]
            rules = definition.entry
            entering = []
            for f in fired:
                past = taken.get(f.customer_id, [])
                if rules.max_entries is not None and len(past) >= rules.max_entries:
                    continue
                if past and rules.reentry == "never":
                    continue
                recent = past and end - past[-1] < timedelta(days=rules.reentry_days)
                if rules.reentry == "after_days" and recent:
                    continue
                taken.setdefault(f.customer_id, []).append(end)
                entering.append(f)
            people = walker.customers(sorted({f.customer_id for f in entering}))
            for f in entering:
                if f.customer_id not in people:
                    continue
                report.entered.append((f.customer_id, f.occurrence, end))
                walker.walk(report, f.customer_id, people[f.customer_id], end)
            day = end
        db.rollback()  # read only: nothing of this session is kept
    report.messages.sort(key=lambda m: (m.at, m.customer_id, m.step_id))
    return report

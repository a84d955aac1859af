"""Headline figures of each scenario, read from the state DB (enrollments and journal).

- active: enrollments still on their way (status active);
- entered: enrollments that began in the last `days` days;
- messages: customer messages the scenario queued (journal `queued` on a message
  channel; call-center tasks and webhooks are not messages to the customer);
- converted: enrollments that reached the goal; the rate is over every enrollment that
  was not held out, since a holdout never had the chance to be moved by a message;
- holdouts: enrollments ended by a holdout step.

Pending rows are abandonment timers (tokui.scenarios.timers) that may never become
enrollments: they count nowhere until the customer enters.

Test sends (tokui.scenarios.testsend) create no enrollment and no journal entry, so they
never show here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tokui.clock import utc_naive
from tokui.scenarios.definition import MESSAGE_CHANNELS
from tokui.state.scenarios import Enrollment, JourneyEntry


@dataclass(frozen=True)
class Kpis:
    active: int = 0
    entered_recent: int = 0
    messages: int = 0
    converted: int = 0
    holdouts: int = 0
    enrollments: int = 0

    @property
    def goal_rate(self) -> float | None:
        eligible = self.enrollments - self.holdouts
        return self.converted / eligible if eligible > 0 else None


def scenario_kpis(db: Session, now: datetime, days: int = 30) -> dict[int, Kpis]:
    """Kpis per scenario id; scenarios nobody entered are absent (all zero)."""
    by_status: dict[int, dict[str, int]] = {}
    for sid, status, n in db.execute(
        select(Enrollment.scenario_id, Enrollment.status, func.count())
        .where(Enrollment.status != "pending")
        .group_by(Enrollment.scenario_id, Enrollment.status)
    ):
        by_status.setdefault(int(sid), {})[str(status)] = int(n)
    since = utc_naive(now) - timedelta(days=days)
    recent = {
        int(sid): int(n)
        for sid, n in db.execute(
            select(Enrollment.scenario_id, func.count())
            .where(Enrollment.entered_at >= since, Enrollment.status != "pending")
            .group_by(Enrollment.scenario_id)
        )
    }
    messages = {
        int(sid): int(n)
        for sid, n in db.execute(
            select(Enrollment.scenario_id, func.count(JourneyEntry.id))
            .join(JourneyEntry, JourneyEntry.enrollment_id == Enrollment.id)
            .where(
                JourneyEntry.outcome == "queued",
                JourneyEntry.detail.in_(MESSAGE_CHANNELS),
            )
            .group_by(Enrollment.scenario_id)
        )
    }
    out = {}
    for sid in by_status.keys() | recent.keys() | messages.keys():
        statuses = by_status.get(sid, {})
        out[sid] = Kpis(
            active=statuses.get("active", 0),
            entered_recent=recent.get(sid, 0),
            messages=messages.get(sid, 0),
            converted=statuses.get("converted", 0),
            holdouts=statuses.get("holdout", 0),
            enrollments=sum(statuses.values()),
        )
    return out

"""Who was compared with whom, read from the scenario journal (state DB).

The engine records every assignment in the journal at the moment it happens:

- a holdout step writes `holdout` (the enrollment ends) or `treated` (it goes on);
- a split step writes `arm` with the arm's name in `detail`;
- with a global control group, `global_control` ends the enrollment before any step.

Each comparison is a set of units (unit_id = enrollment id, customer_id, anchor_at,
grp) for tokui.measure.outcomes. Only units whose window has ended by `as_of` are
returned, so a half-observed week does not pull the treatment's conversion rate down.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import pyarrow as pa
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from tokui.measure.outcomes import units_table
from tokui.scenarios import store
from tokui.scenarios.definition import Holdout, ScenarioDefinition, Split
from tokui.state.scenarios import Enrollment, JourneyEntry, Scenario, ScenarioVersion

SelectT = TypeVar("SelectT", bound=Select[*tuple[Any, ...]])


@dataclass(frozen=True)
class Period:
    """Anchors in [start, end) (naive UTC; None: open); windows complete by as_of."""

    as_of: datetime
    start: datetime | None = None
    end: datetime | None = None


def definitions(db: Session, scenario: Scenario) -> list[ScenarioDefinition]:
    """Every stored version of the scenario, oldest first."""
    rows = db.scalars(
        select(ScenarioVersion)
        .where(ScenarioVersion.scenario_id == scenario.id)
        .order_by(ScenarioVersion.version)
    )
    return [store.load_version(r) for r in rows]


def holdout_steps(versions: list[ScenarioDefinition]) -> list[Holdout]:
    """Holdout steps of any version, by id (the newest definition of each id)."""
    found: dict[str, Holdout] = {}
    for d in versions:
        for s in d.steps:
            if isinstance(s, Holdout):
                found[s.id] = s
    return list(found.values())


def split_steps(versions: list[ScenarioDefinition]) -> list[Split]:
    found: dict[str, Split] = {}
    for d in versions:
        for s in d.steps:
            if isinstance(s, Split):
                found[s.id] = s
    return list(found.values())


def window_filter(q: SelectT, at: Any, period: Period, window: timedelta) -> SelectT:
    q = q.where(at <= period.as_of - window)
    if period.start is not None:
        q = q.where(at >= period.start)
    if period.end is not None:
        q = q.where(at < period.end)
    return q


def journal_units(
    db: Session,
    scenario_id: int,
    step_id: str,
    outcomes: dict[str, str],
    period: Period,
    window: timedelta,
    group_from_detail: bool = False,
) -> pa.Table:
    """Units from journal entries of one step: grp is outcomes[outcome] (or the detail)."""
    j = JourneyEntry
    q = (
        select(j.enrollment_id, Enrollment.customer_id, j.at, j.outcome, j.detail)
        .join(Enrollment, Enrollment.id == j.enrollment_id)
        .where(
            Enrollment.scenario_id == scenario_id,
            j.step_id == step_id,
            j.outcome.in_(list(outcomes)),
        )
        .order_by(j.enrollment_id, j.id)
    )
    rows = db.execute(window_filter(q, j.at, period, window)).all()
    seen: set[int] = set()
    ids, customers, anchors, groups = [], [], [], []
    for eid, cid, at, outcome, detail in rows:
        if eid in seen:  # a step runs once per enrollment; guard against a replay
            continue
        seen.add(eid)
        ids.append(eid)
        customers.append(cid)
        anchors.append(at)
        groups.append(detail if group_from_detail else outcomes[outcome])
    return units_table(ids, customers, anchors, groups)


def holdout_units(
    db: Session, scenario_id: int, step_id: str, period: Period, window: timedelta
) -> pa.Table:
    return journal_units(
        db,
        scenario_id,
        step_id,
        {"holdout": "holdout", "treated": "treatment"},
        period,
        window,
    )


def arm_units(
    db: Session, scenario_id: int, step_id: str, period: Period, window: timedelta
) -> pa.Table:
    return journal_units(db, scenario_id, step_id, {"arm": ""}, period, window, True)


def control_units(db: Session, scenario_id: int, period: Period, window: timedelta) -> pa.Table:
    """Every enrollment of the scenario, anchored at entry: `control` for the global
    control group, `treatment` for the rest (their own holdouts included: this compares
    the scenario as it runs with no scenario at all)."""
    e = Enrollment
    # Pending rows are timers that may never become enrollments (tokui.scenarios.timers).
    q = select(e.id, e.customer_id, e.entered_at).where(
        e.scenario_id == scenario_id, e.status != "pending"
    )
    rows = db.execute(window_filter(q, e.entered_at, period, window)).all()
    control = set(
        db.scalars(
            select(JourneyEntry.enrollment_id)
            .join(e, e.id == JourneyEntry.enrollment_id)
            .where(e.scenario_id == scenario_id, JourneyEntry.outcome == "global_control")
        )
    )
    return units_table(
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        ["control" if r[0] in control else "treatment" for r in rows],
    )

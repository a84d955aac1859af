"""Pending enrollments are abandonment timers (tokui.scenarios.timers) that may never
become enrollments: no figure counts them, on the hand-made shop of tests/measure/shop.py."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import Session

from tests.measure.conftest import Stores
from tests.measure.shop import AS_OF, S2, T0, aware
from tokui.measure.journeys import Period, control_units
from tokui.measure.report import build_report
from tokui.scenarios import store
from tokui.scenarios.definition import parse_definition
from tokui.scenarios.kpis import Kpis, scenario_kpis
from tokui.state.db import session_scope
from tokui.state.scenarios import Enrollment

TIMER_ONLY = {**S2, "key": "timer-only", "name_ja": "タイマーのみ", "name_en": "Timer only"}


def _timer(db: Session, key: str, customer: str) -> None:
    scenario = store.get(db, key)
    version = store.version_row(db, scenario)
    due = AS_OF + timedelta(hours=2)
    db.add(
        Enrollment(
            scenario_id=scenario.id,
            version_id=version.id,
            customer_id=customer,
            occurrence="cart:2026-01-15T01:00:00",
            status="pending",
            step_id="line",
            step_started_at=due,
            due_at=due,
            entered_at=AS_OF - timedelta(hours=1),
            updated_at=AS_OF - timedelta(hours=1),
        )
    )


def test_timers_count_nowhere(stores: Stores) -> None:
    with session_scope(stores.sessions) as db:
        store.save(db, parse_definition(TIMER_ONLY), T0)  # a draft with nothing but a timer
        _timer(db, "s1", "t01")
        _timer(db, "s1", "b01")
        _timer(db, "timer-only", "t02")
    with session_scope(stores.sessions) as db:
        figures = scenario_kpis(db, aware(AS_OF), days=30)
        s1 = store.get(db, "s1")
        timer_only = store.get(db, "timer-only")
        units = control_units(db, s1.id, Period(AS_OF + timedelta(days=30)), timedelta(days=7))
    # s1: 10 treated + t11 + 10 held out + 2 in the global control, all completed, all
    # entered in the last 30 days; 11 emails queued (t08's receipt is not the scenario's).
    assert figures[s1.id] == Kpis(
        active=0, entered_recent=23, messages=11, converted=0, holdouts=0, enrollments=23
    )
    assert figures.get(timer_only.id, Kpis()) == Kpis()
    assert units.num_rows == 23
    if stores.kind != "embedded":
        return  # the report reads the same rows; once is enough
    with session_scope(stores.sessions) as db:
        report = build_report(stores.con, db, date(2026, 1, 5), aware(AS_OF))
    assert [s.key for s in report.scenarios] == ["ab", "ab3", "s1", "s2"]

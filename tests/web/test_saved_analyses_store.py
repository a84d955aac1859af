"""Saved analyses in the state DB (SQLite and PostgreSQL) and the analysis time limits
on the warehouse (DuckDB and PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import ibis
import pytest
from ibis.backends import BaseBackend
from sqlalchemy import select

from tokui.analytics import saved
from tokui.analytics.registry import ParamError, Template, get
from tokui.state.db import make_engine, migrate, session_factory, session_scope
from tokui.state.models import AuditLog, Role
from tokui.state.saved_analyses import SavedAnalysis
from tokui.state.users import create_user
from tokui.warehouse import connect
from tokui.web.analysis_runner import (
    AnalysisTimeoutError,
    WarehouseBusyError,
    interrupt_after,
    run_limited,
)

NOW = datetime(2025, 12, 31, 3)


def test_save_list_move_remove(state_url: str) -> None:
    engine = make_engine(state_url)
    migrate(engine)
    factory = session_factory(engine)
    with session_scope(factory) as s:
        owner = create_user(s, "a@example.com", "long-enough-pw", Role.analyst).id
        a = saved.add(s, get("rfm"), {"as_of": "2025-12-31", "method": ""}, " R  F M ", owner, NOW)
        b = saved.add(s, get("cpm"), {"churn_days": "180"}, "CPM", owner, NOW)
        c = saved.add(s, get("rfm_grid"), {}, "Grid", None, NOW)
        ids = [a.id, b.id, c.id]
    with session_scope(factory) as s:
        loaded = saved.list_saved(s)
        assert [x.id for x in loaded] == ids
        assert [x.position for x in loaded] == [1, 2, 3]
        # Whitespace in titles collapses; empty parameters are not stored.
        assert loaded[0].title == "R F M"
        assert loaded[0].raw == {"as_of": "2025-12-31"}
        assert loaded[1].raw == {"churn_days": "180"}
        assert all(x.error is None and x.template is not None for x in loaded)
    with session_scope(factory) as s:
        saved.move(s, ids[2], "up", owner, NOW)
    with session_scope(factory) as s:
        assert [x.id for x in saved.list_saved(s)] == [ids[0], ids[2], ids[1]]
        saved.move(s, ids[0], "up", owner, NOW)  # already first: nothing changes
    with session_scope(factory) as s:
        assert [x.id for x in saved.list_saved(s)] == [ids[0], ids[2], ids[1]]
        saved.remove(s, ids[2], owner, NOW)
    with session_scope(factory) as s:
        assert [x.id for x in saved.list_saved(s)] == [ids[0], ids[1]]
        actions = s.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()
        assert actions == [
            "analysis.save",
            "analysis.save",
            "analysis.save",
            "analysis.move",
            "analysis.remove",
        ]
    engine.dispose()


def test_invalid_input_is_refused_and_changes_nothing(state_url: str) -> None:
    engine = make_engine(state_url)
    migrate(engine)
    factory = session_factory(engine)
    with session_scope(factory) as s:
        with pytest.raises(ParamError, match="r_thresholds"):
            saved.add(s, get("rfm"), {"r_thresholds": "90,30"}, "x", None, NOW)
        with pytest.raises(ParamError, match="nope"):
            saved.add(s, get("rfm"), {"nope": "1"}, "x", None, NOW)
        with pytest.raises(saved.SavedAnalysisError, match="title"):
            saved.add(s, get("rfm"), {}, "  ", None, NOW)
        with pytest.raises(saved.SavedAnalysisError, match="title"):
            saved.add(s, get("rfm"), {}, "長" * 201, None, NOW)
        with pytest.raises(saved.SavedAnalysisError, match="direction"):
            saved.move(s, 1, "left", None, NOW)
        with pytest.raises(saved.SavedAnalysisError, match="no saved analysis"):
            saved.remove(s, 99, None, NOW)
        assert s.scalars(select(SavedAnalysis)).all() == []
    engine.dispose()


def test_parameters_are_checked_again_on_load(state_url: str) -> None:
    engine = make_engine(state_url)
    migrate(engine)
    factory = session_factory(engine)
    with session_scope(factory) as s:
        for i, (tid, params) in enumerate(
            [
                ("rfm", '{"r_thresholds": "5,1"}'),
                ("rfm", "[1, 2]"),
                ("rfm", "not json"),
                ("vanished", "{}"),
            ]
        ):
            s.add(
                SavedAnalysis(
                    template_id=tid,
                    title=f"t{i}",
                    params=params,
                    owner_id=None,
                    position=i,
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
    with session_scope(factory) as s:
        errors = [x.error for x in saved.list_saved(s)]
    assert errors[0] is not None and "r_thresholds" in errors[0]
    assert errors[1] == "parameters are not an object of text values"
    assert errors[2] is not None and errors[2].startswith("Expecting value")
    assert errors[3] == "no analysis template 'vanished'"
    engine.dispose()


# ---------------------------------------------------------------- time limits


def _slow_sql(con: BaseBackend) -> str:
    if con.name == "duckdb":
        # Ten billion row pairs: minutes of work, far beyond the limit.
        return "SELECT sum(a.range * b.range) AS n FROM range(100000) a, range(100000) b"
    return "SELECT 1 AS n FROM pg_sleep(30)"


def _slow_template(sql: str) -> Template:
    def build(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
        return con.sql(sql)

    return Template("slow_test", "sales", "遅い", "slow", "", "", build)


def test_a_long_analysis_is_interrupted(warehouse_url: str) -> None:
    con = connect(warehouse_url)
    lock = threading.Lock()
    template = _slow_template(_slow_sql(con))
    with pytest.raises(AnalysisTimeoutError, match=r"slow_test ran longer than 0\.5 s"):
        run_limited(con, lock, template, {}, max_seconds=0.5)
    assert not lock.locked()  # released for the next request
    # The connection still works afterwards, and is not interrupted again.
    df, seconds, waited = run_limited(con, lock, _slow_template("SELECT 42 AS n"), {})
    assert df["n"].tolist() == [42]
    assert seconds < 5 and waited < 1


def test_a_busy_warehouse_answers_busy_instead_of_waiting_forever() -> None:
    con = connect("duckdb://:memory:")
    lock = threading.Lock()
    with lock, pytest.raises(WarehouseBusyError, match=r"busy for 0\.2 s"):
        run_limited(con, lock, _slow_template("SELECT 1 AS n"), {}, lock_wait=0.2)


def test_the_timer_never_fires_after_the_block() -> None:
    con = connect("duckdb://:memory:")
    with interrupt_after(con, 0.05) as fired:
        pass
    threading.Event().wait(0.2)
    assert not fired.is_set()
    assert con.sql("SELECT 7 AS n").execute()["n"].tolist() == [7]

"""Model inputs in the warehouse and the scoring run, on every backend we support."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pyarrow as pa
import pytest
from sqlalchemy import select

from tokui.clock import FixedClock
from tokui.demo import SimConfig, generate
from tokui.models.data import summary_data_from_transactions
from tokui.models.run import ModelsConfig, latest_runs, run_models
from tokui.state.db import make_engine, migrate, session_factory, session_scope
from tokui.state.model_runs import ModelRun
from tokui.warehouse import connect


def test_summary_from_transactions(warehouse_url: str) -> None:
    con = connect(warehouse_url)
    rows = [
        ("A", date(2025, 1, 1), 100.0),
        ("A", date(2025, 1, 1), 50.0),  # same day: one purchase occasion worth 150
        ("A", date(2025, 1, 11), 200.0),
        ("A", date(2025, 2, 10), 100.0),
        ("B", date(2025, 2, 20), 80.0),
        ("C", date(2025, 2, 1), 30.0),
        ("C", date(2025, 3, 5), 999.0),  # after the end of the observation period
    ]
    cid, day, amount = zip(*rows, strict=True)
    con.create_table("tx", pa.table({"cid": cid, "day": day, "amount": amount}), overwrite=True)
    out = (
        summary_data_from_transactions(con.table("tx"), "cid", "day", "amount", date(2025, 3, 1))
        .to_pandas()
        .set_index("customer_id")
        .sort_index()
    )
    # A: days 01-01, 01-11, 02-10 -> 2 repeats, 40 days first to last, 59 days old,
    #    mean repeat value (200 + 100) / 2
    assert out.loc["A", ["frequency", "recency", "T", "monetary_value"]].tolist() == [
        2,
        40,
        59,
        150.0,
    ]
    assert out.loc["B", ["frequency", "recency", "T", "monetary_value"]].tolist() == [0, 0, 9, 0.0]
    assert out.loc["C", ["frequency", "recency", "T", "monetary_value"]].tolist() == [0, 0, 28, 0.0]
    con.disconnect()


@pytest.fixture
def state_sessions(state_url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(state_url)
    migrate(engine)
    yield session_factory(engine)
    engine.dispose()


def test_run_models_writes_scores_and_runs(warehouse_url: str, state_sessions) -> None:  # type: ignore[no-untyped-def]
    con = connect(warehouse_url)
    cfg = SimConfig(customers=1_500, years=1, seed=5)
    generate(con, cfg)
    clock = FixedClock(datetime(2026, 11, 1, 3, 0, tzinfo=UTC))
    trained = run_models(con, state_sessions, clock, cfg.end_date, ModelsConfig())
    scores = con.table("customer_scores").to_pandas()
    rfm = trained.rfm
    clv = scores[scores.model == "clv"].set_index("customer_id").sort_index()
    assert len(clv) == len(rfm)
    one = rfm.iloc[0]
    m = trained.transactions
    assert m is not None
    expected = m.conditional_expected_number_of_purchases_up_to_time(
        90, one.frequency, one.recency, one["T"]
    )
    assert clv.loc[one.customer_id, "expected_purchases_90d"] == pytest.approx(float(expected))
    assert clv.p_alive.between(0, 1).all()
    assert (clv.clv_12m >= 0).all()
    nxt = scores[scores.model == "next_purchase"]
    assert nxt.next_purchase_date.notna().all()
    subs = con.table("subscription_scores").to_pandas()
    assert len(subs) == int(trained.subscriptions.active.sum())
    assert subs.p_renew_next.between(0, 1).all()
    assert (subs.derl_deliveries >= subs.p_renew_next).all()
    runs = latest_runs(state_sessions)
    assert {r.model for r in runs} == {
        "clv",
        "next_purchase",
        "sbg",
        "churn_subscription",
        "dormancy",
        "recommendations",
    }
    clv_run = next(r for r in runs if r.model == "clv")
    assert clv_run.data_to == cfg.end_date
    params = json.loads(clv_run.params)
    assert params["transactions"]["model"] == "ModifiedBetaGeoFitter"
    assert json.loads(clv_run.metrics)["customers"] == len(rfm)
    # a second run replaces the tables instead of appending
    run_models(con, state_sessions, clock, cfg.end_date)
    assert con.table("customer_scores").count().execute() == len(scores)
    with session_scope(state_sessions) as s:
        assert len(s.scalars(select(ModelRun)).all()) == 12
    con.disconnect()
